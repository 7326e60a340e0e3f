"""Check the source distribution: what it holds, its metadata, and its own tests, run from it.

Usage: python tools/check_sdist.py DIST_DIR   (exits non-zero, saying what is wrong)

The newest sdist in DIST_DIR must hold every file git tracks (the package, its tests, the docs,
the example project, the tools, LICENSE and CHANGELOG.md) and nothing git does not (caches,
screenshots, databases), with PKG-INFO naming the license as pyproject.toml declares it, and
``twine check --strict`` must pass (tools/artifacts.py). Then it is unpacked outside the
repository and installed, with its test extra and under its own constraints.txt, into a new
virtualenv: pip builds a wheel from the unpacked tree, so the sdist builds. There, from the
unpacked tree, runs a part of the suite that touches each layer in about a minute (the whole
suite is make test's): :data:`TESTS`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from pathlib import Path

from artifacts import license_problems, twine_problems  # tools/, this script's own directory

ROOT = Path(__file__).resolve().parents[1]
#: What setuptools adds to every sdist besides the files MANIFEST.in names.
GENERATED = {"PKG-INFO", "setup.cfg"}
#: The part of the suite run from the unpacked sdist: the key format, the models and their one
#: writer, authentication and scopes over HTTP, the system checks, and the version (the
#: metadata of the wheel built from the sdist against the package and CHANGELOG.md).
TESTS = [
    "tests/test_keys.py",
    "tests/test_models.py",
    "tests/test_authentication.py",
    "tests/test_permissions.py",
    "tests/test_checks.py",
    "tests/test_version.py",
]
#: The caller's variables that must not reach the sdist's install and tests: its pins (the
#: sdist's own are used), and its database (the part runs on SQLite).
OWN_VARIABLES = {"PIP_CONSTRAINT", "PIP_BUILD_CONSTRAINT", "DATABASE_URL"}


def tracked() -> set[str]:
    """The files git tracks in the repository."""
    git = shutil.which("git") or "git"
    listed = subprocess.run(  # noqa: S603 - fixed arguments, no user input
        [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return {name for name in listed.split("\0") if name}


def contents_problems(sdist: tarfile.TarFile) -> list[str]:
    """What the sdist lacks or holds beyond the tracked files, and what its metadata gets wrong."""
    members = [member for member in sdist.getmembers() if member.isfile()]
    top = members[0].name.split("/")[0]
    names = {member.name.removeprefix(f"{top}/") for member in members}
    held = {name for name in names if name not in GENERATED and ".egg-info/" not in name}
    expected = tracked()
    problems = [f"missing from the sdist: {name}" for name in sorted(expected - held)]
    problems += [
        f"not tracked by git, yet in the sdist: {name}" for name in sorted(held - expected)
    ]
    extracted = sdist.extractfile(f"{top}/PKG-INFO")
    if extracted is None:
        return [*problems, "the sdist has no PKG-INFO"]
    return problems + license_problems(extracted.read().decode("utf-8"), held)


def run_tests(sdist: Path) -> bool:
    """Unpack ``sdist``, install it with its test extra in a new virtualenv, run :data:`TESTS`."""
    with tempfile.TemporaryDirectory(prefix="iiniit-sdist-") as where:
        home = Path(where)
        with tarfile.open(sdist) as archive:
            archive.extractall(home, filter="data")
        (tree,) = (path for path in home.iterdir() if path.is_dir())
        venv.create(home / "venv", with_pip=True)
        python = str(home / "venv" / "bin" / "python")
        pins = str(tree / "constraints.txt")
        env = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
        env |= {"PIP_CONSTRAINT": pins, "PIP_BUILD_CONSTRAINT": pins}
        subprocess.run(  # noqa: S603 - our own interpreter and paths
            [
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"{tree}[test]",
            ],
            env=env,
            check=True,
        )
        print(f"Running from the unpacked {sdist.name}: pytest -n 2 {' '.join(TESTS)}", flush=True)
        ran = subprocess.run(  # noqa: S603 - our own interpreter and paths
            [python, "-m", "pytest", "-q", "-n", "2", *TESTS], cwd=tree, env=env
        )
        return ran.returncode == 0


def main() -> int:
    dist = Path(sys.argv[1] if len(sys.argv) > 1 else "dist").resolve()
    sdists = sorted(dist.glob("iiniit_auth-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not sdists:
        print(f"No iiniit_auth sdist in {dist}/")
        return 1
    sdist = sdists[-1]
    with tarfile.open(sdist) as archive:
        problems = contents_problems(archive)
    problems += twine_problems(sdist)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{sdist.name}: {len(problems)} problem(s)")
        return 1
    if not run_tests(sdist):
        print(f"{sdist.name}: its tests fail when run from it")
        return 1
    print(f"{sdist.name}: holds every tracked file, and its tests pass from it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
