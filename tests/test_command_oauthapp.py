"""manage.py oauthapp: the OAuth 2.0 server's chores, run as a command line runs them."""

import json
import re
import secrets
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from iiniit_auth.models import CredentialEvent
from iiniit_auth.oauth.applications import register_application
from iiniit_auth.oauth.models import ApplicationPolicy

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


# --- applications: the lifecycle from the command line ------------------------------------------

Application = get_application_model()


def app_events(event):
    return CredentialEvent.objects.filter(kind="oauth_application", event=event)


@pytest.fixture
def registered(user):
    application, _secret = register_application(
        allowed_scopes="orders:read",
        name="Billing",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    return application


def test_register_prints_the_secret_once_and_records_the_policy(user):
    out, err = run(
        "register",
        "--name",
        "Reports",
        "--grant",
        "authorization-code",
        "--redirect-uris",
        "https://client.example.com/callback",
        "--owner",
        "ann",
        "--scopes",
        "orders:read reports:read",
    )

    application = Application.objects.get(name="Reports")
    lines = out.splitlines()
    assert lines[0] == "Registered Reports."
    assert lines[1] == f"Client id:     {application.client_id}"
    secret = lines[2].removeprefix("Client secret: ")
    assert len(secret) > 40
    assert lines[3] == "Store the secret now: it is shown only this once."
    assert err == ""
    assert check_password(secret, application.client_secret)  # stored hashed
    assert application.user == user
    assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert ApplicationPolicy.objects.allowed_scopes(application) == {"orders:read", "reports:read"}
    created = app_events("created").get()
    assert (created.credential_id, created.actor, created.actor_name) == (
        application.client_id,
        None,
        "",
    )
    assert app_events("scopes_changed").count() == 1
    assert secret not in json.dumps(list(CredentialEvent.objects.values("details")))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grant", "authorization-code"], "--redirect-uris: "),
        (
            ["--grant", "client-credentials", "--redirect-uris", "http://evil.example/cb"],
            "--redirect-uris: ",
        ),
        (["--grant", "client-credentials", "--scopes", "nope:read"], "--scopes: "),
        (
            ["--grant", "client-credentials", "--owner", "nobody"],
            'There is no user username="nobody"',
        ),
        (["--grant", "password"], "argument --grant: invalid choice: 'password'"),
        (["--grant", "client-credentials", "--client-type", "secret"], "invalid choice: 'secret'"),
    ],
)
def test_register_refuses_bad_input_and_writes_nothing(db, args, message):
    with pytest.raises(CommandError, match=re.escape(message)) as raised:
        run("register", "--name", "Bad", *args)

    assert "Traceback" not in str(raised.value)
    assert not Application.objects.exists()
    assert not CredentialEvent.objects.exists()


def test_register_refuses_a_name_holding_a_key(issue):
    _key, plaintext = issue()
    with pytest.raises(CommandError, match=r"--name: A name must not contain a key\.") as raised:
        run("register", "--name", f"app {plaintext}", "--grant", "client-credentials")

    assert plaintext not in str(raised.value)
    assert not Application.objects.exists()


def test_list_shows_every_application_and_never_a_secret(registered):
    out, _err = run("list")

    assert out == (
        f"{registered.client_id}  Billing  client-credentials  confidential  ann  orders:read\n"
    )
    rows = json.loads(run("list", "--json")[0])
    assert rows == [
        {
            "client_id": registered.client_id,
            "name": "Billing",
            "grant": "client-credentials",
            "client_type": "confidential",
            "owner": "ann",
            "allowed_scopes": ["orders:read"],
            "created": registered.created.isoformat(),
        }
    ]
    assert registered.client_secret not in out


def test_list_says_when_there_is_none(db):
    assert run("list") == ("No OAuth applications.\n", "")
    assert run("list", "--json") == ("[]\n", "")


