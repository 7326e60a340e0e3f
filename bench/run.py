"""Run the benchmark: ``python -m bench [--keys 1000,100000] [--rounds 60] ...``.

For every N in ``--keys``: grow every contender to N credentials, warm up, then run rounds.
A round times ``--per-round`` requests of every contender, the contenders in a fresh random
order each round so machine noise falls on all of them alike, and keeps each contender's median
request time. A contender's overhead in a round is its time minus the bare view's in the same
round; the report gives the median overhead over the rounds, its ratio to DRF
TokenAuthentication's and to the floor's (the lookup's SQL on the driver's own cursor and the
digest compare, nothing else), the spread (25th to 75th percentile), the SQL queries of one
request and its status (asserted on every request: 200 on accept, 401 on the malformed key).
Then the limits, each judged on the ratios of the same run.

Requests are built with Django's RequestFactory and handed to the view in the same process, so
what is measured is the view and what it calls (authentication, permission, rendering), not
the HTTP stack, which costs the same for every contender.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

#: The contenders, in the order of the table: (name, label, expected status).
CONTENDERS: list[tuple[str, str, int]] = [
    ("drf_token", "DRF TokenAuthentication (plaintext key)", 200),
    ("drf_api_key", "djangorestframework-api-key (SHA-512, permission)", 200),
    ("knox", "django-rest-knox (SHA-512)", 200),
    ("dot", "django-oauth-toolkit OAuth2Authentication (bearer)", 200),
    ("ours_key", "iiniit_auth API key, no cache", 200),
    ("ours_key_cached", "iiniit_auth API key, cache on (locmem)", 200),
    ("ours_malformed", "iiniit_auth malformed key (bad checksum)", 401),
    ("ours_bearer", "iiniit_auth OAuth2Authentication (bearer)", 200),
    ("bare_async", "bare ADRF async view (no authentication), through async_to_sync", 200),
    ("ours_key_async", "iiniit_auth API key, ADRF async view, through async_to_sync", 200),
    ("floor", "floor: the lookup's SELECT on the driver's own cursor + digest compare", 200),
    (
        "floor_bearer",
        "floor of a bearer token: its lookup's SELECT on the driver's own cursor",
        200,
    ),
]
BASELINE = "drf_token"
FLOOR = "floor"
BEARER_FLOOR = "floor_bearer"
#: How a run with --prepared describes its database.
PREPARED_DESCRIPTION = ", prepared statements (server_side_binding, prepare_threshold 5)"
#: The most an accepted key (no cache) may cost, as a multiple of DRF TokenAuthentication's
#: overhead, by database: the round trip is a larger share of every contender's time on
#: PostgreSQL, and the server parses and plans each statement unless it is prepared.
ACCEPTED_LIMITS = {"sqlite": 0.4, "postgresql": 0.7, "postgresql-prepared": 0.55}
CACHED_LIMIT = 0.15
MALFORMED_LIMIT = 0.1
#: Our bearer class against django-oauth-toolkit's own, on the same token.
BEARER_LIMIT = 0.3
SCALE_LIMIT = 1.2
PEER_PACKAGES = {
    "drf_token": "djangorestframework",
    "drf_api_key": "djangorestframework-api-key",
    "knox": "django-rest-knox",
    "dot": "django-oauth-toolkit",
}


@dataclass
class Result:
    """One contender at one N. Times are in microseconds."""

    name: str
    label: str
    status: int
    queries: int
    median_us: float
    overhead_us: float
    overhead_p25_us: float
    overhead_p75_us: float
    ratio: float | None
    rounds: int
    #: The overhead as a multiple of the floor's (None for the bare view).
    floor_ratio: float | None = None


@dataclass
class Target:
    """One limit, as measured."""

    name: str
    keys: int | None
    measured: float | None
    limit: float
    met: bool | None
    detail: str


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--keys",
        default="1000,100000",
        help="comma-separated credential counts per contender (default: 1000,100000)",
    )
    parser.add_argument("--rounds", type=int, default=60, help="rounds per N (default: 60)")
    parser.add_argument(
        "--per-round", type=int, default=15, help="requests per contender per round (default: 15)"
    )
    parser.add_argument(
        "--warmup", type=int, default=200, help="warm-up requests per contender (default: 200)"
    )
    parser.add_argument(
        "--json", type=Path, help="write the results here (default: bench/results/)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a quick run that checks the contenders work; ratios are reported, never judged",
    )
    parser.add_argument(
        "--prepared",
        action="store_true",
        help="PostgreSQL with psycopg 3 only: Django binds parameters on the server and psycopg "
        "prepares repeated statements, for every contender alike (OPTIONS server_side_binding "
        "and prepare_threshold, as docs/performance.md recommends)",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a target is not met (never with --smoke)"
    )
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(part.replace("_", "")) for part in args.keys.split(",")})
    except ValueError:
        parser.error("--keys takes comma-separated integers, e.g. 1000,100000")
    if not args.sizes or args.sizes[0] < 1 or args.rounds < 1 or args.per_round < 1:
        parser.error("--keys, --rounds and --per-round must be positive")
    return args


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()


@contextmanager
def database(migrate: bool = True) -> Iterator[str]:
    """Create the benchmark's own database (a temporary SQLite file, or on PostgreSQL
    ``BENCH_DATABASE_NAME``, ``iiniit_bench`` by default),
    yield a description of it, and drop it at the end.

    ``migrate=False`` creates the tables straight from the models, which is quicker (the smoke
    run); the tables and indexes are the same.
    """
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["MIGRATE"] = migrate
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
                described = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
            else:
                import sqlite3

                described = f"SQLite {sqlite3.sqlite_version} (file)"
        yield described
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


class Bench:
    """The views, the requests that reach them, and the timing."""

    def __init__(self, headers: dict[str, str]) -> None:
        from django.conf import settings
        from django.test import RequestFactory

        from bench.asyncview import async_views
        from bench.views import BareView, BearerFloorView, FloorView, OursView, peer_views

        self.factory = RequestFactory()
        self.headers = headers
        peers = peer_views()
        asynchronous = async_views()
        ours = OursView.as_view()
        self.views: dict[str, Callable[..., Any]] = {"bare": BareView.as_view()}
        for name, _label, _status in CONTENDERS:
            if name in peers:
                self.views[name] = peers[name].as_view()
            elif name in asynchronous:
                self.views[name] = asynchronous[name]
            elif name.startswith("ours"):
                self.views[name] = ours
            elif name == FLOOR:
                self.views[name] = FloorView.as_view()
            elif name == BEARER_FLOOR:
                self.views[name] = BearerFloorView.as_view()
        self.expected = {name: status for name, _label, status in CONTENDERS}
        self.expected["bare"] = 200
        self.base_auth_settings = dict(settings.IINIIT_AUTH)

    @property
    def names(self) -> list[str]:
        return list(self.views)

    @contextmanager
    def configured(self, name: str) -> Iterator[None]:
        """The settings a contender runs under: the cache on only for ``ours_key_cached``; the
        failed-authentication limiter off for ``ours_malformed``, whose one client would
        otherwise be answered 429 from its 61st refusal on (the limiter's cheaper answer)."""
        changes = {
            "ours_key_cached": {"CACHE": "bench"},
            "ours_malformed": {"FAILED_AUTH_LIMIT": None},
        }
        if name not in changes:
            yield
            return
        from django.test import override_settings

        with override_settings(IINIIT_AUTH={**self.base_auth_settings, **changes[name]}):
            yield

    def request(self, name: str) -> Any:
        header = self.headers.get(name)
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        return self.factory.get(f"/{name}/", **extra)

    def call(self, name: str, request: Any) -> Any:
        response = self.views[name](request)
        response.render()
        return response

    def check(self, name: str, response: Any) -> None:
        expected = self.expected[name]
        if response.status_code != expected:
            raise AssertionError(
                f"{name}: expected {expected}, got {response.status_code}: "
                f"{response.content[:200]!r}"
            )

    def warm_up(self, requests: int) -> None:
        for name in self.names:
            with self.configured(name):
                for _ in range(requests):
                    self.check(name, self.call(name, self.request(name)))

    def queries(self, name: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        if name in (FLOOR, BEARER_FLOOR):
            return 1  # on the driver's own cursor, which Django does not see

        with self.configured(name), CaptureQueriesContext(connection) as captured:
            self.check(name, self.call(name, self.request(name)))
        return len(captured.captured_queries)

    def batch(self, name: str, size: int) -> float:
        """Time ``size`` requests of one contender; return the median, in microseconds."""
        with self.configured(name):
            # One untimed request first: the settings rebuild after the switch, and the code
            # path back in the CPU's caches, for every contender alike.
            self.check(name, self.call(name, self.request(name)))
            requests = [self.request(name) for _ in range(size)]
            times: list[int] = []
            responses = []
            gc.collect()
            gc.disable()
            try:
                for request in requests:
                    start = time.perf_counter_ns()
                    response = self.views[name](request)
                    response.render()
                    times.append(time.perf_counter_ns() - start)
                    responses.append(response)
            finally:
                gc.enable()
            for response in responses:
                self.check(name, response)
        return statistics.median(times) / 1000


def quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def run_size(bench: Bench, args: argparse.Namespace, rng: Any) -> dict[str, Result]:
    per_round: dict[str, list[float]] = {name: [] for name in bench.names}
    order = bench.names
    for _round in range(args.rounds):
        rng.shuffle(order)
        for name in order:
            per_round[name].append(bench.batch(name, args.per_round))
    bare = per_round["bare"]
    overheads = {
        name: [t - b for t, b in zip(times, bare, strict=True)] for name, times in per_round.items()
    }
    baseline = statistics.median(overheads[BASELINE]) if BASELINE in overheads else None
    floor = statistics.median(overheads[FLOOR]) if FLOOR in overheads else None
    labels = {name: label for name, label, _status in CONTENDERS}
    labels["bare"] = "bare view (no authentication)"
    results = {}
    for name in bench.names:
        overhead = statistics.median(overheads[name])
        p25, p75 = quartiles(overheads[name])
        results[name] = Result(
            name=name,
            label=labels[name],
            status=bench.expected[name],
            queries=bench.queries(name),
            median_us=statistics.median(per_round[name]),
            overhead_us=overhead,
            overhead_p25_us=p25,
            overhead_p75_us=p75,
            ratio=overhead / baseline if baseline and name != "bare" else None,
            rounds=args.rounds,
            floor_ratio=overhead / floor if floor and floor > 0 and name != "bare" else None,
        )
    return results


def setting(database: str, prepared: bool) -> str:
    """The key of :data:`ACCEPTED_LIMITS` for a run on ``database`` (as the run describes it)."""
    if not database.startswith("PostgreSQL"):
        return "sqlite"
    return "postgresql-prepared" if prepared else "postgresql"


def targets(by_size: dict[int, dict[str, Result]], where: str = "sqlite") -> list[Target]:
    """The limits, judged on the measured figures of a run on ``where`` (see :func:`setting`)."""
    found: list[Target] = []

    def ratio_target(name: str, contender: str, limit: float, queries: int) -> None:
        for size, results in by_size.items():
            result = results.get(contender)
            if result is None or result.ratio is None:
                continue
            met = result.ratio <= limit and result.queries <= queries
            floor = "" if result.floor_ratio is None else f", {result.floor_ratio:.2f} x the floor"
            found.append(
                Target(
                    name=name,
                    keys=size,
                    measured=round(result.ratio, 3),
                    limit=limit,
                    met=met,
                    detail=f"{result.ratio:.3f} x DRF TokenAuthentication{floor}, "
                    f"{result.queries} quer{'y' if result.queries == 1 else 'ies'} "
                    f"(limit {limit} x, <= {queries})",
                )
            )

    ratio_target("API key, accepted, no cache", "ours_key", ACCEPTED_LIMITS[where], 1)
    ratio_target("API key, accepted, cache on", "ours_key_cached", CACHED_LIMIT, 0)
    ratio_target("Malformed or checksum-failing key", "ours_malformed", MALFORMED_LIMIT, 0)
    for size, results in by_size.items():
        ours, dot = results.get("ours_bearer"), results.get("dot")
        if ours is None or dot is None or dot.overhead_us <= 0:
            continue
        ratio = ours.overhead_us / dot.overhead_us
        floor = results.get(BEARER_FLOOR)
        alone = (
            ""
            if floor is None
            else f"; the token's SELECT alone {floor.overhead_us / dot.overhead_us:.3f} x"
        )
        found.append(
            Target(
                name="OAuth bearer through iiniit_auth",
                keys=size,
                measured=round(ratio, 3),
                limit=BEARER_LIMIT,
                met=ratio <= BEARER_LIMIT,
                detail=f"{ratio:.3f} x django-oauth-toolkit's own{alone} (limit {BEARER_LIMIT} x)",
            )
        )
    sizes = sorted(by_size)
    if len(sizes) > 1 and "ours_key" in by_size[sizes[0]] and "bare" in by_size[sizes[0]]:
        # Each size is measured minutes after the previous one, and a shared machine's speed
        # drifts more than that in the meantime: so each size's request time is taken relative
        # to the bare view's, measured in the same rounds.
        small, large = by_size[sizes[0]]["ours_key"], by_size[sizes[-1]]["ours_key"]
        small_bare, large_bare = by_size[sizes[0]]["bare"], by_size[sizes[-1]]["bare"]
        small_times = small.median_us / small_bare.median_us
        large_times = large.median_us / large_bare.median_us
        ratio = large_times / small_times
        found.append(
            Target(
                name="Scale: accepted-key request time",
                keys=sizes[-1],
                measured=round(ratio, 3),
                limit=SCALE_LIMIT,
                met=ratio <= SCALE_LIMIT,
                detail=f"{large.median_us:.0f} us at {sizes[-1]:,} keys, {large_times:.2f} x "
                f"the bare view's {large_bare.median_us:.0f} us / {small.median_us:.0f} us at "
                f"{sizes[0]:,}, {small_times:.2f} x the bare view's {small_bare.median_us:.0f} us "
                f"= {ratio:.3f} (limit {SCALE_LIMIT})",
            )
        )
    return found


def table(size: int, results: dict[str, Result]) -> str:
    lines = [
        f"N = {size:,} credentials per contender",
        "| contender | overhead (median) | spread (p25-p75) | x DRF token | x floor | queries "
        "| status |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in results:
        result = results[name]
        if name == "bare":
            lines.append(
                f"| {result.label} | request {result.median_us / 1000:.3f} ms | | | | "
                f"{result.queries} | {result.status} |"
            )
            continue
        ratio = f"{result.ratio:.2f}" if result.ratio is not None else "-"
        floor = f"{result.floor_ratio:.2f}" if result.floor_ratio is not None else "-"
        lines.append(
            f"| {result.label} | {result.overhead_us / 1000:.3f} ms "
            f"| {result.overhead_p25_us / 1000:.3f}-{result.overhead_p75_us / 1000:.3f} ms "
            f"| {ratio} | {floor} | {result.queries} | {result.status} |"
        )
    return "\n".join(lines)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("Django", "djangorestframework", "iiniit-auth", *PEER_PACKAGES.values()):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the tables and targets; write the JSON. Returns the exit code."""
    import random

    args = parse_args(argv)
    if args.prepared:
        if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
            print("--prepared needs DATABASE_URL to name a PostgreSQL server.", file=sys.stderr)
            return 2
        if find_spec("psycopg") is None:
            print(
                "--prepared needs psycopg 3: psycopg 2 has no prepare_threshold.", file=sys.stderr
            )
            return 2
        os.environ["BENCH_PREPARED"] = "1"
    setup_django()
    from django.conf import settings

    from bench.seed import Seeder

    missing = [
        PEER_PACKAGES[name]
        for name, app in (
            ("drf_token", "rest_framework.authtoken"),
            ("drf_api_key", "rest_framework_api_key"),
            ("knox", "knox"),
        )
        if app not in settings.INSTALLED_APPS
    ]
    if missing and not args.smoke:
        print(
            f"Missing peers: {', '.join(missing)}. Install the bench extra: "
            'pip install -e ".[bench]" (make bench does).',
            file=sys.stderr,
        )
        return 2
    rng = random.Random(7)
    by_size: dict[int, dict[str, Result]] = {}
    started = time.time()
    with database(migrate=not args.smoke) as described:
        described += PREPARED_DESCRIPTION if args.prepared else ""
        print(f"Database: {described}", flush=True)
        seeder = Seeder()
        headers = seeder.create_measured().headers
        bench = Bench(headers)
        for size in args.sizes:
            begun = time.monotonic()
            print(f"Seeding {size:,} credentials per contender...", flush=True)
            seeder.grow(size, progress=lambda message: print(message, flush=True))
            print(f"  seeded in {time.monotonic() - begun:.0f} s", flush=True)
            bench.warm_up(args.warmup)
            by_size[size] = run_size(bench, args, rng)
            print(table(size, by_size[size]), flush=True)
        judged = targets(by_size, setting(described, args.prepared))
    print("\nLimits, as multiples of the same run's figures:")
    for target in judged:
        mark = "met" if target.met else "NOT MET"
        if args.smoke:
            mark = "not judged (smoke run)"
        keys = f" at {target.keys:,} keys" if target.keys else ""
        print(f"- {target.name}{keys}: {mark}: {target.detail}")
    report = {
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "database": described,
        "prepared": args.prepared,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "versions": versions(),
        "rounds": args.rounds,
        "per_round": args.per_round,
        "warmup": args.warmup,
        "smoke": args.smoke,
        "results": {
            str(size): {name: asdict(result) for name, result in results.items()}
            for size, results in by_size.items()
        },
        "targets": [asdict(target) for target in judged],
    }
    path = args.json
    if path is None:
        RESULTS.mkdir(exist_ok=True)
        vendor = "postgresql" if described.startswith("PostgreSQL") else "sqlite"
        vendor += "-prepared" if args.prepared else ""
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started))
        path = RESULTS / f"{stamp}-{vendor}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nResults written to {path}")
    if args.check and not args.smoke and not all(target.met for target in judged):
        return 1
    return 0
