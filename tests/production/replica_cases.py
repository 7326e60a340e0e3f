"""A revoked credential is refused at once while a lagging replica still has it active.

Runs with ``--ds=tests.production.replica_settings`` (tests/test_lookup.py starts it): a router
sends every read to "replica", every write to "default". Each test copies the rows to the
replica as replication would have, then changes the primary only: the replica lags.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from oauth2_provider.models import get_access_token_model, get_application_model

from iiniit_auth.models import APIKey

pytestmark = pytest.mark.django_db(databases=["default", "replica"])

LAG = timedelta(seconds=5)


def replicate(*objects):
    """Copy each row, as it is on the primary now, to the replica."""
    for obj in objects:
        model = type(obj)
        row = model._base_manager.using("default").get(pk=obj.pk)
        model._base_manager.using("replica").bulk_create([row])


@pytest.fixture
def replicated_key(issue, user):
    key, plaintext = issue()
    replicate(user, key)
    return key, plaintext


def ping(api, plaintext):
    return api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")


def test_the_replica_answers_while_nothing_changed(api, replicated_key):
    _key, plaintext = replicated_key
    assert ping(api, plaintext).status_code == 200


def test_a_revoked_key_is_refused_at_once(api, replicated_key):
    key, plaintext = replicated_key
    key.revoke()

    assert APIKey._base_manager.using("replica").get(pk=key.pk).is_active  # the replica lags
    assert ping(api, plaintext).status_code == 401


def test_a_key_rotated_without_grace_is_refused_at_once(api, replicated_key):
    key, plaintext = replicated_key
    key.rotate(grace=timedelta(0))

    assert ping(api, plaintext).status_code == 401


def test_a_deactivated_owner_is_refused_at_once(api, replicated_key, user):
    _key, plaintext = replicated_key
    user.is_active = False
    user.save()

    assert get_user_model()._base_manager.using("replica").get(pk=user.pk).is_active
    assert ping(api, plaintext).status_code == 401


def test_opting_in_reads_the_replica_and_its_lag(api, replicated_key, settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "LOOKUP_READS_REPLICA": LAG}
    key, plaintext = replicated_key
    key.revoke()

    # The lag the project accepted: the replica still says active, and is believed.
    assert ping(api, plaintext).status_code == 200


def test_a_revoked_oauth_token_is_refused_at_once(api, oauth_token, oauth_app, user):
    token, value = oauth_token()
    replicate(user, oauth_app, token)
    assert api.get("/api/ping/", HTTP_AUTHORIZATION=f"Bearer {value}").status_code == 200

    pk = token.pk
    token.revoke()

    assert get_access_token_model()._base_manager.using("replica").filter(pk=pk).exists()
    assert get_application_model()._base_manager.using("replica").exists()
    assert api.get("/api/ping/", HTTP_AUTHORIZATION=f"Bearer {value}").status_code == 401


def test_with_the_cache_a_deactivated_owners_new_key_is_refused_at_once(
    api, issue, user, cached, commit
):
    # A key the replica has not received yet, cached from the primary: the owner's
    # deactivation must reach its entry, found on the primary too.
    _key, plaintext = issue()
    assert ping(api, plaintext).status_code == 200

    with commit():
        user.is_active = False
        user.save()

    assert ping(api, plaintext).status_code == 401
