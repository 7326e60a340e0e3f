"""The test suite's settings with a second database, "replica", where a router sends reads.

The replica is a database of its own that no one replicates to: a test copies rows there, as
replication would have before a revocation, and so shows what a lagging replica still holds.
Used by tests/production/replica_cases.py (run by tests/test_lookup.py).
"""

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

_default = DATABASES["default"]
DATABASES = {
    "default": _default,
    "replica": {
        **_default,
        # On PostgreSQL the test database needs a name of its own; SQLite's is in memory.
        "TEST": {"NAME": f"test_{_default['NAME']}_replica"}
        if "postgresql" in _default["ENGINE"]
        else {},
    },
}
DATABASE_ROUTERS = ["tests.production.routers.PrimaryReplicaRouter"]
