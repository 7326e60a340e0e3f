"""``manage.py apikey``: issue, list, revoke, rotate; every failure writes nothing."""

import argparse
import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from iiniit_auth import keys
from iiniit_auth.conf import auth_settings
from iiniit_auth.management.commands.apikey import Command
from iiniit_auth.models import NEVER, APIKey, CredentialEvent
from tests.orgkeys.models import TeamAPIKey

KEY_LINE = re.compile(r"^Key:\s+(\S+)$", re.MULTILINE)


def run(*args):
    """Run ``apikey *args``; return (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    call_command("apikey", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def database_state():
    """Everything a command could write: each key's changeable fields, and the audit log size."""
    return (
        list(
            APIKey.objects.order_by("public_id").values_list(
                "public_id", "name", "revoked_at", "revoke_reason", "rotated_at", "expires_at"
            )
        ),
        CredentialEvent.objects.count(),
    )


def fails(*args):
    """Run ``apikey *args``, expect CommandError and an unchanged database; return the message."""
    before = database_state()
    with pytest.raises(CommandError) as excinfo:
        run(*args)
    assert database_state() == before
    return str(excinfo.value)


def ping(api, key):
    return api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {key}").status_code


def stored(plaintext):
    """The key row a plaintext belongs to, checked by its digest."""
    key = APIKey.objects.get(public_id=keys.parse(plaintext, auth_settings().KEY_PREFIX))
    assert keys.matches(plaintext, key.digest, auth_settings().PEPPER)
    return key


def near(moment, expected):
    return abs(moment - expected) < timedelta(minutes=1)


# -- issue ---------------------------------------------------------------------------------


def test_issue_prints_the_key_once_with_public_id_expiry_and_scopes(user, api):
    out, err = run(
        "issue",
        "--owner",
        "ann",
        "--name",
        "CI deploy",
        "--scopes",
        "reports:read orders:read",
        "--expires-in",
        "30d",
    )
    plaintext = KEY_LINE.search(out).group(1)
    key = stored(plaintext)
    assert out.count(plaintext) == 1
    assert f"Public id: {key.display_id}" in out
    assert "Scopes:    orders:read reports:read" in out
    assert "shown only this once" in out
    assert err == ""
    assert key.name == "CI deploy"
    assert key.owner == user
    assert key.created_by is None
    assert key.scope_list == ["orders:read", "reports:read"]
    assert near(key.expires_at, timezone.now() + timedelta(days=30))
    event = CredentialEvent.objects.get()
    assert (event.event, event.credential_id, event.actor) == ("issued", key.public_id, None)
    assert ping(api, plaintext) == 200


