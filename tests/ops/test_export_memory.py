"""The export streams: a million events take the memory of one chunk, not of a million rows.

The rows are made by one INSERT … SELECT in the database (seconds). The export writes to a sink
that keeps nothing, and the process's peak resident memory (``ru_maxrss``) is compared with its
resident memory just before: holding a million rows at once would raise the peak by several
hundred megabytes. No tracemalloc: it would multiply the run time several times over. About
30 s per format on an idle two-core machine, a few minutes on a loaded one.
"""

import resource
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from iiniit_auth.models import CredentialEvent

ROWS = 1_000_000
#: A generous bound for one chunk of rows, the encoder and the allocator's slack.
LIMIT = 64 * 1024 * 1024
STATM = Path("/proc/self/statm")

pytestmark = [
    pytest.mark.once,
    pytest.mark.django_db,
    pytest.mark.skipif(not STATM.exists(), reason="reads the resident memory from /proc"),
]


def resident():
    """The process's resident memory now, in bytes."""
    return int(STATM.read_text().split()[1]) * resource.getpagesize()


def peak():
    """The process's peak resident memory so far, in bytes (Linux counts ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (
        1 if sys.platform == "darwin" else 1024
    )


class Sink:
    """Standard output that counts lines and keeps nothing."""

    def __init__(self):
        self.lines = 0

    def write(self, text):
        self.lines += text.count("\n")

    def flush(self):
        pass


INSERT = (
    "INSERT INTO iiniit_auth_credentialevent "
    "(at, kind, credential_id, event, actor_id, actor_name, ip, details) "
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
    "SELECT %s, 'api_key', 'key' || i, 'issued', NULL, 'ann', NULL, {details} FROM n"
)
DETAILS = {
    "postgresql": "CAST('{\"n\": ' || i || '}' AS jsonb)",
    "sqlite": "'{\"n\": ' || i || '}'",
}


def a_million_events():
    sql = INSERT.format(details=DETAILS[connection.vendor])
    with connection.cursor() as cursor:
        cursor.execute(sql, [ROWS, datetime(2026, 1, 1, tzinfo=UTC)])


def test_exporting_a_million_events_takes_the_memory_of_one_chunk():
    a_million_events()
    assert CredentialEvent.objects.count() == ROWS

    for form in ("jsonl", "csv"):
        sink = Sink()
        before = resident()
        call_command("audit", "export", "--format", form, stdout=sink)

        assert sink.lines == ROWS + (form == "csv")
        grown = peak() - before
        assert grown < LIMIT, f"{form}: the peak grew by {grown / 2**20:.0f} MiB"
