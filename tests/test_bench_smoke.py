"""The benchmark runs (make bench, docs/performance.md): a tiny N and few rounds, so it never
rots. Every contender answers as it should and the report has what the docs promise; the
figures themselves are not judged here (they are machine noise at this size)."""

import json
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CONTENDERS = {
    "bare": 200,
    "drf_token": 200,
    "drf_api_key": 200,
    "knox": 200,
    "dot": 200,
    "ours_key": 200,
    "ours_key_cached": 200,
    "ours_malformed": 401,
    "ours_bearer": 200,
    "bare_async": 200,
    "ours_key_async": 200,
    "floor": 200,
    "floor_bearer": 200,
}


def run_bench(*arguments, database_url=None, **env):
    """Run ``python -m bench`` with ``arguments`` in a fresh process, on SQLite unless
    ``database_url`` is given; return the finished process."""
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    if database_url:
        environment["DATABASE_URL"] = database_url
    return subprocess.run(  # noqa: S603  (this interpreter, fixed arguments)
        [sys.executable, "-m", "bench", *arguments],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_smoke_run_measures_every_contender(tmp_path):
    report = tmp_path / "smoke.json"

    arguments = ["--smoke", "--keys", "5,20", "--rounds", "2", "--per-round", "2", "--warmup", "1"]
    done = run_bench(*arguments, "--json", str(report))

    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(report.read_text())
    assert results["smoke"] is True
    assert results["database"].startswith("SQLite")
    assert set(results["results"]) == {"5", "20"}
    for size in ("5", "20"):
        measured = results["results"][size]
        assert {name: each["status"] for name, each in measured.items()} == CONTENDERS
        assert measured["ours_key"]["queries"] == 1
        assert measured["ours_key_cached"]["queries"] == 0
        assert measured["ours_malformed"]["queries"] == 0
        assert measured["ours_bearer"]["queries"] == 1
        assert measured["ours_key_async"]["queries"] == 1
        assert measured["floor"]["queries"] == 1  # on the driver's cursor
        assert measured["floor_bearer"]["queries"] == 1
        assert measured["drf_token"]["ratio"] == 1.0
        floor = measured["floor"]  # a tiny run's noise can put it under the bare view
        assert floor["floor_ratio"] == (1.0 if floor["overhead_us"] > 0 else None)
        assert measured["bare"]["floor_ratio"] is None
        assert all(each["rounds"] == 2 for each in measured.values())
    judged = {target["name"] for target in results["targets"]}
    assert judged == {
        "API key, accepted, no cache",
        "API key, accepted, cache on",
        "Malformed or checksum-failing key",
        "OAuth bearer through iiniit_auth",
        "Scale: accepted-key request time",
    }
    assert "| iiniit_auth API key, no cache |" in done.stdout
    assert "not judged (smoke run)" in done.stdout
    assert "NOT MET" not in done.stdout
    assert (
        "| floor: the lookup's SELECT on the driver's own cursor + digest compare |" in done.stdout
    )
    assert "(limit 0.4 x, <= 1)" in done.stdout  # SQLite's limit for an accepted key
    assert "the token's SELECT alone" in done.stdout


def test_prepared_needs_postgresql():
    done = run_bench("--smoke", "--prepared")

    assert done.returncode == 2
    assert "--prepared needs DATABASE_URL to name a PostgreSQL server." in done.stderr


ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
PSYCOPG3 = find_spec("psycopg") is not None  # Django takes psycopg 3 where it is installed


@pytest.mark.skipif(not ON_POSTGRESQL or PSYCOPG3, reason="the psycopg 2 leg's")
def test_prepared_needs_psycopg3():
    done = run_bench("--smoke", "--prepared", database_url=os.environ["DATABASE_URL"])

    assert done.returncode == 2
    assert "--prepared needs psycopg 3: psycopg 2 has no prepare_threshold." in done.stderr


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL's")
@pytest.mark.parametrize("prepared", [False, True], ids=["defaults", "prepared"])
def test_a_smoke_run_on_postgresql(tmp_path, prepared):
    if prepared and not PSYCOPG3:
        pytest.skip("prepared statements are psycopg 3's")
    report = tmp_path / "smoke.json"

    arguments = ["--smoke", "--keys", "5", "--rounds", "1", "--per-round", "7", "--warmup", "1"]
    done = run_bench(
        *arguments,
        *(["--prepared"] if prepared else []),
        "--json",
        str(report),
        database_url=os.environ["DATABASE_URL"],
        BENCH_DATABASE_NAME=f"iiniit_bench_smoke_{prepared:d}_{os.getpid()}",
    )

    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(report.read_text())
    assert results["prepared"] is prepared
    assert results["database"].startswith("PostgreSQL")
    assert ("server_side_binding, prepare_threshold 5" in results["database"]) is prepared
    measured = results["results"]["5"]
    assert {name: each["status"] for name, each in measured.items()} == CONTENDERS
    assert measured["ours_key"]["queries"] == 1
    limit = 0.55 if prepared else 0.7
    assert f"(limit {limit} x, <= 1)" in done.stdout


def result(name, median_us):
    from bench.run import Result

    return Result(
        name=name,
        label=name,
        status=200,
        queries=1,
        median_us=median_us,
        overhead_us=median_us - 50,
        overhead_p25_us=0,
        overhead_p75_us=0,
        ratio=None,
        rounds=1,
    )


@pytest.mark.parametrize(
    ("large_bare", "large_ours", "measured", "met"),
    [
        (100, 200, 1.0, True),  # a machine twice as slow at the second size: no growth
        (50, 130, 1.3, False),  # the lookup itself grew: 1.3 x, relative to the bare view
        (50, 110, 1.1, True),
    ],
)
def test_the_scale_target_is_relative_to_the_bare_view(large_bare, large_ours, measured, met):
    from bench.report import judged
    from bench.run import targets

    by_size = {
        1_000: {"bare": result("bare", 50), "ours_key": result("ours_key", 100)},
        1_000_000: {"bare": result("bare", large_bare), "ours_key": result("ours_key", large_ours)},
    }

    (scale,) = [each for each in targets(by_size) if each.name.startswith("Scale")]

    assert scale.measured == measured
    assert scale.met is met
    report = {
        "database": "SQLite",
        "results": {
            str(size): {n: vars(r) for n, r in each.items()} for size, each in by_size.items()
        },
    }
    assert [each["measured"] for each in judged(report) if each["name"].startswith("Scale")] == [
        measured
    ]


@pytest.mark.parametrize(
    ("database", "prepared", "limit"),
    [
        ("SQLite 3.40.1 (file)", False, 0.4),
        ("PostgreSQL 16.4", False, 0.7),
        ("PostgreSQL 16.4, prepared statements", True, 0.55),
    ],
)
def test_an_accepted_key_is_judged_by_its_databases_limit(database, prepared, limit):
    from bench.report import judged

    ours = result("ours_key", 50 + 0.5 * 200)  # half of DRF's overhead
    by_size = {1_000: {"drf_token": result("drf_token", 250), "ours_key": ours}}
    ours.ratio = 0.5
    report = {
        "database": database,
        "prepared": prepared,
        "results": {"1000": {n: vars(r) for n, r in by_size[1_000].items()}},
    }

    (accepted,) = [each for each in judged(report) if each["name"].startswith("API key")]

    assert accepted["limit"] == limit
    assert accepted["met"] is (limit >= 0.5)