def test_issue_quiet_prints_exactly_the_key_which_authenticates(user, api):
    out, err = run("issue", "--owner", "ann", "--name", "script", "--scopes", "", "--quiet")
    assert re.fullmatch(r"iik_[0-9A-Za-z]{44}\n", out)
    assert err == ""
    plaintext = out.rstrip("\n")
    stored(plaintext)
    response = api.get("/api/ping/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    assert response.status_code == 200
    assert response.json()["user"] == "ann"


def test_issue_without_expiry_option_uses_the_default_lifetime(user):
    out, _ = run("issue", "--owner", "ann", "--name", "default", "--scopes", "", "--quiet")
    key = stored(out.strip())
    assert near(key.expires_at, timezone.now() + timedelta(days=90))  # tests/settings.py


def test_issue_never_expires(user):
    out, _ = run("issue", "--owner", "ann", "--name", "forever", "--scopes", "", "--never-expires")
    key = stored(KEY_LINE.search(out).group(1))
    assert key.expires_at is None
    assert "Expires:   never" in out


def test_issue_with_networks(user, api):
    out, _ = run(
        "issue",
        "--owner",
        "ann",
        "--name",
        "office",
        "--scopes",
        "orders:read",
        "--networks",
        "10.0.0.0/8 192.168.1.0/24",
    )
    plaintext = KEY_LINE.search(out).group(1)
    assert stored(plaintext).allowed_networks == ["10.0.0.0/8", "192.168.1.0/24"]
    assert "Networks:  10.0.0.0/8 192.168.1.0/24" in out
    headers = {"HTTP_AUTHORIZATION": f"ApiKey {plaintext}"}
    assert api.get("/api/ping/", REMOTE_ADDR="10.1.2.3", **headers).status_code == 200
    assert api.get("/api/ping/", REMOTE_ADDR="172.16.0.1", **headers).status_code == 401


# -- list ----------------------------------------------------------------------------------


@pytest.fixture
def three_keys(issue, other_user):
    """Ann's active key, Ann's revoked key, Bob's active key."""
    active, _ = issue(name="active one", scopes=["orders:read", "reports:read"])
    revoked, _ = issue(name="revoked one")
    revoked.revoke(reason="test")
    bobs, _ = issue(name="bob's", owner=other_user, scopes=[])
    return active, revoked, bobs


def test_list_shows_active_keys_as_a_table(three_keys):
    active, revoked, bobs = three_keys
    out, _ = run("list")
    lines = out.splitlines()
    assert lines[0].split() == [
        "ID",
        "NAME",
        "OWNER",
        "SCOPES",
        "STATUS",
        "EXPIRES",
        "LAST",
        "USED",
    ]
    assert len(lines) == 3
    row = next(line for line in lines if active.display_id in line)
    assert "active one" in row
    assert "ann" in row
    assert "orders:read,reports:read" in row
    assert "active" in row
    assert revoked.display_id not in out
    assert bobs.display_id in out


def test_list_all_includes_revoked_keys(three_keys):
    _, revoked, _ = three_keys
    out, _ = run("list", "--all")
    assert len(out.splitlines()) == 4
    row = next(line for line in out.splitlines() if revoked.display_id in line)
    assert "revoked" in row


def test_list_by_owner(three_keys):
    active, revoked, bobs = three_keys
    out, _ = run("list", "--owner", "bob")
    assert bobs.display_id in out
    assert active.display_id not in out
    out, _ = run("list", "--owner", "ann", "--all")
    assert {active.display_id, revoked.display_id} < set(out.split())
    assert bobs.display_id not in out


def test_list_json_parses_and_never_holds_a_digest(issue, other_user):
    key, plaintext = issue(name="json", scopes=["orders:read"])
    gone, gone_plaintext = issue(name="gone")
    gone.revoke()
    out, _ = run("list", "--json", "--all")
    rows = json.loads(out)
    assert {row["id"] for row in rows} == {key.display_id, gone.display_id}
    row = next(row for row in rows if row["public_id"] == key.public_id)
    assert row["name"] == "json"
    assert row["owner"] == "ann"
    assert row["scopes"] == ["orders:read"]
    assert row["status"] == "active"
    assert row["expires_at"] == key.expires_at.isoformat()
    for row in rows:
        assert "digest" not in row
    for secret in (key.digest, gone.digest, plaintext, gone_plaintext):
        assert secret not in out
    assert json.loads(run("list", "--json")[0])[0]["id"] == key.display_id


def test_list_with_no_keys(db):
    assert run("list")[0] == "No active API keys (--all shows every key).\n"
    assert json.loads(run("list", "--json")[0]) == []


# -- revoke --------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["display", "bare"])
def test_revoke_by_public_id_refuses_the_key_from_the_next_request(issue, api, form):
    key, plaintext = issue()
    assert ping(api, plaintext) == 200
    given = key.display_id if form == "display" else key.public_id
    out, _ = run("revoke", given, "--reason", "left the team")
    assert f"Revoked {key.display_id}" in out
    assert ping(api, plaintext) == 401
    key.refresh_from_db()
    assert key.revoke_reason == "left the team"
    assert key.revoked_by is None
    event = CredentialEvent.objects.filter(event="revoked").get()
    assert (event.credential_id, event.actor, event.details) == (
        key.public_id,
        None,
        {"reason": "left the team"},
    )


def test_display_form_follows_the_key_prefix_setting(settings, issue):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "KEY_PREFIX": "acme"}
    key, _ = issue()
    assert fails("revoke", f"iik_{key.public_id}").startswith("That is not a public id")
    run("revoke", f"acme_{key.public_id}")
    key.refresh_from_db()
    assert key.is_revoked


