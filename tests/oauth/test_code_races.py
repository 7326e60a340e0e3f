"""Two redemptions of one authorization code at the same moment, against a server with real
threads: one gets the token pair and the other ``invalid_grant``, never a 500 and never a
second pair; the code presented again later revokes the pair.

On PostgreSQL against the live server (when the suite runs there); on SQLite against the
example project served by runserver on an SQLite file with its own settings
(``sqlite_site.py``), whatever the suite's database. A held round holds the database (a row
lock on the code on PostgreSQL, the write lock on SQLite) until both requests have read the code
and wait to write, so the two are in flight together however the threads are scheduled; a free
round lets them race as they come. There the second may come once the first's pair is saved: a
replay, which revokes the pair, and which may do so before the first's answer is written; then
both are refused, and the code's one pair is revoked.
"""

import hashlib
import json
import os
import queue
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import connection, connections, transaction
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model
from oauthlib.oauth2 import WebApplicationClient

from iiniit_auth.models import CredentialEvent

from .conftest import REDIRECT_URI, Server, local

ROOT = Path(__file__).resolve().parent.parent.parent
ROUNDS = 20


def code_of(location):
    return parse_qs(urlsplit(location).query)["code"][0]


def token_request(site, session, location):
    """The form a client posts to redeem the code in ``location`` (oauthlib's client)."""
    return WebApplicationClient(site.client.client_id).prepare_request_body(
        code=code_of(location),
        redirect_uri=REDIRECT_URI,
        code_verifier=session._code_verifier,
        include_client_id=True,
    )


def post(site, body):
    return local(requests.Session()).post(
        site.server.token_url,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def post_twice(site, body, held=None):
    """Post ``body`` twice at once; with ``held`` (``{"code": …}`` or ``{"refresh_token": …}``:
    the rows the two will write), under the database held until both wait to write. Returns
    both responses."""
    answers = [None, None]
    start = threading.Barrier(2)

    def send(number):
        start.wait()
        answers[number] = post(site, body)

    threads = [threading.Thread(target=send, args=(number,)) for number in (0, 1)]
    if held is None:
        for thread in threads:
            thread.start()
    else:
        with site.holding(**held):
            for thread in threads:
                thread.start()
            site.wait_for_writers(2)
    for thread in threads:
        thread.join(30)
    assert None not in answers
    return answers


def one_pair_and_one_refusal(answers):
    """The winner's token response; asserts the other got invalid_grant, and neither a 5xx."""
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 400], [answer.text for answer in answers]
    refused = next(answer for answer in answers if answer.status_code == 400)
    assert refused.json()["error"] == "invalid_grant"
    return next(answer for answer in answers if answer.status_code == 200).json()


def api(site, token):
    session = local(requests.Session())
    session.headers["Authorization"] = f"Bearer {token['access_token']}"
    return session.get(f"{site.server.url}/api/ping/").status_code


def play_held_rounds_then_replay(site):
    before, seen = site.pairs(), len(site.refusals())
    for played in range(1, ROUNDS + 1):
        session = site.server.session(site.client)
        location = site.server.consent(site.browser, session)
        body = token_request(site, session, location)
        won = one_pair_and_one_refusal(post_twice(site, body, {"code": code_of(location)}))
        assert site.pairs() == (before[0] + played, before[1] + played)
        assert api(site, won) == 200
    refusals = site.refusals()[seen:]
    assert len(refusals) == ROUNDS  # each loser: refused, nothing revoked
    assert all(details["simultaneous"] for _id, details, _ip in refusals)
    assert not any(details["grant_revoked"] for _id, details, _ip in refusals)

    # The last code presented again once its pair was issued, twice at once: both refused,
    # and the pair revoked by one of them.
    revocations = site.revocations()
    replays = post_twice(site, body, {"refresh_token": won["refresh_token"]})
    assert [answer.status_code for answer in replays] == [400, 400]
    assert {answer.json()["error"] for answer in replays} == {"invalid_grant"}
    assert api(site, won) == 401
    assert site.pairs() == (before[0] + ROUNDS - 1, before[1] + ROUNDS - 1)
    first, second = site.refusals()[seen + ROUNDS :]
    assert first[0] == second[0] == refusals[-1][0]  # the access token issued from the code
    assert [first[1], second[1]] == [
        {"reason": "code_reused", "application": site.client.client_id, "grant_revoked": flag}
        for flag in (True, False)
    ]
    assert first[2] == second[2] == "127.0.0.1"
    # The access token and the refresh token, once each.
    assert site.revocations() == revocations + 2


