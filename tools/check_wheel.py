"""Check that a built wheel carries every file of the package and nothing else of the repository.

Usage: python tools/check_wheel.py DIST_DIR   (exits non-zero, listing what is wrong)

Each pattern of pyproject.toml's package data must match a file of the wheel too: a pattern
that matches nothing declares files the package does not ship (translations, once). The license
file must be in the wheel's ``.dist-info/licenses/`` and named by its metadata, and
``twine check --strict`` must pass (tools/artifacts.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from fnmatch import fnmatchcase
from pathlib import Path

from artifacts import license_problems, twine_problems  # tools/, this script's own directory

REQUIRED = ["iiniit_auth/py.typed", "iiniit_auth/migrations/0001_initial.py"]
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def package_data() -> list[str]:
    """The package data patterns of pyproject.toml, each prefixed with its package's directory."""
    tool = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]
    return [
        f"{package.replace('.', '/')}/{pattern}"
        for package, patterns in tool.get("package-data", {}).items()
        for pattern in patterns
    ]


def main() -> int:
    dist = Path(sys.argv[1] if len(sys.argv) > 1 else "dist")
    wheels = sorted(dist.glob("iiniit_auth-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        print(f"No iiniit_auth wheel in {dist}/")
        return 1
    wheel = zipfile.ZipFile(wheels[-1])
    names = set(wheel.namelist())
    git = shutil.which("git") or "git"
    tracked = subprocess.run(  # noqa: S603 - fixed arguments, no user input
        [git, "ls-files", "iiniit_auth"], capture_output=True, text=True, check=True
    ).stdout.split()
    problems = [
        f"missing from the wheel: {name}"
        for name in sorted(set(tracked) | set(REQUIRED))
        if name not in names
    ]
    problems += [
        f"should not be in the wheel: {name}"
        for name in sorted(names)
        if name.split("/")[0] in {"tests", "project", "templates", "bench", "docs", "tools"}
    ]
    # By fnmatch, whose * crosses directories: enough to tell a pattern that matches nothing.
    problems += [
        f"package data that matches nothing in the wheel: {pattern}"
        for pattern in package_data()
        if not any(fnmatchcase(name, pattern) for name in names)
    ]
    dist_info = next(name.split("/")[0] for name in names if name.endswith(".dist-info/METADATA"))
    licenses = f"{dist_info}/licenses/"
    problems += license_problems(
        wheel.read(f"{dist_info}/METADATA").decode("utf-8"),
        {name.removeprefix(licenses) for name in names if name.startswith(licenses)},
    )
    problems += twine_problems(wheels[-1])
    for problem in problems:
        print(problem)
    print(f"{wheels[-1].name}: {len(names)} files, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
