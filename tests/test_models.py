"""APIKey: issue, the stored half, revoke, rotate, status, last use, and the queryset filters."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.utils import timezone

from iiniit_auth import keys
from iiniit_auth.exceptions import KeyStateError, RefusalReason
from iiniit_auth.models import NEVER, AbstractAPIKey, APIKey, CredentialEvent


def counts():
    return APIKey.objects.count(), CredentialEvent.objects.count()


def fresh(key):
    return APIKey.objects.get(pk=key.pk)


def a_key_shaped_string():
    return keys.generate("iik").plaintext


def expired_key(issue, seconds=0.05):
    """A key whose own expiry has passed (never rotated): issued to expire a moment from now."""
    key, _plaintext = issue(expires_at=timezone.now() + timedelta(seconds=seconds))
    time.sleep(seconds + 0.01)
    return key


# --- issue -------------------------------------------------------------------------------------


def test_issue_returns_a_key_whose_plaintext_parses_to_its_public_id(issue, user):
    key, plaintext = issue(name="  deploy bot  ", scopes=["orders:write", "orders:read"])

    assert keys.parse(plaintext, "iik") == key.public_id
    assert keys.matches(plaintext, key.digest, None)
    assert not keys.matches(a_key_shaped_string(), key.digest, None)
    stored = fresh(key)
    assert stored.owner == user
    assert stored.name == "deploy bot"
    assert stored.scopes == "orders:read orders:write"
    assert stored.scope_list == ["orders:read", "orders:write"]
    assert stored.scope_set == frozenset({"orders:read", "orders:write"})
    assert stored.revoked_at is None
    assert stored.rotated_at is None
    assert stored.last_used_at is None
    assert stored.is_active
    assert stored.status == "active"


def test_issue_accepts_scopes_as_a_space_separated_string_without_duplicates(issue):
    key, _plaintext = issue(scopes="reports:read orders:read  reports:read")
    assert fresh(key).scope_list == ["orders:read", "reports:read"]


def test_issue_without_expiry_applies_the_default_lifetime(issue):
    before = timezone.now()
    key, _plaintext = issue()
    after = timezone.now()
    expires_at = fresh(key).expires_at
    assert before + timedelta(days=90) <= expires_at <= after + timedelta(days=90)


def test_default_lifetime_follows_the_setting(issue, settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "DEFAULT_KEY_LIFETIME": timedelta(days=7)}
    key, _plaintext = issue()
    remaining = fresh(key).expires_at - timezone.now()
    assert timedelta(days=6, hours=23) < remaining <= timedelta(days=7)


def test_default_lifetime_none_means_keys_never_expire(issue, settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "DEFAULT_KEY_LIFETIME": None}
    key, _plaintext = issue()
    assert fresh(key).expires_at is None


def test_issue_with_never_has_no_expiry(issue):
    key, _plaintext = issue(expires_at=NEVER)
    assert fresh(key).expires_at is None
    assert fresh(key).status == "active"
    assert repr(NEVER) == "NEVER"


def test_issue_with_an_explicit_expiry_keeps_it(issue):
    when = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    key, _plaintext = issue(expires_at=when)
    assert fresh(key).expires_at == when


@pytest.fixture
def at_most_30_days(settings):
    settings.IINIIT_AUTH = {
        **settings.IINIIT_AUTH,
        "DEFAULT_KEY_LIFETIME": timedelta(days=30),
        "MAX_KEY_LIFETIME": timedelta(days=30),
    }


@pytest.mark.usefixtures("at_most_30_days")
def test_with_a_maximum_lifetime_no_key_outlives_it_or_never_expires(issue):
    before = APIKey.objects.count()
    with pytest.raises(ValidationError) as never:
        issue(expires_at=NEVER)
    assert never.value.message_dict == {
        "expires_at": ["Keys must expire: a key lives at most 30 days."]
    }
    with pytest.raises(ValidationError) as longer:
        issue(expires_at=timezone.now() + timedelta(days=31))
    assert longer.value.message_dict == {"expires_at": ["A key lives at most 30 days."]}
    assert APIKey.objects.count() == before

    key, _plaintext = issue(expires_at=timezone.now() + timedelta(days=29))
    assert fresh(key).status == "active"


@pytest.mark.usefixtures("at_most_30_days")
def test_with_a_maximum_lifetime_a_successor_lives_at_most_that_long(issue, settings):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "MAX_KEY_LIFETIME": None}
    old, _plaintext = issue(expires_at=NEVER)  # made before the project set a maximum
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "MAX_KEY_LIFETIME": timedelta(days=30)}
    successor, _plaintext = old.rotate()
    remaining = fresh(successor).expires_at - timezone.now()
    assert timedelta(days=29, hours=23) < remaining <= timedelta(days=30)


def test_issue_records_creator_and_normalizes_networks(issue, staff):
    key, _plaintext = issue(
        created_by=staff, allowed_networks="10.0.0.0/8, 2001:DB8::/32 10.0.0.0/8"
    )
    stored = fresh(key)
    assert stored.created_by == staff
    assert stored.allowed_networks == ["10.0.0.0/8", "2001:db8::/32"]


def test_each_issue_makes_a_new_public_id_and_digest(issue):
    first, first_plaintext = issue()
    second, second_plaintext = issue()
    assert first.public_id != second.public_id
    assert first.digest != second.digest
    assert first_plaintext != second_plaintext


def test_the_plaintext_is_stored_nowhere(issue, staff):
    key, plaintext = issue(created_by=staff, allowed_networks=["10.0.0.0/8"])
    successor, successor_plaintext = key.rotate(grace=timedelta(hours=1), actor=staff)
    successor.revoke(actor=staff, reason="done")

    for secret in (plaintext, successor_plaintext):
        secret_body = secret.split("_", 1)[1]
        for row in APIKey.objects.values():
            for value in row.values():
                assert secret_body not in str(value)
        for stored in APIKey.objects.all():
            assert secret_body not in repr(stored)
            assert secret_body not in str(stored)
            assert stored.digest != secret
        for event in CredentialEvent.objects.values():
            for value in event.values():
                assert secret_body not in str(value)
    assert keys.matches(plaintext, fresh(key).digest, None)
    assert keys.matches(successor_plaintext, fresh(successor).digest, None)


def test_str_and_repr_name_the_public_id_only(issue):
    key, plaintext = issue(name="billing")
    assert str(key) == f"billing (iik_{key.public_id})"
    assert repr(key) == f"<APIKey {key.public_id} 'billing'>"
    assert key.display_id == f"iik_{key.public_id}"
    assert plaintext not in str(key) + repr(key)
    assert key.digest not in str(key) + repr(key)


def test_a_pepper_makes_the_digest_an_hmac(issue, settings):
    pepper = "p" * 32
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "PEPPER": pepper}
    key, plaintext = issue()
    assert keys.matches(plaintext, key.digest, pepper.encode())
    assert not keys.matches(plaintext, key.digest, None)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": None}, "name"),
        ({"scopes": ["orders:read", "orders:delete"]}, "scopes"),
        ({"scopes": "nope"}, "scopes"),
        ({"allowed_networks": ["10.0.0.1/8"]}, "allowed_networks"),
        ({"allowed_networks": "not-a-network"}, "allowed_networks"),
        ({"expires_at": datetime(2000, 1, 1, tzinfo=UTC)}, "expires_at"),
        ({"expires_at": datetime(2999, 1, 1)}, "expires_at"),  # naive on purpose
        ({"expires_at": "2999-01-01"}, "expires_at"),
    ],
)
def test_invalid_input_names_the_field_and_writes_nothing(issue, kwargs, field):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        issue(**kwargs)
    assert set(caught.value.message_dict) == {field}
    assert counts() == before


def test_a_name_of_exactly_the_maximum_length_is_accepted(issue):
    key, _plaintext = issue(name="x" * 100)
    assert len(fresh(key).name) == 100


def test_a_name_holding_a_key_is_refused(issue):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        issue(name=f"old {a_key_shaped_string()}")
    assert set(caught.value.message_dict) == {"name"}
    assert counts() == before


def test_a_name_that_only_its_json_escape_makes_key_shaped_is_accepted(issue):
    # The audit log writes "é" as "\u00e9": "u00e9_" + 44 letters must not be taken for a key.
    name = "é_" + "A" * keys.BODY_LENGTH
    key, _plaintext = issue(name=name)
    assert fresh(key).name == name
    assert CredentialEvent.objects.get().details["name"] == name


def test_a_key_among_the_scopes_is_refused_without_echoing_it(issue):
    leaked = a_key_shaped_string()
    before = counts()
    with pytest.raises(ValidationError) as caught:
        issue(scopes=["orders:read", leaked])
    assert caught.value.message_dict == {"scopes": ["A scope must not contain a key."]}
    assert counts() == before


def test_every_invalid_field_is_named_at_once(issue):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        issue(name="", scopes=["nope"], allowed_networks=["nope"], expires_at=timezone.now())
    assert set(caught.value.message_dict) == {"name", "scopes", "allowed_networks", "expires_at"}
    assert counts() == before


def test_an_unsaved_owner_is_refused(issue):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        issue(owner=get_user_model()(username="ghost"))
    assert set(caught.value.message_dict) == {"owner"}
    assert counts() == before


def test_an_inactive_owner_is_refused(issue, other_user):
    other_user.is_active = False
    other_user.save()
    before = counts()
    with pytest.raises(ValidationError) as caught:
        issue(owner=other_user)
    assert set(caught.value.message_dict) == {"owner"}
    assert counts() == before


def test_an_unsaved_creator_is_refused(issue):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        issue(created_by=get_user_model()(username="ghost"))
    assert set(caught.value.message_dict) == {"created_by"}
    assert counts() == before


def test_an_unknown_scope_is_named_in_the_error(issue):
    with pytest.raises(ValidationError) as caught:
        issue(scopes=["orders:read", "orders:delete"])
    assert "orders:delete" in caught.value.message_dict["scopes"][0]


# --- revoke ------------------------------------------------------------------------------------


def test_revoke_refuses_the_key_for_good(issue, staff):
    key, _plaintext = issue()
    key.revoke(actor=staff, reason="  leaked in a log  ")

    for seen in (key, fresh(key)):
        assert seen.revoked_at is not None
        assert seen.revoked_by == staff
        assert seen.revoke_reason == "leaked in a log"
        assert not seen.is_active
        assert seen.status == "revoked"
        assert seen.refusal_reason() == RefusalReason.REVOKED


def test_revoking_twice_raises_and_writes_nothing_more(issue):
    key, _plaintext = issue()
    key.revoke(reason="first")
    first = fresh(key)
    before = counts()

    with pytest.raises(KeyStateError):
        key.revoke(reason="second")

    assert counts() == before
    again = fresh(key)
    assert (again.revoked_at, again.revoke_reason) == (first.revoked_at, "first")
    assert key.revoke_reason == "first"


def test_a_concurrent_revoke_from_a_stale_instance_is_refused(issue, staff, other_user):
    key, _plaintext = issue()
    stale = fresh(key)
    key.revoke(actor=staff, reason="first")
    before = counts()

    with pytest.raises(KeyStateError):
        stale.revoke(actor=other_user, reason="second")

    assert counts() == before
    stored = fresh(key)
    assert stored.revoked_by == staff
    assert stored.revoke_reason == "first"
    assert stale.revoked_at is None  # the refused call did not pretend to succeed


def test_a_key_pasted_into_the_reason_is_redacted(issue):
    key, _plaintext = issue()
    leaked = a_key_shaped_string()
    key.revoke(reason=f"found {leaked} in a public gist")
    stored = fresh(key)
    assert stored.revoke_reason == "found [redacted] in a public gist"
    assert leaked not in str(CredentialEvent.objects.values_list("details", flat=True)[0])


def test_a_reason_that_only_its_json_escape_makes_key_shaped_is_kept(issue):
    key, _plaintext = issue()
    reason = "é_" + "A" * keys.BODY_LENGTH
    key.revoke(reason=reason)
    assert fresh(key).revoke_reason == reason
    assert CredentialEvent.objects.get(event="revoked").details == {"reason": reason}


def test_a_long_reason_is_cut_to_the_column(issue):
    key, _plaintext = issue()
    key.revoke(reason="r" * 500)
    assert fresh(key).revoke_reason == "r" * 200


def test_a_rotated_key_in_its_grace_can_still_be_revoked(issue):
    key, _plaintext = issue()
    successor, _ = key.rotate(grace=timedelta(hours=1))
    key.revoke(reason="cut the grace short")
    assert fresh(key).status == "revoked"
    assert fresh(successor).is_active


# --- rotate ------------------------------------------------------------------------------------


def test_rotate_issues_a_successor_that_inherits_the_key(issue, staff):
    key, plaintext = issue(
        name="ci",
        scopes=["orders:read", "reports:read"],
        allowed_networks=["10.0.0.0/8"],
        expires_at=timezone.now() + timedelta(days=10),
    )
    successor, new_plaintext = key.rotate(grace=timedelta(hours=1), actor=staff)

    assert new_plaintext != plaintext
    assert keys.parse(new_plaintext, "iik") == successor.public_id
    assert keys.matches(new_plaintext, successor.digest, None)
    stored = fresh(successor)
    assert stored.name == "ci"
    assert stored.owner == key.owner
    assert stored.scope_list == ["orders:read", "reports:read"]
    assert stored.allowed_networks == ["10.0.0.0/8"]
    assert stored.created_by == staff
    assert stored.predecessor == key
    assert stored.public_id != key.public_id
    assert stored.is_active
    assert fresh(key).successor == stored
    assert key.successor == successor
    # The successor gets the old key's lifetime length (10 days), counted from now.
    remaining = stored.expires_at - timezone.now()
    assert timedelta(days=9, hours=23) < remaining <= timedelta(days=10)


def test_the_old_key_works_until_the_grace_ends(issue):
    key, _plaintext = issue()
    before = timezone.now()
    key.rotate(grace=timedelta(hours=1))
    after = timezone.now()

    stored = fresh(key)
    assert before <= stored.rotated_at <= after
    assert before + timedelta(hours=1) <= stored.expires_at <= after + timedelta(hours=1)
    assert stored.is_active
    assert stored.status == "active"
    assert stored.refusal_reason(now=after + timedelta(minutes=59)) is None
    assert stored.refusal_reason(now=after + timedelta(hours=1)) == RefusalReason.ROTATED
    assert key.expires_at == stored.expires_at
    assert key.rotated_at == stored.rotated_at


def test_the_grace_never_extends_the_old_keys_own_expiry(issue):
    own_expiry = (timezone.now() + timedelta(minutes=5)).replace(microsecond=0)
    key, _plaintext = issue(expires_at=own_expiry)
    key.rotate(grace=timedelta(days=1))
    assert fresh(key).expires_at == own_expiry


def test_rotate_with_no_grace_retires_the_old_key_at_once(issue):
    key, _plaintext = issue()
    successor, _ = key.rotate(grace=timedelta(0))
    stored = fresh(key)
    assert not stored.is_active
    assert not key.is_active
    assert stored.status == "rotated"
    assert stored.refusal_reason() == RefusalReason.ROTATED
    assert fresh(successor).is_active


def test_a_key_that_never_expires_rotates_to_one_that_never_expires(issue):
    key, _plaintext = issue(expires_at=NEVER)
    successor, _ = key.rotate(grace=timedelta(minutes=5))
    assert fresh(successor).expires_at is None
    stored = fresh(key)
    assert stored.expires_at is not None
    assert stored.refusal_reason(now=timezone.now() + timedelta(minutes=6)) == RefusalReason.ROTATED


def test_rotating_twice_raises_and_writes_nothing(issue):
    key, _plaintext = issue()
    key.rotate(grace=timedelta(hours=1))
    before = counts()
    rotated = fresh(key)

    with pytest.raises(KeyStateError):
        key.rotate(grace=timedelta(hours=1))
    with pytest.raises(KeyStateError):
        rotated.rotate(grace=timedelta(hours=1))

    assert counts() == before
    again = fresh(key)
    assert (again.rotated_at, again.expires_at) == (rotated.rotated_at, rotated.expires_at)


def test_a_stale_instance_cannot_rotate_a_key_rotated_elsewhere(issue):
    key, _plaintext = issue()
    stale = fresh(key)
    key.rotate(grace=timedelta(hours=1))
    before = counts()
    with pytest.raises(KeyStateError):
        stale.rotate(grace=timedelta(hours=2))
    assert counts() == before
    assert stale.rotated_at is None


def test_rotating_a_revoked_key_raises_and_writes_nothing(issue):
    key, _plaintext = issue()
    key.revoke()
    before = counts()
    with pytest.raises(KeyStateError):
        key.rotate(grace=timedelta(hours=1))
    assert counts() == before
    assert fresh(key).rotated_at is None


def test_rotating_an_expired_key_raises_and_writes_nothing(issue):
    key = expired_key(issue)
    assert key.status == "expired"
    before = counts()
    with pytest.raises(KeyStateError):
        key.rotate(grace=timedelta(hours=1))
    assert counts() == before
    assert fresh(key).rotated_at is None
    assert key.rotated_at is None


def test_a_negative_grace_is_a_value_error_and_writes_nothing(issue):
    key, _plaintext = issue()
    before = counts()
    with pytest.raises(ValueError, match="negative"):
        key.rotate(grace=timedelta(seconds=-1))
    assert counts() == before
    assert fresh(key).rotated_at is None


def test_rotating_the_key_of_an_inactive_owner_writes_nothing(issue, user):
    key, _plaintext = issue()
    expires_at = key.expires_at
    user.is_active = False
    user.save()
    before = counts()

    with pytest.raises(ValidationError):
        fresh(key).rotate(grace=timedelta(hours=1))
    with pytest.raises(ValidationError):
        key.rotate(grace=timedelta(hours=1))

    assert counts() == before
    assert fresh(key).rotated_at is None
    # The instance is left as it was, not as the rolled-back write would have made it.
    assert key.rotated_at is None
    assert key.expires_at == expires_at
    with pytest.raises(APIKey.successor.RelatedObjectDoesNotExist):
        _ = key.successor


# --- status and refusal_reason ----------------------------------------------------------------


def test_an_expired_key_is_refused_as_expired(issue):
    key = expired_key(issue)
    assert not key.is_active
    assert key.is_expired()
    assert key.refusal_reason() == RefusalReason.EXPIRED
    assert fresh(key).status == "expired"


def test_refusal_reason_takes_the_time_it_is_given(issue):
    key, _plaintext = issue(expires_at=timezone.now() + timedelta(days=1))
    assert key.refusal_reason(now=timezone.now()) is None
    assert key.refusal_reason(now=timezone.now() + timedelta(days=2)) == RefusalReason.EXPIRED
    assert key.is_expired(timezone.now() + timedelta(days=2))
    assert not key.is_expired(timezone.now())


def test_a_key_is_expired_from_the_very_instant_of_its_expiry(issue):
    expires_at = timezone.now() + timedelta(days=1)
    key, _plaintext = issue(expires_at=expires_at)
    stored = fresh(key)  # the date as the database gives it back
    assert stored.expires_at == expires_at
    before = expires_at - timedelta(microseconds=1)

    assert not stored.is_expired(before)
    assert stored.refusal_reason(now=before) is None
    # At exactly expires_at the key is over, for the instance (which authentication asks at
    # the request's now) and for the queries alike.
    assert stored.is_expired(expires_at)
    assert stored.refusal_reason(now=expires_at) == RefusalReason.EXPIRED
    assert list(APIKey.objects.active(now=before)) == [stored]
    assert not APIKey.objects.active(now=expires_at).exists()
    assert list(APIKey.objects.expiring_within(timedelta(0), now=before)) == []
    assert list(APIKey.objects.expiring_within(timedelta(microseconds=1), now=before)) == [stored]
    # A rotated key's grace ends the same way, and says so.
    successor, _ = stored.rotate(grace=timedelta(hours=1))
    grace_end = fresh(stored).expires_at
    assert fresh(stored).refusal_reason(now=grace_end) == RefusalReason.ROTATED
    assert fresh(stored).refusal_reason(now=grace_end - timedelta(microseconds=1)) is None
    assert successor.refusal_reason(now=grace_end) is None


def test_revocation_outranks_expiry_and_networks(issue):
    key, _plaintext = issue(allowed_networks=["10.0.0.0/8"])
    key.revoke()
    later = timezone.now() + timedelta(days=365)
    assert key.refusal_reason(now=later, address="192.0.2.1") == RefusalReason.REVOKED


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", None),
        ("2001:db8::1", None),
        ("::ffff:10.9.9.9", None),
        ("192.0.2.1", RefusalReason.NETWORK),
        ("2001:db9::1", RefusalReason.NETWORK),
        ("", RefusalReason.NETWORK),
        ("not an address", RefusalReason.NETWORK),
        (None, None),
    ],
)
def test_refusal_reason_applies_the_networks(issue, address, reason):
    key, _plaintext = issue(allowed_networks=["10.0.0.0/8", "2001:db8::/32"])
    assert key.refusal_reason(address=address) == reason


def test_a_key_without_networks_allows_any_address(issue):
    key, _plaintext = issue()
    assert key.refusal_reason(address="192.0.2.1") is None
    assert key.refusal_reason(address="") is None


# --- record_use --------------------------------------------------------------------------------


def test_record_use_writes_at_most_once_per_interval(issue, django_assert_num_queries):
    key, _plaintext = issue()
    now = timezone.now()

    with django_assert_num_queries(1):
        assert key.record_use(now) is True
    assert fresh(key).last_used_at == now

    with django_assert_num_queries(0):
        assert key.record_use(now + timedelta(seconds=59)) is False
    assert fresh(key).last_used_at == now

    later = now + timedelta(seconds=60)
    with django_assert_num_queries(1):
        assert key.record_use(later) is True
    assert fresh(key).last_used_at == later


def test_record_use_follows_the_interval_setting(issue, settings, django_assert_num_queries):
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "LAST_USED_UPDATE_INTERVAL": 300}
    key, _plaintext = issue()
    now = timezone.now()
    key.record_use(now)
    with django_assert_num_queries(0):
        assert key.record_use(now + timedelta(seconds=299)) is False
    with django_assert_num_queries(1):
        assert key.record_use(now + timedelta(seconds=300)) is True


def test_a_stale_instance_does_not_stamp_twice(issue, django_assert_num_queries):
    key, _plaintext = issue()
    stale = fresh(key)
    now = timezone.now()
    assert key.record_use(now) is True

    # The other process has not seen the stamp: its conditional UPDATE matches no row.
    with django_assert_num_queries(1):
        assert stale.record_use(now + timedelta(seconds=5)) is False
    assert fresh(key).last_used_at == now
    # And it now knows enough not to ask again within the interval.
    with django_assert_num_queries(0):
        assert stale.record_use(now + timedelta(seconds=10)) is False


# --- the queryset ------------------------------------------------------------------------------


def test_active_keeps_only_keys_that_authenticate_now(issue):
    active, _ = issue(name="active")
    forever, _ = issue(name="forever", expires_at=NEVER)
    revoked, _ = issue(name="revoked")
    revoked.revoke()
    in_grace, _ = issue(name="in grace")
    in_grace_successor, _ = in_grace.rotate(grace=timedelta(hours=1))
    retired, _ = issue(name="retired")
    retired_successor, _ = retired.rotate(grace=timedelta(0))
    expired = expired_key(issue)

    expected = {active, forever, in_grace, in_grace_successor, retired_successor}
    assert set(APIKey.objects.active()) == expected
    assert set(APIKey.objects.all().active()) == expected
    assert retired not in set(APIKey.objects.active())
    assert expired not in set(APIKey.objects.active())


def test_active_chains_after_other_filters(issue, user, other_user):
    mine, _ = issue()
    theirs, _ = issue(owner=other_user)
    assert list(APIKey.objects.filter(owner=user).active()) == [mine]
    assert list(APIKey.objects.filter(owner=other_user).active()) == [theirs]


def test_expiring_within(issue):
    now = timezone.now()
    soon, _ = issue(name="soon", expires_at=now + timedelta(days=5))
    later, _ = issue(name="later", expires_at=now + timedelta(days=30))
    forever, _ = issue(name="forever", expires_at=NEVER)
    revoked, _ = issue(name="revoked", expires_at=now + timedelta(days=2))
    revoked.revoke()
    expired = expired_key(issue)

    assert set(APIKey.objects.expiring_within(timedelta(days=7))) == {soon}
    assert set(APIKey.objects.expiring_within(timedelta(days=31))) == {soon, later}
    assert set(APIKey.objects.expiring_within(timedelta(days=1))) == set()
    assert expired not in set(APIKey.objects.expiring_within(timedelta(days=365)))
    assert forever not in set(APIKey.objects.expiring_within(timedelta(days=36500)))


@pytest.fixture
def lookalike_scopes(settings):
    settings.IINIIT_AUTH = {
        **settings.IINIIT_AUTH,
        "SCOPES": {
            "orders:read": "Read orders",
            "orders:readall": "Read every order",
            "old-orders:read": "Read archived orders",
            "orders.read": "Read orders (legacy name)",
            "ordersXread": "Not a real scope",
        },
    }


def test_with_scope_matches_whole_scope_names_only(issue, lookalike_scopes):
    exact, _ = issue(name="exact", scopes=["orders:read"])
    longer, _ = issue(name="longer", scopes=["orders:readall"])
    suffix, _ = issue(name="suffix", scopes=["old-orders:read"])
    among, _ = issue(name="among", scopes=["old-orders:read", "orders:read", "orders:readall"])
    dotted, _ = issue(name="dotted", scopes=["orders.read"])
    letter, _ = issue(name="letter", scopes=["ordersXread"])

    assert set(APIKey.objects.with_scope("orders:read")) == {exact, among}
    assert set(APIKey.objects.with_scope("orders:readall")) == {longer, among}
    assert set(APIKey.objects.with_scope("old-orders:read")) == {suffix, among}
    assert set(APIKey.objects.with_scope("orders")) == set()
    assert set(APIKey.objects.with_scope("read")) == set()
    # Scope names are matched literally: "." is not a wildcard.
    assert set(APIKey.objects.with_scope("orders.read")) == {dotted}
    assert set(APIKey.objects.with_scope("ordersXread")) == {letter}


def test_with_scope_chains_with_active(issue):
    live, _ = issue(scopes=["reports:read"])
    dead, _ = issue(scopes=["reports:read"])
    dead.revoke()
    issue(scopes=["orders:read"])
    assert list(APIKey.objects.with_scope("reports:read").active()) == [live]
    assert set(APIKey.objects.active().with_scope("reports:read")) == {live}


# --- the model classes -------------------------------------------------------------------------


def test_the_base_class_is_abstract_and_the_key_model_concrete():
    assert AbstractAPIKey._meta.abstract
    assert not APIKey._meta.abstract
    assert issubclass(APIKey, AbstractAPIKey)


def test_the_key_model_declares_rotate_revoke_and_issue_for_others_permissions(db):
    assert {codename for codename, _label in APIKey._meta.permissions} == {
        "rotate_apikey",
        "revoke_apikey",
        "issue_for_others",
    }
    stored = set(
        Permission.objects.filter(content_type__app_label="iiniit_auth").values_list(
            "codename", flat=True
        )
    )
    assert {"rotate_apikey", "revoke_apikey", "issue_for_others", "view_apikey"} <= stored


def test_the_migrations_hold_every_model_change(db):
    # A model change shipped without its migration makes every project's makemigrations write
    # one into the installed package (tests/orgkeys, the suite's own example app, too).
    from io import StringIO

    from django.core.management import call_command

    written = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=written)
    except SystemExit:
        pytest.fail(f"models changed without a migration:\n{written.getvalue()}")
