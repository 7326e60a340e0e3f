"""Schemathesis against the example API (example_api.py), in a process of its own: the
example project's settings, bounded examples, both schemes and no credential."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.once
def test_the_example_api_holds_to_its_schema(tmp_path):
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CACHE_URL")
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'unused.sqlite3'}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/openapi/example_api.py",
            "--ds=project.settings",
            "-p",
            "no:randomly",
            "-p",
            "no:xdist",
            "-q",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    # One test per operation of the example API: GET and POST /api/orders/, GET /api/ping/.
    assert "3 passed" in result.stdout, result.stdout[-5000:]
