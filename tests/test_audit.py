"""CredentialEvent: what each lifecycle write records, in its transaction, append-only, no secrets."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from iiniit_auth import keys
from iiniit_auth.credentials import ClientPrincipal
from iiniit_auth.exceptions import KeyStateError
from iiniit_auth.models import APIKey, CredentialEvent
from iiniit_auth.oauth.tokens import revoke_token

Kind = CredentialEvent.Kind
Event = CredentialEvent.Event


def events():
    return list(CredentialEvent.objects.order_by("id"))


def only_event():
    (event,) = events()
    return event


# --- what each lifecycle write records ---------------------------------------------------------


def test_issue_records_one_issued_event(issue, user, staff):
    before = timezone.now()
    key, _plaintext = issue(
        name="deploy", scopes=["reports:read", "orders:read"], created_by=staff, ip="192.0.2.7"
    )

    event = only_event()
    assert event.kind == Kind.API_KEY
    assert event.credential_id == key.public_id
    assert event.event == Event.ISSUED
    assert event.actor == staff
    assert event.actor_name == "root"
    assert event.ip == "192.0.2.7"
    assert event.details == {
        "name": "deploy",
        "owner": "ann",
        "scopes": ["orders:read", "reports:read"],
    }
    assert before <= event.at <= timezone.now()


def test_issue_without_a_creator_records_no_actor(issue):
    issue()
    event = only_event()
    assert event.actor is None
    assert event.actor_name == ""
    assert event.ip is None


def test_revoke_records_one_revoked_event(issue, staff):
    key, _plaintext = issue()
    key.revoke(actor=staff, reason="leaked", ip="2001:db8::1")

    issued, revoked = events()
    assert issued.event == Event.ISSUED
    assert revoked.kind == Kind.API_KEY
    assert revoked.credential_id == key.public_id
    assert revoked.event == Event.REVOKED
    assert revoked.actor == staff
    assert revoked.actor_name == "root"
    assert revoked.ip == "2001:db8::1"
    assert revoked.details == {"reason": "leaked"}


def test_revoke_without_a_reason_records_empty_details(issue):
    key, _plaintext = issue()
    key.revoke()
    assert events()[-1].details == {}


def test_rotate_records_the_successors_issue_and_the_rotation(issue, staff):
    key, _plaintext = issue(name="ci", scopes=["orders:write"])
    successor, _ = key.rotate(grace=timedelta(minutes=90), actor=staff, ip="198.51.100.4")

    first_issue, successor_issue, rotated = events()
    assert first_issue.credential_id == key.public_id
    assert successor_issue.event == Event.ISSUED
    assert successor_issue.credential_id == successor.public_id
    assert successor_issue.actor == staff
    assert successor_issue.ip == "198.51.100.4"
    assert successor_issue.details == {"name": "ci", "owner": "ann", "scopes": ["orders:write"]}
    assert rotated.kind == Kind.API_KEY
    assert rotated.event == Event.ROTATED
    assert rotated.credential_id == key.public_id
    assert rotated.actor == staff
    assert rotated.actor_name == "root"
    assert rotated.ip == "198.51.100.4"
    assert rotated.details == {"successor": successor.public_id, "grace_seconds": 5400}


def test_refused_lifecycle_calls_record_nothing(issue):
    key, _plaintext = issue()
    key.revoke()
    count = CredentialEvent.objects.count()
    with pytest.raises(KeyStateError):
        key.revoke()
    with pytest.raises(KeyStateError):
        key.rotate(grace=timedelta(hours=1))
    assert CredentialEvent.objects.count() == count


def test_no_event_holds_a_plaintext(issue, staff):
    key, plaintext = issue(created_by=staff)
    successor, successor_plaintext = key.rotate(grace=timedelta(hours=1), actor=staff)
    successor.revoke(actor=staff, reason="rotated again")

    dump = json.dumps(list(CredentialEvent.objects.values()), default=str)
    assert len(events()) == 4
    for secret in (plaintext, successor_plaintext):
        assert secret.split("_", 1)[1] not in dump
        assert keys.digest(secret, None) not in dump


# --- the events share the write's transaction -------------------------------------------------


class Boom(Exception):
    pass


def in_a_transaction_that_fails(write):
    """Run ``write()`` in a transaction that then raises, as a view failing after it would."""
    with transaction.atomic():
        write()
        raise Boom


def test_a_rolled_back_issue_leaves_no_key_and_no_event(issue):
    def write():
        issue()
        assert (APIKey.objects.count(), CredentialEvent.objects.count()) == (1, 1)

    with pytest.raises(Boom):
        in_a_transaction_that_fails(write)
    assert APIKey.objects.count() == 0
    assert CredentialEvent.objects.count() == 0


def test_a_rolled_back_revoke_leaves_the_key_active_and_no_event(issue):
    key, _plaintext = issue()
    with pytest.raises(Boom):
        in_a_transaction_that_fails(lambda: APIKey.objects.get(pk=key.pk).revoke(reason="oops"))
    assert APIKey.objects.get(pk=key.pk).is_active
    assert [event.event for event in events()] == [Event.ISSUED]


def test_a_rolled_back_rotate_leaves_no_successor_and_no_event(issue):
    key, _plaintext = issue()
    with pytest.raises(Boom):
        in_a_transaction_that_fails(
            lambda: APIKey.objects.get(pk=key.pk).rotate(grace=timedelta(hours=1))
        )
    assert list(APIKey.objects.all()) == [key]
    assert APIKey.objects.get(pk=key.pk).rotated_at is None
    assert [event.event for event in events()] == [Event.ISSUED]


# --- append-only -------------------------------------------------------------------------------


def test_an_event_cannot_be_changed(issue):
    issue()
    event = only_event()
    event.details = {"name": "rewritten"}
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.save(update_fields=["details"])
    with pytest.raises(TypeError):
        event.save(force_insert=True)
    assert only_event().details["name"] == "test key"


def test_a_new_event_cannot_overwrite_an_old_one_by_its_id(issue):
    issue()
    old = only_event()
    forged = CredentialEvent(
        pk=old.pk, kind=Kind.API_KEY, credential_id="x", event=Event.REVOKED, details={}
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        forged.save()
    with pytest.raises(TypeError):
        forged.save(force_update=True)
    stored = only_event()
    assert (stored.credential_id, stored.event) == (old.credential_id, Event.ISSUED)


def test_an_event_cannot_be_deleted(issue):
    issue()
    with pytest.raises(TypeError):
        only_event().delete()
    assert CredentialEvent.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"details": {}},
        {"event": Event.REVOKED},
        {"actor": None},
        {"actor_name": ""},
    ],
)
def test_bulk_update_is_refused(issue, staff, change):
    issue(created_by=staff)
    with pytest.raises(TypeError):
        CredentialEvent.objects.update(**change)
    with pytest.raises(TypeError):
        CredentialEvent.objects.filter(kind=Kind.API_KEY).update(**change)
    event = only_event()
    assert (event.actor, event.actor_name, event.event) == (staff, "root", Event.ISSUED)


def test_bulk_update_of_instances_is_refused(issue):
    issue()
    event = only_event()
    event.actor_name = "someone else"
    # bulk_update() opens no savepoint of its own: give it one so the test can go on.
    with pytest.raises(TypeError), transaction.atomic():
        CredentialEvent.objects.bulk_update([event], ["actor_name"])
    assert only_event().actor_name == ""


def test_bulk_delete_is_refused(issue):
    issue()
    with pytest.raises(TypeError):
        CredentialEvent.objects.all().delete()
    with pytest.raises(TypeError):
        CredentialEvent.objects.filter(event=Event.ISSUED).delete()
    assert CredentialEvent.objects.count() == 1


def test_deleting_the_actor_keeps_the_event_and_its_name(issue, user, staff):
    key, _plaintext = issue(created_by=staff)
    key.revoke(actor=staff)
    staff.delete()

    issued, revoked = events()
    for event in (issued, revoked):
        assert event.actor_id is None
        assert event.actor_name == "root"
    assert issued.credential_id == key.public_id


def test_deleting_a_key_owner_keeps_the_trail(issue, user):
    key, _plaintext = issue(created_by=user)
    key.revoke(actor=user)
    user.delete()

    assert APIKey.objects.count() == 0
    assert [(event.event, event.actor_id, event.actor_name) for event in events()] == [
        (Event.ISSUED, None, "ann"),
        (Event.REVOKED, None, "ann"),
    ]


# --- record ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "details",
    [
        lambda key: {"note": key},
        lambda key: {"note": f"see {key}."},
        lambda key: {"nested": {"list": ["fine", key]}},
        lambda key: {key: "as a name"},
        lambda key: {"other prefix": "abc" + key[3:]},
    ],
)
def test_record_refuses_details_holding_a_key(db, details):
    plaintext = keys.generate("iik").plaintext
    with pytest.raises(ValueError, match="shaped like a key") as caught:
        CredentialEvent.record(Kind.API_KEY, "someid", Event.REFUSED, details=details(plaintext))
    assert plaintext not in str(caught.value)
    assert CredentialEvent.objects.count() == 0


@pytest.mark.parametrize("prefix", ["ab", "x1"])
def test_record_refuses_keys_of_the_shortest_prefixes(db, prefix):
    # KEY_PREFIX may be as short as 2 characters (conf.py): such a key is a key too.
    plaintext = keys.generate(prefix).plaintext
    for text in (plaintext, f"lost: {plaintext}", f"({plaintext})"):
        with pytest.raises(ValueError, match="shaped like a key"):
            CredentialEvent.record(Kind.API_KEY, "someid", Event.REFUSED, details={"n": text})
    assert CredentialEvent.objects.count() == 0


def test_a_key_of_a_two_letter_prefix_in_a_revoke_reason_is_redacted(settings, user):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "KEY_PREFIX": "ab"}
    key, plaintext = APIKey.objects.issue(owner=user, name="short", scopes=["orders:read"])
    assert plaintext.startswith("ab_")

    key.revoke(reason=f"pasted {plaintext} in a chat")

    assert APIKey.objects.get(pk=key.pk).revoke_reason == "pasted [redacted] in a chat"
    revoked = CredentialEvent.objects.get(event=Event.REVOKED)
    assert revoked.details == {"reason": "pasted [redacted] in a chat"}


def test_record_refuses_a_key_in_a_lazy_string_or_a_tuple(db):
    # A lazy string or a tuple is encoded by DjangoJSONEncoder: the key in it is still refused.
    plaintext = keys.generate("iik").plaintext
    with pytest.raises(ValueError, match="shaped like a key"):
        CredentialEvent.record(
            Kind.API_KEY, "someid", Event.REFUSED, details={"note": gettext_lazy(plaintext)}
        )
    with pytest.raises(ValueError, match="shaped like a key"):
        CredentialEvent.record(
            Kind.API_KEY, "someid", Event.REFUSED, details={"t": ("a", plaintext)}
        )
    assert CredentialEvent.objects.count() == 0


@pytest.mark.parametrize(
    "text",
    [
        # JSON writes "é" as "\u00e9", and "u00e9_" + 44 letters is key-shaped; the text is not.
        "é_" + "A" * keys.BODY_LENGTH,
        # A new line is written "\n": "\nx_…" reads "nx_…" in the JSON text.
        "\nx_" + "A" * keys.BODY_LENGTH,
        # A control character too: "\x01_…" is written "\u0001_…".
        "\x01_" + "A" * keys.BODY_LENGTH,
    ],
    ids=["non-ascii", "new-line", "control-character"],
)
def test_record_judges_the_text_not_its_json_escapes(db, text):
    event = CredentialEvent.record(
        Kind.API_KEY, "someid", Event.REVOKED, details={"reason": text, text: [text]}
    )
    assert CredentialEvent.objects.get().details == event.details == {"reason": text, text: [text]}


def test_record_accepts_public_ids_and_ordinary_text(db):
    public_id = keys.generate("iik").public_id
    event = CredentialEvent.record(
        Kind.API_KEY,
        public_id,
        Event.REFUSED,
        details={"reason": "revoked", "key": f"iik_{public_id}…", "long": "x" * 300},
    )
    assert CredentialEvent.objects.get().details == event.details


def test_record_names_a_client_principal_without_linking_it(oauth_app):
    principal = ClientPrincipal(oauth_app)
    event = CredentialEvent.record(Kind.OAUTH_TOKEN, "7", Event.REVOKED, actor=principal)
    stored = CredentialEvent.objects.get(pk=event.pk)
    assert stored.actor is None
    assert stored.actor_name == f"client:{oauth_app.client_id}"


def test_record_links_a_saved_user_only(db, django_user_model):
    unsaved = django_user_model(username="ghost")
    event = CredentialEvent.record(Kind.API_KEY, "x", Event.ISSUED, actor=unsaved)
    stored = CredentialEvent.objects.get(pk=event.pk)
    assert stored.actor is None
    assert stored.actor_name == "ghost"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("not an address", None),
        ("", None),
        (None, None),
    ],
)
def test_record_stores_only_a_real_address(db, given, stored):
    event = CredentialEvent.record(Kind.API_KEY, "x", Event.REFUSED, ip=given)
    assert CredentialEvent.objects.get(pk=event.pk).ip == stored


def test_str_names_kind_credential_and_event(issue):
    key, _plaintext = issue()
    assert str(only_event()) == f"API key {key.public_id} issued"


def test_the_log_lists_newest_first(issue):
    key, _plaintext = issue()
    key.revoke()
    assert [event.event for event in CredentialEvent.objects.all()] == [
        Event.REVOKED,
        Event.ISSUED,
    ]


def test_a_user_whose_username_is_shaped_like_a_key_is_named_redacted(issue, oauth_token):
    # A username is whatever a sign-up form accepted: it must not stop the events naming it.
    shaped = keys.generate("zz").plaintext
    owner = get_user_model().objects.create_user(shaped, "z@example.com", "z-password")

    key, _plaintext = issue(owner=owner)
    key.revoke(actor=owner)

    issued = CredentialEvent.objects.get(credential_id=key.public_id, event="issued")
    revoked = CredentialEvent.objects.get(credential_id=key.public_id, event="revoked")
    assert issued.details["owner"] == "[redacted]"
    assert revoked.actor == owner
    assert revoked.actor_name == "[redacted]"
    assert shaped not in json.dumps([issued.details, revoked.details, revoked.actor_name])

    token, _value = oauth_token(owner=owner)
    assert revoke_token(token)
    token_revoked = CredentialEvent.objects.get(kind="oauth_token", event="revoked")
    assert token_revoked.details["user"] == "[redacted]"
