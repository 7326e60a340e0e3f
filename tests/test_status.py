"""Badges, filters and overview counts agree: the Python answer and the SQL answer match."""

from datetime import timedelta

from django.utils import timezone

from iiniit_auth.models import APIKey
from iiniit_auth.models.managers import authenticating
from iiniit_auth.status import (
    Status,
    badge_q,
    can_revoke,
    can_rotate,
    status_of,
)
from tests.admin.conftest import age


def test_each_key_wears_exactly_the_badge_its_query_finds(issue):
    now = timezone.now()
    issue(name="active")
    issue(name="never", expires_at=None)
    issue(name="expiring", expires_at=now + timedelta(days=6))
    age(issue(name="expired")[0], expires_at=timedelta(seconds=1))
    issue(name="rotated")[0].rotate(grace=timedelta(hours=1))
    issue(name="rotated past grace")[0].rotate()
    issue(name="revoked")[0].revoke()
    rotated_then_revoked = issue(name="rotated then revoked")[0]
    rotated_then_revoked.rotate(grace=timedelta(hours=1))
    rotated_then_revoked.revoke()
    now = timezone.now()
    every = list(APIKey.objects.all())
    for status in Status:
        by_sql = set(APIKey.objects.filter(badge_q(status, now)).values_list("pk", flat=True))
        by_python = {key.pk for key in every if status_of(key, now) == status}
        assert by_sql == by_python, status
    assert sum(1 for key in every if status_of(key, now) == Status.REVOKED) == 2
    accepted = set(APIKey.objects.filter(authenticating(now)).values_list("pk", flat=True))
    assert accepted == set(APIKey.objects.active().values_list("pk", flat=True))


def test_rotation_and_revocation_are_offered_by_state(issue):
    key, _ = issue()
    assert can_rotate(key)
    assert can_revoke(key)
    key.rotate(grace=timedelta(hours=1))
    assert not can_rotate(key)
    assert can_revoke(key)  # ends the grace period at once
    key.revoke()
    assert not can_revoke(key)
    expired, _ = issue()
    age(expired, expires_at=timedelta(seconds=1))
    assert not can_rotate(expired)
    assert not can_revoke(expired)