def play_free_rounds(site):
    for _round in range(ROUNDS // 2):
        before, seen = site.pairs(), len(site.refusals())
        session = site.server.session(site.client)
        location = site.server.consent(site.browser, session)
        answers = post_twice(site, token_request(site, session, location))
        if [answer.status_code for answer in answers] == [400, 400]:
            replay_revoked_the_pair_before_its_answer(site, answers, before, seen)
            continue
        won = one_pair_and_one_refusal(answers)
        after = site.pairs()
        if api(site, won) == 200:
            assert after == (before[0] + 1, before[1] + 1)
        else:
            # The loser came once the winner's pair was saved: a replay, which revoked it.
            assert after == before
            assert site.refusals()[-1][1]["grant_revoked"] is True


def replay_revoked_the_pair_before_its_answer(site, answers, before, seen):
    """Both refused, and rightly so: the loser came once the winner's pair was saved, a replay
    that revoked the pair before the winner's answer read it back, so the winner too is told
    ``invalid_grant`` (``TokenView``). Asserts that one pair was issued from the code and is
    revoked, not that the two lost without one."""
    assert {answer.json()["error"] for answer in answers} == {"invalid_grant"}
    assert site.pairs() == before
    assert [details for _id, details, _ip in site.refusals()[seen:]] == [
        {"reason": "code_reused", "application": site.client.client_id, "grant_revoked": True}
    ]


# -- PostgreSQL: the live server ----------------------------------------------------------------

postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the suite's database")


class PostgreSQLSite:
    def __init__(self, server, browser, application):
        self.server, self.browser, self.client = server, browser, application

    @contextmanager
    def holding(self, code=None, refresh_token=None):
        if code is not None:
            rows = get_grant_model().objects.filter(code=code)
        else:
            checksum = hashlib.sha256(refresh_token.encode()).hexdigest()
            rows = get_refresh_token_model().objects.filter(token_checksum=checksum)
        locked, release = threading.Event(), threading.Event()

        def hold():
            try:
                with transaction.atomic():
                    assert len(rows.select_for_update()) == 1
                    locked.set()
                    release.wait(30)
            finally:
                connections.close_all()

        holder = threading.Thread(target=hold)
        holder.start()
        assert locked.wait(10)
        try:
            yield
        finally:
            release.set()
            holder.join(10)

    def wait_for_writers(self, count):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0] >= count:
                    return
            time.sleep(0.01)
        pytest.fail(f"{count} requests never waited for the held code")

    def pairs(self):
        return (
            get_access_token_model().objects.filter(application=self.client).count(),
            get_refresh_token_model()
            .objects.filter(application=self.client, revoked__isnull=True)
            .count(),
        )

    def refusals(self):
        return [
            (event.credential_id, event.details, event.ip)
            for event in CredentialEvent.objects.filter(event="refused").order_by("id")
        ]

    def revocations(self):
        return CredentialEvent.objects.filter(event="revoked").count()


@postgresql
@pytest.mark.django_db(transaction=True)
def test_two_redemptions_at_once_on_postgresql(server, browser, public_app):
    play_held_rounds_then_replay(PostgreSQLSite(server, browser, public_app))


@postgresql
@pytest.mark.django_db(transaction=True)
def test_redemptions_racing_as_they_come_on_postgresql(server, browser, public_app):
    play_free_rounds(PostgreSQLSite(server, browser, public_app))


# -- SQLite: the example project on runserver -----------------------------------------------------


class SQLiteSite:
    def __init__(self, url, path, client_id, session, begins):
        self.server = Server(url)
        self.path = path
        self.client = SimpleNamespace(client_id=client_id)
        self.browser = local(requests.Session())
        self.browser.cookies.set("sessionid", session)
        self.begins = begins

    @contextmanager
    def holding(self, **rows):
        while not self.begins.empty():  # what the consent wrote is done
            self.begins.get_nowait()
        holder = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()

    def wait_for_writers(self, count):
        for _ in range(count):
            self.begins.get(timeout=20)

    def read(self, sql):
        reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            return reader.execute(sql).fetchall()
        finally:
            reader.close()

    def pairs(self):
        [(access,)] = self.read("SELECT count(*) FROM oauth2_provider_accesstoken")
        [(refresh,)] = self.read(
            "SELECT count(*) FROM oauth2_provider_refreshtoken WHERE revoked IS NULL"
        )
        return access, refresh

    def refusals(self):
        rows = self.read(
            "SELECT credential_id, details, ip FROM iiniit_auth_credentialevent "
            "WHERE event = 'refused' ORDER BY id"
        )
        return [(credential, json.loads(details), ip) for credential, details, ip in rows]

    def revocations(self):
        [(count,)] = self.read(
            "SELECT count(*) FROM iiniit_auth_credentialevent WHERE event = 'revoked'"
        )
        return count


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def sqlite_site(tmp_path_factory):
    path = tmp_path_factory.mktemp("race") / "site.sqlite3"
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DEBUG", "SECRET_KEY"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DATABASE_URL=f"sqlite:///{path}",
        DEBUG="false",
        SECRET_KEY="race-tests-only-not-secret",
    )
    log = (path.parent / "runserver.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.oauth.sqlite_site", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("{"), line
        made = json.loads(line)
        begins = queue.Queue()

        def read_begins():
            for each in process.stdout:
                for _begin in range(each.count("BEGIN")):
                    begins.put(each)

        threading.Thread(target=read_begins, daemon=True).start()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                local(requests.Session()).get(f"{url}/o/.well-known/oauth-authorization-server")
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "runserver did not start"
                time.sleep(0.05)
        yield SQLiteSite(url, path, made["client_id"], made["session"], begins)
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()
        log.close()


def test_two_redemptions_at_once_on_sqlite(sqlite_site, insecure_transport):
    play_held_rounds_then_replay(sqlite_site)


def test_redemptions_racing_as_they_come_on_sqlite(sqlite_site, insecure_transport):
    play_free_rounds(sqlite_site)
