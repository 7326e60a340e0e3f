"""After a revocation returns, no request sent afterwards is accepted: measured from outside.

gunicorn with 4 worker processes on PostgreSQL, the key cache on Redis or off; clients in 6
threads send the key without pause. Each way a key stops working (revoke, rotate with no grace,
the owner deactivated through ``save()``) is done once through ``manage.py`` and once through
the admin, over HTTP, as a signed-in superuser. Every request sent after the action returned
must be refused.
"""

import time

import pytest

from tests.production import harness

pytestmark = pytest.mark.production

#: Load before the action (the key in every worker's path, and in the cache) and after it.
BEFORE = 0.8
AFTER = 1.0


def under_load(server, owner, action):
    """Run ``action()`` under load; return the load and the moment the action returned."""
    load = harness.Load(f"{server.url}/api/key/", {"Authorization": f"ApiKey {owner['key']}"})
    with load:
        time.sleep(BEFORE)
        started = time.monotonic()
        action()
        returned = time.monotonic()
        time.sleep(AFTER)
    assert load.errors == []
    before = load.before(started)
    after = load.after(returned)
    # The test can fail: the key worked under load before, and requests were sent after.
    assert before
    assert {r.status for r in before} == {200}
    assert len(after) >= 20, len(after)
    # Refused as refused, never as a server error (429: the failed-authentication limit).
    assert {r.status for r in after} <= {401, 429}
    return load, returned


def assert_none_accepted_after(load, returned):
    accepted = load.accepted_after(returned)
    assert accepted == [], f"{len(accepted)} of {len(load.after(returned))} accepted"


def test_revoke_with_the_command(server, owner):
    load, returned = under_load(
        server,
        owner,
        lambda: harness.manage(
            "apikey", "revoke", owner["public_id"], "--reason", "test", cache=server.cache
        ),
    )
    assert_none_accepted_after(load, returned)


def test_revoke_in_the_admin(server, admin, owner):
    def revoke():
        answer = admin.submit(
            f"/admin/iiniit_auth/apikey/{owner['key_pk']}/revoke/", {"reason": "test"}, "reason"
        )
        assert answer.status_code == 302, answer.text[:2000]

    assert_none_accepted_after(*under_load(server, owner, revoke))


def test_rotate_without_grace_with_the_command(server, owner):
    load, returned = under_load(
        server,
        owner,
        lambda: harness.manage(
            "apikey", "rotate", owner["public_id"], "--grace", "0", "--quiet", cache=server.cache
        ),
    )
    assert_none_accepted_after(load, returned)


def test_rotate_without_grace_in_the_admin(server, admin, owner):
    def rotate():
        answer = admin.submit(
            f"/admin/iiniit_auth/apikey/{owner['key_pk']}/rotate/", {"grace": "0"}, "grace"
        )
        # The successor's show-once page.
        assert answer.status_code == 200, answer.text[:2000]
        assert "errornote" not in answer.text
        assert "errorlist" not in answer.text

    assert_none_accepted_after(*under_load(server, owner, rotate))


DEACTIVATE = (
    "from django.contrib.auth import get_user_model; "
    "user = get_user_model().objects.get(username={!r}); "
    "user.is_active = False; user.save()"
)


def test_owner_deactivated_with_the_command(server, owner):
    load, returned = under_load(
        server,
        owner,
        lambda: harness.manage(
            "shell", "-c", DEACTIVATE.format(owner["owner"]), cache=server.cache
        ),
    )
    assert_none_accepted_after(load, returned)


def test_owner_deactivated_in_the_admin(server, admin, owner):
    def deactivate():
        answer = admin.submit(
            f"/admin/auth/user/{owner['owner_pk']}/change/",
            {"_save": "Save"},
            "username",
            drop=("is_active",),
        )
        assert answer.status_code == 302, answer.text[:3000]

    assert_none_accepted_after(*under_load(server, owner, deactivate))
