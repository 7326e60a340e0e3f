"""Check that the built wheel works where nothing but its declared dependencies is installed.

Usage: python tools/check_installed.py DIST_DIR   (exits non-zero, saying what failed)

The suite runs in a virtualenv that also holds the test and lint tools, so a module that
imports one of those at run time passes there and fails for every project that installs the
package. Here the newest wheel in DIST_DIR goes into a new virtualenv of its own, outside the
repository; a project made there by ``django-admin startproject`` is set up as the README's
quick start says (its settings, views and URLconf blocks, read by tests/test_quickstart.py's
own reader), and then passes Django's system checks, finds no model change without its
migration, migrates, imports every module of the package and shows the management command's
help. Last, tests/test_quickstart.py runs the quick start's whole scenario (the server, the
curl lines, the key issued in Python) with that virtualenv's Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_quickstart import blocks  # noqa: E402 - the README's blocks, read one way

IMPORT_ALL = """
import importlib, pkgutil, sys
import iiniit_auth
if "site-packages" not in iiniit_auth.__file__:
    sys.exit(f"iiniit_auth was imported from {iiniit_auth.__file__}, not the installed wheel")
names = [m.name for m in pkgutil.walk_packages(iiniit_auth.__path__, "iiniit_auth.")]
for name in names:
    importlib.import_module(name)
print(f"imported {len(names)} modules of iiniit_auth")
"""


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
        bin_ = home / "venv" / "bin"
        project = home / "project"
        project.mkdir()

        def run(*argv: str) -> str | None:
            """Run ``argv`` in the project; its output, or None (reported) if it failed."""
            ran = subprocess.run(  # noqa: S603 - our own paths and arguments
                argv, cwd=project, capture_output=True, text=True
            )
            if ran.returncode:
                print(ran.stdout + ran.stderr, end="")
                print(
                    f"{wheel.name}: `{' '.join(argv[1:])}` failed with only its declared "
                    "dependencies installed"
                )
                return None
            return ran.stdout

        python = str(bin_ / "python")
        if (
            run(
                python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)
            )
            is None
        ):
            return 1
        if run(str(bin_ / "django-admin"), "startproject", "mysite", ".") is None:
            return 1
        for name, body in blocks("append"):
            with (project / name).open("a", encoding="utf-8") as file:
                file.write("\n" + body)
        for name, body in blocks("write"):
            (project / name).write_text(body, encoding="utf-8")
        for argv in (
            ("check", "--fail-level", "WARNING"),
            # Under the project's own settings, the package's migrations hold its models: no
            # makemigrations of the project's writes into site-packages.
            ("makemigrations", "--check", "--dry-run"),
            ("migrate", "--verbosity", "0"),
            ("shell", "--command", IMPORT_ALL),
            ("apikey", "--help"),
        ):
            output = run(python, "manage.py", *argv)
            if output is None:
                return 1
            if argv[0] == "shell":
                print(output, end="")
        # And the quick start's whole scenario (serve, curl, OAuth) on that interpreter.
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