# -- rotate --------------------------------------------------------------------------------


def test_rotate_with_no_grace_retires_the_old_key_at_once(issue, api):
    key, old = issue(scopes=["orders:read", "reports:read"])
    out, err = run("rotate", key.display_id, "--grace", "0", "--quiet")
    assert re.fullmatch(r"iik_[0-9A-Za-z]{44}\n", out)
    assert err == ""
    new = out.strip()
    successor = stored(new)
    assert successor.predecessor == key
    assert successor.scope_list == ["orders:read", "reports:read"]
    assert ping(api, old) == 401
    assert ping(api, new) == 200


def test_rotate_prints_the_new_key_and_when_the_old_one_stops(issue, api):
    key, old = issue()
    out, _ = run("rotate", key.public_id, "--grace", "1h")
    new = KEY_LINE.search(out).group(1)
    successor = stored(new)
    assert f"Rotated {key.display_id} into {successor.display_id}" in out
    assert out.count(new) == 1
    assert f"The old key {key.display_id} keeps working until" in out
    key.refresh_from_db()
    assert near(key.expires_at, timezone.now() + timedelta(hours=1))
    assert ping(api, old) == 200
    assert ping(api, new) == 200
    rotated = CredentialEvent.objects.get(event="rotated")
    assert rotated.actor is None
    assert rotated.details == {"successor": successor.public_id, "grace_seconds": 3600}


def test_rotate_default_grace_is_a_day(issue):
    key, _ = issue()
    out, _ = run("rotate", key.display_id)
    key.refresh_from_db()
    assert near(key.expires_at, timezone.now() + timedelta(hours=24))
    assert "keeps working until" in out


# -- failures: a clear message, a non-zero exit, nothing written ----------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--owner", "nobody", "--name", "x", "--scopes", ""], 'no user username="nobody"'),
        (["--owner", "ann", "--name", "x", "--scopes", "orders:read nope"], "nope"),
        (["--owner", "ann", "--name", "x", "--scopes", "", "--expires-in", "5x"], "'5x'"),
        (["--owner", "ann", "--name", "x", "--scopes", "", "--expires-in", "30"], "no unit"),
        (["--owner", "ann", "--name", "x", "--scopes", "", "--expires-in", "0"], "longer than 0"),
        (
            [
                "--owner",
                "ann",
                "--name",
                "x",
                "--scopes",
                "",
                "--expires-in",
                "1d",
                "--never-expires",
            ],
            "not allowed with",
        ),
        (["--owner", "ann", "--name", "  ", "--scopes", ""], "--name: A key needs a name."),
        (
            ["--owner", "ann", "--name", "x", "--scopes", "", "--networks", "10.0.0.1/8"],
            "--networks:",
        ),
        (["--owner", "ann", "--name", "x"], "--scopes"),
    ],
    ids=[
        "unknown-owner",
        "unknown-scope",
        "bad-duration",
        "duration-without-unit",
        "zero-lifetime",
        "expiry-and-never",
        "blank-name",
        "bad-network",
        "missing-scopes",
    ],
)
def test_issue_failures_write_nothing(user, args, says):
    assert says in fails("issue", *args)
    assert not APIKey.objects.exists()


def test_unknown_scope_lists_the_registered_ones(user):
    message = fails("issue", "--owner", "ann", "--name", "x", "--scopes", "orders:delete")
    assert "--scopes: Unknown scope(s): orders:delete." in message
    assert "Registered scopes: orders:read, orders:write, reports:read." in message


