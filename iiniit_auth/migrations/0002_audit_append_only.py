"""The audit table refuses UPDATE and DELETE on PostgreSQL.

A trigger, so that code going around the model (a raw cursor, a bulk update through another
manager) cannot rewrite history. Two writes stay possible, each in words below: a DELETE made
by the retention run (``manage.py audit prune``), which sets ``iiniit_auth.prune`` for its own
transaction only, and clearing ``actor_id`` when the user is deleted (``on_delete=SET_NULL``;
``actor_name`` keeps who it was). Other databases keep the model's guard alone.
"""

from typing import Any

from django.db import migrations

FUNCTION = "iiniit_auth_credentialevent_append_only"
TABLE = "iiniit_auth_credentialevent"

INSTALL = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('iiniit_auth.prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
        AND ROW(NEW.id, NEW.at, NEW.kind, NEW.credential_id, NEW.event, NEW.actor_name,
                NEW.ip, NEW.details)
        IS NOT DISTINCT FROM
            ROW(OLD.id, OLD.at, OLD.kind, OLD.credential_id, OLD.event, OLD.actor_name,
                OLD.ip, OLD.details) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'The audit log is append-only: % refused.', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Old events leave through manage.py audit prune.';
END;
$$;
CREATE TRIGGER {FUNCTION} BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
"""

UNINSTALL = f"""
DROP TRIGGER IF EXISTS {FUNCTION} ON {TABLE};
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def _on_postgresql(sql: str) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    """The audit table is append-only on PostgreSQL."""

    dependencies = [
        ("iiniit_auth", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(INSTALL), _on_postgresql(UNINSTALL), elidable=False),
    ]
