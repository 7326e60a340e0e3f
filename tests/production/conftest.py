"""Fixtures of the production tests: PostgreSQL, Redis and gunicorn, on loopback.

The marker ``production`` selects them (``pytest -m production tests/production``); without
it they are skipped, and with it they skip, saying why, when PostgreSQL or Redis does not
answer.
"""

import pytest

from tests.production import harness

#: Owners (each with one key) the seed makes: every scenario takes fresh ones.
OWNERS = 24


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "production: real servers (gunicorn, uvicorn) on PostgreSQL and Redis, on loopback",
    )


def pytest_collection_modifyitems(config, items):
    # Minutes of real servers: run when asked for by the marker, not in every run of the suite.
    if "production" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="real servers: run with -m production (see docs/deployment.md)")
    for item in items:
        if item.get_closest_marker("production") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def services():
    why = harness.missing_service()
    if why:
        pytest.skip(f"the production tests need PostgreSQL and Redis: {why}")


@pytest.fixture(scope="session")
def seeded(services):
    """The database, created and migrated; the seed's owners, handed out one by one."""
    seed = harness.create_database(OWNERS)
    return {"owners": iter(seed["owners"]), "token": seed["token"]}


@pytest.fixture
def owner(seeded):
    """A fresh owner with one fresh key: {owner, owner_pk, key_pk, public_id, key}."""
    return next(seeded["owners"])


@pytest.fixture(scope="module", params=["redis", "no cache"])
def server(request, seeded, tmp_path_factory):
    """gunicorn, 4 sync workers, with the key cache on Redis or with no cache."""
    cache = request.param == "redis"
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    started = harness.gunicorn(log, workers=4, cache=cache)
    started.cache = cache
    yield started
    started.stop()


@pytest.fixture(scope="module")
def admin(server):
    return harness.Admin(server)
