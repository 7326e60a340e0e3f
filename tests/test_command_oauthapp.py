"""manage.py oauthapp: the OAuth 2.0 server's chores, run as a command line runs them."""

import secrets
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from iiniit_auth.models import CredentialEvent

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("oauthapp", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def expired_token(oauth_app, user):
    return get_access_token_model().objects.create(
        user=user,
        application=oauth_app,
        token=secrets.token_urlsafe(30),
        scope="orders:read",
        expires=timezone.now() - timedelta(minutes=1),
    )


def test_cleartokens_deletes_says_how_many_and_records_it(expired_token):
    out, err = run("cleartokens")

    assert out == (
        "Deleted access tokens: 1, refresh tokens: 0, ID tokens: 0, authorization codes: 0, "
        "redeemed codes: 0. Recorded in the audit log.\n"
    )
    assert err == ""
    assert not get_access_token_model().objects.exists()
    event = CredentialEvent.objects.get(event="cleared")
    assert event.details["access_tokens"] == 1
    assert event.actor is None
    assert event.actor_name == ""


def test_cleartokens_is_quiet_with_verbosity_0(expired_token):
    assert run("--verbosity", "0", "cleartokens") == ("", "")
    assert CredentialEvent.objects.filter(event="cleared").count() == 1


def test_a_setting_the_clean_up_cannot_read_is_an_error_and_deletes_nothing(
    expired_token, settings
):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_EXPIRE_SECONDS": "x"}

    with pytest.raises(CommandError, match=r"^Nothing was deleted: REFRESH_TOKEN_EXPIRE_SECONDS"):
        run("cleartokens")

    assert get_access_token_model().objects.filter(pk=expired_token.pk).exists()
    assert not CredentialEvent.objects.filter(event="cleared").exists()


def test_an_action_is_required():
    with pytest.raises(CommandError, match="ACTION"):
        run()
