"""Check that the built wheel works where nothing but its declared dependencies is installed.

Usage: python tools/check_installed.py DIST_DIR   (exits non-zero, saying what failed)

The suite runs in a virtualenv that also holds the test and lint tools, so a module that
imports one of those at run time passes there and fails for every project that installs the
package. Here the newest wheel in DIST_DIR goes into a new virtualenv of its own, outside the
repository, and tests/test_quickstart.py runs with that virtualenv's Python: a project made by
``django-admin startproject`` and set up as the README's quick start says, which passes Django's
checks and the migrations check, imports every module of the package, runs the management
command, and answers the README's curl lines and the key issued in Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: How the Makefile and .ci/run hand the pins to pip.
PIN_VARIABLES = {"PIP_CONSTRAINT", "PIP_BUILD_CONSTRAINT"}


def main() -> int:
    dist = Path(sys.argv[1] if len(sys.argv) > 1 else "dist").resolve()
    wheels = sorted(dist.glob("iiniit_auth-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        print(f"No iiniit_auth wheel in {dist}/")
        return 1
    wheel = wheels[-1]
    with tempfile.TemporaryDirectory(prefix="iiniit-installed-") as where:
        home = Path(where)
        venv.create(home / "venv", with_pip=True)
        python = str(home / "venv" / "bin" / "python")
        install = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        # The newest releases its own ranges allow, never the development pins (constraints.txt),
        # whatever the caller's environment holds: this is the check of those ranges.
        unpinned = {k: v for k, v in os.environ.items() if k not in PIN_VARIABLES}
        subprocess.run([*install, str(wheel)], env=unpinned, check=True)  # noqa: S603 - our own paths
        installed = subprocess.run(  # noqa: S603 - our own paths
            [python, "-c", "import iiniit_auth; print(iiniit_auth.__file__)"],
            cwd=home,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not installed.startswith(str(home / "venv")):
            print(f"iiniit_auth was imported from {installed}, not the installed wheel")
            return 1
        quickstart = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests/test_quickstart.py"],
            cwd=ROOT,
            env={**os.environ, "QUICKSTART_PYTHON": python},
            capture_output=True,
            text=True,
        )
        print(quickstart.stdout.strip().splitlines()[-1])
        if quickstart.returncode:
            print(quickstart.stdout + quickstart.stderr, end="")
            print(f"{wheel.name}: the README's quick start fails with only its dependencies")
            return 1
    print(f"{wheel.name}: works with only its declared dependencies, set up as the README says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