def test_inactive_owner_is_refused(user):
    user.is_active = False
    user.save()
    assert "--owner: The owner is inactive" in fails(
        "issue", "--owner", "ann", "--name", "x", "--scopes", ""
    )


def test_a_key_in_the_name_or_reason_is_refused_and_not_echoed(issue):
    key, plaintext = issue()
    message = fails("issue", "--owner", "ann", "--name", f"for {plaintext}", "--scopes", "")
    assert "--name must not contain an API key" in message
    assert plaintext not in message
    message = fails("revoke", key.display_id, "--reason", plaintext)
    assert "--reason must not contain an API key" in message
    assert plaintext not in message


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["issue", "--name", "x", "--scopes", "", "--owner", "{key}"], "--owner"),
        (["list", "--owner", "{key}"], "--owner"),
        (["issue", "--owner", "ann", "--name", "x", "--scopes", "orders:read {key}"], "--scopes"),
        (
            ["issue", "--owner", "ann", "--name", "x", "--scopes", "", "--networks", "{key}"],
            "--networks",
        ),
    ],
    ids=["issue-owner", "list-owner", "scopes", "networks"],
)
def test_a_key_in_another_option_is_refused_and_not_echoed(issue, args, says):
    _key, plaintext = issue()
    message = fails(*(arg.format(key=plaintext) for arg in args))
    assert says in message
    assert plaintext[len("iik_") :] not in message


def test_a_name_or_reason_only_key_shaped_as_json_is_accepted(user):
    # The audit log writes "é" as "\u00e9": "u00e9_" + 44 letters is not a key.
    text = "é_" + "A" * keys.BODY_LENGTH
    out, _ = run("issue", "--owner", "ann", "--name", text, "--scopes", "", "--quiet")
    key = stored(out.strip())
    assert key.name == text
    run("revoke", key.display_id, "--reason", text)
    assert APIKey.objects.get(pk=key.pk).revoke_reason == text


@pytest.mark.parametrize("action", ["revoke", "rotate"])
def test_unknown_public_id(db, action):
    assert "There is no API key iik_AAAAAAAAAA" in fails(action, "iik_AAAAAAAAAA")
    assert "There is no API key iik_AAAAAAAAAA" in fails(action, "AAAAAAAAAA")


@pytest.mark.parametrize("action", ["revoke", "rotate"])
@pytest.mark.parametrize("given", ["iik_short", "AAAA", "iik_AAAAAAAAA!", "xyz_AAAAAAAAAA", ""])
def test_malformed_public_id(db, action, given):
    assert fails(action, given).startswith("That is not a public id.")


@pytest.mark.parametrize("action", ["revoke", "rotate"])
def test_a_pasted_key_is_refused_without_echoing_it(issue, api, action):
    key, plaintext = issue()
    secret = plaintext[len("iik_") + keys.PUBLIC_ID_LENGTH :]
    for given in (plaintext, f"ApiKey {plaintext}", plaintext[:-1], plaintext[4:]):
        message = fails(action, given)
        assert "full API key" in message
        assert secret[:-1] not in message
        assert secret[:20] not in message
    assert f"Its public id is {key.display_id}." in fails(action, plaintext)
    assert ping(api, plaintext) == 200


def test_revoking_a_revoked_key(issue):
    key, _ = issue()
    key.revoke()
    assert fails("revoke", key.display_id) == (
        f"Cannot revoke {key.display_id}: This key is already revoked."
    )


def test_rotating_a_revoked_key(issue):
    key, _ = issue()
    key.revoke()
    message = fails("rotate", key.display_id, "--grace", "0")
    assert message.startswith(f"Cannot rotate {key.display_id} (revoked): ")


def test_rotating_a_rotated_key(issue):
    key, _ = issue()
    key.rotate(grace=timedelta(hours=1))
    assert "never rotated" in fails("rotate", key.display_id)


