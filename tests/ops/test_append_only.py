"""The audit table is append-only below the model too: a trigger on PostgreSQL, the model's guard
on every database. Each test says which database it is about; CI runs the suite on both."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from iiniit_auth.audit_ops import prune
from iiniit_auth.models import CredentialEvent

Kind = CredentialEvent.Kind

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger is PostgreSQL's"
)
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="about SQLite")

migration = importlib.import_module("iiniit_auth.migrations.0002_audit_append_only")


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@pytest.fixture
def event(old_event):
    return old_event(Kind.API_KEY, "gonekey123")


def stored(event):
    return CredentialEvent.objects.filter(pk=event.pk).values_list("event", flat=True).first()


@on_postgresql
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE iiniit_auth_credentialevent SET event = 'revoked' WHERE id = %s",
        "UPDATE iiniit_auth_credentialevent SET actor_id = NULL, event = 'revoked' WHERE id = %s",
        "DELETE FROM iiniit_auth_credentialevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_raw_update_and_delete(event, sql):
    with pytest.raises(
        DatabaseError, match=r"The audit log is append-only: (UPDATE|DELETE) refused"
    ):
        raw(sql, [event.pk])

    assert stored(event) == "issued"


@on_postgresql
def test_postgresql_lets_the_prune_delete_and_only_in_its_transaction(event):
    prune(timezone.now() - timedelta(days=400), delete=True)
    assert stored(event) is None

    kept = CredentialEvent.record(Kind.API_KEY, "gonekey123", "revoked")
    with pytest.raises(DatabaseError, match="append-only"):
        raw("DELETE FROM iiniit_auth_credentialevent WHERE id = %s", [kept.pk])
    assert stored(kept) == "revoked"


@on_postgresql
def test_postgresql_refuses_a_delete_that_sets_the_flag_to_anything_else(event):
    def delete_with_the_flag_off():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('iiniit_auth.prune', 'off', true)")
            cursor.execute("DELETE FROM iiniit_auth_credentialevent WHERE id = %s", [event.pk])

    with pytest.raises(DatabaseError, match="append-only"):
        delete_with_the_flag_off()

    assert stored(event) == "issued"


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_deleting_a_user_clears_the_actor_and_keeps_the_name(issue, staff, vendor):
    if connection.vendor != vendor:
        pytest.skip(f"about {vendor}")
    key, _plaintext = issue(created_by=staff)

    staff.delete()

    issued = CredentialEvent.objects.get(event="issued", credential_id=key.public_id)
    assert (issued.actor_id, issued.actor_name) == (None, "root")


@on_postgresql
def test_the_migration_removes_the_trigger_when_reversed(event):
    deleted = []

    def reverse_then_delete():
        with transaction.atomic():
            with connection.schema_editor() as editor:
                migration._on_postgresql(migration.UNINSTALL)(None, editor)
            deleted.append(raw("DELETE FROM iiniit_auth_credentialevent WHERE id = %s", [event.pk]))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        reverse_then_delete()

    assert deleted == [1]

    assert stored(event) == "issued"


@on_sqlite
def test_sqlite_has_no_trigger_and_keeps_the_model_guard(event):
    executed = []
    editor = SimpleNamespace(
        connection=connection, execute=lambda *args, **kw: executed.append(args)
    )
    migration._on_postgresql(migration.INSTALL)(None, editor)
    assert executed == []  # the migration installs nothing here
    with pytest.raises(TypeError, match="append-only"):
        CredentialEvent.objects.filter(pk=event.pk).update(event="revoked")
    with pytest.raises(TypeError, match="append-only"):
        CredentialEvent.objects.filter(pk=event.pk).delete()
    event.event = "revoked"
    with pytest.raises(TypeError, match="append-only"):
        event.save()

    assert stored(event) == "issued"
    # Below the model nothing stops SQL on SQLite: the trigger is PostgreSQL's alone.
    assert (
        raw("UPDATE iiniit_auth_credentialevent SET event = 'revoked' WHERE id = %s", [event.pk])
        == 1
    )
