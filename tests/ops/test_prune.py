"""manage.py audit prune: the retention rule, a dry run unless --yes, recorded as one event."""

import secrets
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from oauth2_provider.models import get_application_model, get_refresh_token_model

from iiniit_auth.audit_ops import prune
from iiniit_auth.models import CredentialEvent
from tests.orgkeys.models import TeamAPIKey

Kind = CredentialEvent.Kind

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def ids():
    return set(CredentialEvent.objects.values_list("pk", flat=True))


@pytest.fixture
def revoked_key(issue):
    key, _plaintext = issue(name="old")
    key.revoke(reason="done")
    return key


def test_a_dry_run_says_what_would_go_and_writes_nothing(old_event, revoked_key):
    old_event(Kind.API_KEY, revoked_key.public_id)
    old_event(Kind.API_KEY, revoked_key.public_id, event="revoked")
    before = ids()

    out = run("prune", "--older-than", "400d")

    assert out.startswith("Would delete 2 events from before ")
    assert out.endswith(" (API key: 2).\nDry run: run again with --yes to delete.\n")
    assert ids() == before
    assert not CredentialEvent.objects.filter(event="pruned").exists()


def test_yes_deletes_old_events_of_dead_credentials_and_records_one_event(old_event, revoked_key):
    gone = old_event(Kind.API_KEY, revoked_key.public_id)
    recent = old_event(Kind.API_KEY, revoked_key.public_id, days=10)
    unknown = old_event(Kind.API_KEY, "nosuchkey1", days=401)

    out = run("prune", "--older-than", "400d", "--yes")

    assert out.startswith("Deleted 2 events from before ")
    assert out.endswith(" (API key: 2). Recorded in the audit log.\n")
    left = ids()
    assert gone.pk not in left
    assert unknown.pk not in left
    assert recent.pk in left
    pruned = CredentialEvent.objects.get(event="pruned")
    assert (pruned.kind, pruned.credential_id, pruned.actor, pruned.actor_name) == (
        "audit_log",
        "*",
        None,
        "",
    )
    assert pruned.details["deleted"] == 2
    assert pruned.details["by_kind"] == {"api_key": 2}
    assert pruned.details["kept_active"] == 0


def test_events_of_active_keys_of_every_key_model_are_kept(old_event, issue, user):
    key, _plaintext = issue()
    team_key, _plaintext = TeamAPIKey.objects.issue(
        owner=user, name="team", scopes=["orders:read"], team="ops"
    )
    kept = [
        old_event(Kind.API_KEY, key.public_id, days=900),
        old_event(Kind.API_KEY, team_key.public_id, days=900),
    ]

    out = run("prune", "--older-than", "400d", "--yes")

    assert "Kept 2 older events of credentials still active." in out
    assert {event.pk for event in kept} <= ids()
    assert CredentialEvent.objects.get(event="pruned").details["kept_active"] == 2


def test_events_of_registered_applications_and_live_tokens_are_kept(
    old_event, oauth_app, oauth_token, user
):
    live, _value = oauth_token()
    dead, _value = oauth_token(expires_in=-60)
    refresh = get_refresh_token_model().objects.create(
        user=user, application=oauth_app, token=secrets.token_urlsafe(30), access_token=live
    )
    Application = get_application_model()
    long_id = Application.objects.create(
        name="Long id",
        user=user,
        client_id="x" * 70,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    kept = [
        old_event(Kind.OAUTH_APPLICATION, oauth_app.client_id, event="created"),
        old_event(Kind.OAUTH_APPLICATION, f"app:{long_id.pk}", event="created"),
        old_event(Kind.OAUTH_TOKEN, str(live.pk)),
        old_event(Kind.OAUTH_TOKEN, f"refresh:{refresh.pk}"),
    ]
    gone = [
        old_event(Kind.OAUTH_APPLICATION, "deleted-client", event="deleted"),
        old_event(Kind.OAUTH_TOKEN, str(dead.pk)),
        old_event(Kind.OAUTH_TOKEN, "refresh:999999"),
    ]

    result = prune(timezone.now() - timedelta(days=400), delete=True)

    assert result.counts == {"oauth_application": 1, "oauth_token": 2}
    assert result.kept_active == 4
    assert {event.pk for event in kept} <= ids()
    assert not {event.pk for event in gone} & ids()


def test_a_run_with_nothing_to_delete_is_recorded_too():
    out = run("prune", "--older-than", "30d", "--yes")

    assert out.startswith("Deleted 0 events from before ")
    assert CredentialEvent.objects.get(event="pruned").details["deleted"] == 0


def test_the_pruned_events_are_themselves_pruned_in_time(old_event):
    old_event(Kind.AUDIT_LOG, "*", event="pruned")

    assert prune(timezone.now() - timedelta(days=400), delete=True).counts == {"audit_log": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "0", "--yes"], "--older-than must be longer than 0."),
        (["--older-than", "400", "--yes"], "'400' has no unit"),
        (["--older-than=-4d", "--yes"], "A duration has no sign"),
        (["--yes"], "the following arguments are required: --older-than"),
    ],
)
def test_bad_input_is_a_clear_error_and_deletes_nothing(old_event, revoked_key, args, message):
    old_event(Kind.API_KEY, revoked_key.public_id)
    before = ids()

    with pytest.raises(CommandError, match=message.replace("(", r"\(")) as raised:
        run("prune", *args)

    assert "Traceback" not in str(raised.value)
    assert ids() == before


def test_the_model_still_refuses_every_other_delete(old_event, revoked_key):
    event = old_event(Kind.API_KEY, revoked_key.public_id)

    with pytest.raises(TypeError, match="append-only"):
        CredentialEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    assert event.pk in ids()


def test_an_action_is_required():
    with pytest.raises(CommandError, match="ACTION"):
        run()
