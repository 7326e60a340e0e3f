"""iiniit_auth.checks.deploy: the checks of check --deploy that are not about the query string
alone (W004 is in test_checks.py). No database: they read settings only."""

import pytest
from django.core.checks import WARNING, run_checks
from django.db import connections


def found(check_id, *, deploy=True):
    return [
        message
        for message in run_checks(include_deployment_checks=deploy, databases=None)
        if message.id == check_id
    ]


@pytest.fixture
def postgresql(monkeypatch):
    """The default alias's settings as a PostgreSQL project writes them (nothing connects)."""
    options = connections["default"].settings_dict
    monkeypatch.setitem(options, "ENGINE", "django.db.backends.postgresql")
    monkeypatch.setitem(options, "CONN_MAX_AGE", 0)
    monkeypatch.setitem(options, "OPTIONS", {})
    return options


# -- W020 (deploy): PostgreSQL without persistent connections or a pool ---------------------


def test_w020_postgresql_with_a_connection_per_request(postgresql):
    (warning,) = found("iiniit_auth.W020")

    assert warning.level == WARNING
    assert "'default'" in warning.msg
    assert "CONN_MAX_AGE" in warning.hint
    assert "pool" in warning.hint
    assert "docs/deployment.md" in warning.hint


def test_w020_only_with_deploy_checks(postgresql):
    assert found("iiniit_auth.W020", deploy=False) == []


@pytest.mark.parametrize("engine", ["django.contrib.gis.db.backends.postgis"])
def test_w020_postgis_is_postgresql(postgresql, monkeypatch, engine):
    monkeypatch.setitem(postgresql, "ENGINE", engine)
    assert len(found("iiniit_auth.W020")) == 1


def test_w020_not_raised_with_conn_max_age(postgresql, monkeypatch):
    monkeypatch.setitem(postgresql, "CONN_MAX_AGE", 60)
    assert found("iiniit_auth.W020") == []


def test_w020_not_raised_with_persistent_connections(postgresql, monkeypatch):
    monkeypatch.setitem(postgresql, "CONN_MAX_AGE", None)  # None: connections never close
    # None is falsy: the check must tell it from 0.
    assert found("iiniit_auth.W020") == []


@pytest.mark.parametrize("pool", [True, {"min_size": 2, "max_size": 4}])
def test_w020_not_raised_with_a_pool(postgresql, monkeypatch, pool):
    monkeypatch.setitem(postgresql, "OPTIONS", {"pool": pool})
    assert found("iiniit_auth.W020") == []


def test_w020_not_raised_for_sqlite(postgresql, monkeypatch):
    monkeypatch.setitem(postgresql, "ENGINE", "django.db.backends.sqlite3")
    assert found("iiniit_auth.W020") == []


# -- W004's hint: the access logs ---------------------------------------------------------------


def test_w004_points_to_the_access_log_formats(settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "ALLOW_QUERY_PARAM": True}
    (warning,) = found("iiniit_auth.W004")

    assert "docs/deployment.md" in warning.hint
    assert "access log" in warning.hint