def test_allow_scopes_goes_through_the_policy(registered):
    out, _err = run("allow-scopes", registered.client_id, "--scopes", "reports:read orders:read")

    assert out == "Billing may obtain: orders:read reports:read.\n"
    assert ApplicationPolicy.objects.allowed_scopes(registered) == {"orders:read", "reports:read"}
    changed = app_events("scopes_changed").latest("id")
    assert changed.details["after"] == ["orders:read", "reports:read"]
    assert changed.actor is None

    assert run("allow-scopes", registered.client_id, "--scopes", "")[0] == (
        "Billing may obtain: no scopes.\n"
    )


def test_allow_scopes_refuses_an_unknown_scope(registered):
    before = CredentialEvent.objects.count()
    with pytest.raises(CommandError, match=r"--scopes: .*\nRegistered scopes: "):
        run("allow-scopes", registered.client_id, "--scopes", "nope:write")

    assert ApplicationPolicy.objects.allowed_scopes(registered) == {"orders:read"}
    assert CredentialEvent.objects.count() == before


def test_rotate_secret_prints_the_new_secret_once(registered):
    old = registered.client_secret

    out, _err = run("rotate-secret", registered.client_id)

    lines = out.splitlines()
    assert lines[0] == ("Rotated the client secret of Billing; the old one is refused from now on.")
    secret = lines[2].removeprefix("Client secret: ")
    registered.refresh_from_db()
    assert registered.client_secret != old
    assert check_password(secret, registered.client_secret)
    assert app_events("secret_rotated").get().actor is None


def test_revoke_tokens_revokes_every_token_and_keeps_the_application(registered, user):
    AccessToken = get_access_token_model()
    for _ in range(2):
        AccessToken.objects.create(
            user=user,
            application=registered,
            token=secrets.token_urlsafe(30),
            scope="orders:read",
            expires=timezone.now() + timedelta(hours=1),
        )

    out, _err = run("revoke-tokens", registered.client_id)

    assert out == "Revoked 2 tokens of Billing. It stays registered.\n"
    assert not AccessToken.objects.exists()
    assert Application.objects.filter(pk=registered.pk).exists()
    assert CredentialEvent.objects.filter(kind="oauth_token", event="revoked").count() == 2


def test_delete_revokes_then_deletes_and_records_it(registered):
    client_id = registered.client_id

    out, _err = run("delete", client_id)

    assert out == f"Deleted Billing ({client_id}) after revoking 0 tokens.\n"
    assert not Application.objects.exists()
    deleted = app_events("deleted").get()
    assert (deleted.credential_id, deleted.actor) == (client_id, None)


@pytest.mark.parametrize("action", ["allow-scopes", "rotate-secret", "revoke-tokens", "delete"])
def test_an_unknown_client_id_is_a_clear_error_and_writes_nothing(registered, action):
    extra = ["--scopes", ""] if action == "allow-scopes" else []
    before = CredentialEvent.objects.count()

    with pytest.raises(CommandError, match=r'^There is no OAuth application with client id "nope"'):
        run(action, "nope", *extra)

    assert CredentialEvent.objects.count() == before
    assert Application.objects.filter(pk=registered.pk).exists()


def test_a_pasted_secret_is_refused_unread_and_never_echoed(registered):
    secret = secrets.token_urlsafe(96)

    with pytest.raises(CommandError, match="That is not a client id") as raised:
        run("rotate-secret", secret)

    assert secret not in str(raised.value)
    assert not app_events("secret_rotated").exists()


@pytest.mark.parametrize("action", ["allow-scopes", "rotate-secret", "revoke-tokens", "delete"])
def test_the_client_id_is_required(db, action):
    with pytest.raises(CommandError, match="CLIENT_ID"):
        run(action)


def test_text_that_is_not_utf8_is_refused(registered):
    with pytest.raises(CommandError, match=r"CLIENT_ID is not valid UTF-8 text\."):
        run("delete", "\udcff")

    assert Application.objects.filter(pk=registered.pk).exists()