@pytest.mark.parametrize(("grace", "says"), [("-1h", "no sign"), ("1.5h", "whole number")])
def test_rotate_with_a_bad_grace(issue, grace, says):
    key, _ = issue()
    # "--grace=-1h": argparse reads a bare "-1h" as an option, not as the value.
    assert says in fails("rotate", key.display_id, f"--grace={grace}")


def test_rotate_whose_successor_cannot_be_issued_changes_nothing(issue, user):
    key, _ = issue()
    user.is_active = False
    user.save()
    message = fails("rotate", key.display_id, "--grace", "0")
    assert message.startswith(f"Cannot rotate {key.display_id} (active): ")
    assert "The owner is inactive" in message
    key.refresh_from_db()
    assert key.rotated_at is None


def test_rotate_after_a_scope_left_the_registry(issue, settings):
    key, _ = issue(scopes=["reports:read"])
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "SCOPES": {"orders:read": "Read orders"}}
    assert "Unknown scope(s): reports:read" in fails("rotate", key.display_id)


def test_list_unknown_owner(db):
    assert 'no user username="nobody"' in fails("list", "--owner", "nobody")


def test_an_action_is_required(db):
    assert "ACTION" in fails()


# -- the command's own shape ---------------------------------------------------------------


def test_every_option_has_help():
    parser = Command().create_parser("manage.py", "apikey")
    (actions,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(actions.choices) == {"issue", "list", "revoke", "rotate", "remind"}
    for name, subparser in actions.choices.items():
        for action in subparser._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"{name} {action.dest} has no help"


@pytest.mark.parametrize("option", ["--name", "--owner", "--networks"])
def test_text_that_is_not_utf8_is_refused_before_anything_is_written(user, option):
    # A byte that is not UTF-8 in argv reaches Python as a lone surrogate.
    args = {"--owner": user.username, "--name": "deploy", "--networks": ""}
    args[option] = "bad\udcff"
    flat = [word for pair in args.items() for word in pair]

    says = fails("issue", *flat, "--scopes", "orders:read")

    assert f"{option} is not valid UTF-8 text" in says


# --- every key model: --model -------------------------------------------------------------------


def test_model_acts_on_a_projects_own_key_model(user):
    out, _err = run(
        "--model",
        "orgkeys.TeamAPIKey",
        "issue",
        "--owner",
        "ann",
        "--name",
        "team",
        "--scopes",
        "orders:read",
    )

    plaintext = KEY_LINE.search(out)[1]
    public_id = keys.parse(plaintext, auth_settings().KEY_PREFIX)
    team_key = TeamAPIKey.objects.get(public_id=public_id)
    assert not APIKey.objects.exists()
    listed = json.loads(run("--model", "orgkeys.teamapikey", "list", "--json")[0])
    assert [row["public_id"] for row in listed] == [public_id]
    assert json.loads(run("list", "--json")[0]) == []

    run("--model", "orgkeys.TeamAPIKey", "rotate", public_id, "--grace", "0")
    successor = TeamAPIKey.objects.exclude(pk=team_key.pk).get()
    run("--model", "orgkeys.TeamAPIKey", "revoke", successor.public_id, "--reason", "done")
    successor.refresh_from_db()
    assert successor.revoked_at is not None
    assert list(
        CredentialEvent.objects.filter(kind="api_key").order_by("id").values_list("event", "actor")
    ) == [("issued", None), ("issued", None), ("rotated", None), ("revoked", None)]


def test_the_default_model_does_not_find_another_models_key(issue, user):
    team_key, _plaintext = TeamAPIKey.objects.issue(owner=user, name="team", scopes=[])

    assert fails("revoke", team_key.public_id).startswith("There is no API key ")


@pytest.mark.parametrize(
    "label",
    [
        "auth.User",
        "orgkeys.Nothing",
        "APIKey",
        "iiniit_auth.CredentialEvent",
        "orgkeys.ProxyAPIKey",
    ],
)
def test_model_must_name_a_key_model(db, label):
    message = fails("--model", label, "list")

    assert message == (
        f'--model: "{label}" is not a key model. Key models: iiniit_auth.APIKey, '
        "orgkeys.ContractKey, orgkeys.TeamAPIKey."
    )


def test_remind_covers_apikey_only(db):
    assert (
        fails("--model", "orgkeys.TeamAPIKey", "remind") == "remind covers iiniit_auth.APIKey only."
    )


# --- keys that age: list --expiring / --unused --------------------------------------------------


def listed(**aging):
    """The public ids ``apikey list`` prints with the aging options given (as the parser would)."""
    out = StringIO()
    command = Command(stdout=out)
    command.handle_list({"all": False, "owner": None, "json": True, **aging})
    return sorted(row["public_id"] for row in json.loads(out.getvalue()))


@pytest.fixture
def aging_keys(issue):
    now = timezone.now()
    soon, _plaintext = issue(name="soon", expires_at=now + timedelta(days=3))
    later, _plaintext = issue(name="later", expires_at=now + timedelta(days=60))
    idle, _plaintext = issue(name="idle", expires_at=NEVER)
    busy, _plaintext = issue(name="busy", expires_at=NEVER)
    fresh, _plaintext = issue(name="fresh", expires_at=NEVER)
    # Made long ago (created_at is the key's own column, not the audit log's).
    APIKey.objects.filter(pk__in=[idle.pk, busy.pk]).update(created_at=now - timedelta(days=200))
    busy.record_use(now - timedelta(days=1))
    dead, _plaintext = issue(name="dead", expires_at=now + timedelta(days=1))
    dead.revoke()
    return {"soon": soon, "later": later, "idle": idle, "busy": busy, "fresh": fresh, "dead": dead}


def test_list_expiring_shows_active_keys_expiring_within(aging_keys):
    assert listed(expiring=timedelta(days=14)) == [aging_keys["soon"].public_id]
    assert listed(expiring=timedelta(days=90)) == sorted(
        [aging_keys["soon"].public_id, aging_keys["later"].public_id]
    )


def test_list_unused_shows_keys_unused_or_never_used_for_that_long(aging_keys):
    assert listed(unused=timedelta(days=90)) == [aging_keys["idle"].public_id]
    assert listed(unused=timedelta(days=90), expiring=timedelta(days=14)) == []


@pytest.mark.parametrize("option", ["expiring", "unused"])
def test_list_aging_windows_must_be_longer_than_0(db, option):
    with pytest.raises(CommandError, match=f"^--{option} must be longer than 0.$"):
        listed(**{option: timedelta(0)})


def test_list_aging_options_on_the_command_line(aging_keys):
    out, _err = run("list", "--expiring", "14d", "--json")
    assert [row["public_id"] for row in json.loads(out)] == [aging_keys["soon"].public_id]
    out, _err = run("list", "--unused", "90d", "--json")
    assert [row["public_id"] for row in json.loads(out)] == [aging_keys["idle"].public_id]
    assert "'30' has no unit" in fails("list", "--unused", "30")
    assert fails("list", "--expiring", "0") == "--expiring must be longer than 0."


def test_issue_with_a_rate_which_the_key_keeps_through_rotation(user):
    out, _ = run(
        "issue", "--owner", "ann", "--name", "limited", "--scopes", "", "--rate", "100/min"
    )
    key = stored(KEY_LINE.search(out).group(1))
    assert key.rate == "100/min"
    successor, _plaintext = key.rotate()
    assert successor.rate == "100/min"


def test_issue_with_a_bad_rate_writes_nothing(user):
    message = fails(
        "issue", "--owner", "ann", "--name", "limited", "--scopes", "", "--rate", "lots"
    )
    assert message.startswith("--rate")
    assert "e.g. 100/min" in message
    assert not APIKey.objects.exists()
