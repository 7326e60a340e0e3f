"""The benchmark runs (make bench, docs/performance.md): a tiny N and few rounds, so it never
rots. Every contender answers as it should and the report has what the docs promise; the
figures themselves are not judged here (they are machine noise at this size)."""

import json
import os
import subprocess
import sys
from pathlib import Path

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
    "lookup_sql": 200,
}


def test_a_smoke_run_measures_every_contender(tmp_path):
    report = tmp_path / "smoke.json"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    arguments = ["--smoke", "--keys", "5,20", "--rounds", "2", "--per-round", "2", "--warmup", "1"]
    done = subprocess.run(  # noqa: S603  (this interpreter, fixed arguments)
        [sys.executable, "-m", "bench", *arguments, "--json", str(report)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

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
        assert measured["lookup_sql"]["queries"] == 1  # on the driver's cursor
        assert measured["drf_token"]["ratio"] == 1.0
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
    assert "| yardstick: the key lookup's SQL alone, on the driver's cursor |" in done.stdout


def test_prepared_needs_postgresql():
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--prepared"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "--prepared needs DATABASE_URL to name a PostgreSQL server." in done.stderr
