"""The example project served by runserver on an SQLite file, for the race tests: run as
``python -m tests.oauth.sqlite_site PORT`` with ``DATABASE_URL`` naming a new SQLite file.

The suite's own SQLite database is in memory, and Django's live server shares its one
connection between threads, so no two requests there ever wait for each other's locks. Here
every request has its own connection to a file, with the project's settings, as on a site made
with startproject. It creates the tables, a user, a public authorization-code application and a
signed-in session, prints them as one JSON line, and serves. Each time a connection begins a
transaction it prints ``BEGIN`` first, so a test knows when a request has read what it reads
and is about to write.
"""

import json
import sys

import django


def main(port):
    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db.backends.signals import connection_created
    from django.test import Client

    from iiniit_auth.oauth.applications import register_application

    # The tables straight from the models, as the test runner makes them: quicker than
    # running every migration.
    settings.MIGRATION_MODULES = {config.label: None for config in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0)
    user = get_user_model().objects.create_user("ann", password="ann-password")
    application, _secret = register_application(
        name="Race client",
        user=user,
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="http://127.0.0.1:8765/callback",
        allowed_scopes=["orders:read"],
    )
    browser = Client()
    browser.force_login(user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value

    def announce(execute, sql, params, many, context):
        if sql.startswith("BEGIN"):
            sys.stdout.write("BEGIN\n")  # one write: request threads print at once
            sys.stdout.flush()
        return execute(sql, params, many, context)

    def watch(sender, connection, **kwargs):
        connection.execute_wrappers.append(announce)

    connection_created.connect(watch)
    print(json.dumps({"client_id": application.client_id, "session": session}), flush=True)
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, skip_checks=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
