"""Write constraints.txt: the development tools at exact versions, resolved fresh by pip.

Usage: python tools/pins.py [--output constraints.txt]   (``make upgrade`` runs it)

What is pinned, and why:

* The roots are what development installs besides the package's own dependencies: every extra
  of pyproject.toml (test, lint, example, bench), the build backend of ``[build-system]`` (the
  isolated builds of ``pip install -e .`` and ``python -m build`` install it), and
  psycopg2-binary (CI's psycopg 2 leg). They and all they need are pinned exactly, so that no
  release of a tool turns CI red without a commit of ours.
* The runtime dependencies (``[project] dependencies``: Django, djangorestframework,
  django-oauth-toolkit) are not pinned, nor what only they need (asgiref, sqlparse, jwcrypto,
  cryptography...): they stay ranges, so each leg of the matrix picks its Django
  (``make test DJANGO="Django~=6.1.0"``) and users get what the ranges allow. The walk from the
  roots stops at them. A package that a tool needs as well (requests, for requests-oauthlib and
  django-oauth-toolkit) is pinned: the tool's run must not change under us either.
* The walk follows what pip installed, by the dependencies' markers in the environment pip
  reports, extras included (``psycopg[binary,pool]``), so a package that a marker leaves out
  (colorama off Windows) or that only an extra nobody asked for names is not pinned.
* pip resolves: ``pip install --dry-run --ignore-installed --report`` of the package with all
  its extras and the other roots, in a new virtualenv, once for each Python and Django of
  .ci/matrix (``Django~=X.Y.0``). A tool gets the same version with every Django of one Python,
  or this script stops and says which (a tool that needs a newer Django than a leg runs cannot
  be pinned for both); where the Pythons get different versions, each Python gets its own line,
  with a marker.
* pip itself is each virtualenv's own (its interpreter's ensurepip): the pins hold whatever it
  installs, not pip.

It runs in the development virtualenv (``make upgrade``): packaging, which it reads requirements
with, is one of the pins.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from find_python import find_python  # tools/, this script's own directory
from matrix import django_requirement, pairs, version_key
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
#: Installed by CI besides the extras: .ci/run's psycopg 2 leg.
CI_ROOTS = ["psycopg2-binary"]
HEADER = """\
# The development tools' exact versions: every package that the extras of pyproject.toml, the
# build backend and CI's psycopg 2 leg install, less the runtime dependencies (Django,
# djangorestframework, django-oauth-toolkit) and what only they need, which stay ranges.
# Every pip install of the Makefile and .ci/run takes them (PIP_CONSTRAINT).
#
# Made by `make upgrade` (tools/pins.py, which says why this set); not edited by hand, and a
# bump is a commit of its own. Resolved for:
"""

Pins = dict[str, str]  # canonical name -> version


def roots(pyproject: dict[str, Any]) -> tuple[list[str], set[str]]:
    """The requirements to pin from, and the names the walk stops at (the runtime ones)."""
    project = pyproject["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    tools = [*extras, *pyproject["build-system"]["requires"], *CI_ROOTS]
    runtime = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    return list(dict.fromkeys(tools)), runtime | {canonicalize_name(project["name"])}


def resolve(python: str, requirements: list[str]) -> dict[str, Any]:
    """pip's report of what it would install, fresh, in a new virtualenv of ``python``."""
    with tempfile.TemporaryDirectory(prefix="iiniit-pins-") as where:
        home = Path(where)
        subprocess.run([python, "-m", "venv", str(home / "venv")], check=True)  # noqa: S603
        # A resolution from scratch: no pins of ours, whatever the caller's environment says.
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"PIP_CONSTRAINT", "PIP_BUILD_CONSTRAINT"}
        }
        subprocess.run(  # noqa: S603 - our own interpreter and requirements
            [
                str(home / "venv" / "bin" / "python"),
                *("-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
                *("--dry-run", "--ignore-installed", "--report", str(home / "report.json")),
                *requirements,
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        report: dict[str, Any] = json.loads((home / "report.json").read_text())
    return report


def walk(report: dict[str, Any], tools: list[str], stop: set[str]) -> Pins:
    """The versions in ``report`` of ``tools`` and what they need, short of ``stop``."""
    environment = report["environment"]
    installed = {canonicalize_name(i["metadata"]["name"]): i["metadata"] for i in report["install"]}

    def applies(requirement: Requirement, extra: str) -> bool:
        marker = requirement.marker
        return marker is None or marker.evaluate({**environment, "extra": extra})

    pins: Pins = {}
    walked: set[tuple[str, str]] = set()
    todo = [r for r in map(Requirement, tools) if applies(r, "")]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in stop:
            continue
        if name not in installed:
            raise SystemExit(f"pip's resolution has no {name}, which a tool needs")
        metadata = installed[name]
        pins[name] = metadata["version"]
        for extra in {"", *requirement.extras}:
            if (name, extra) not in walked:
                walked.add((name, extra))
                needs = map(Requirement, metadata.get("requires_dist", []))
                todo += [need for need in needs if applies(need, extra)]
    return pins


def merge(resolved: dict[tuple[str, str], Pins]) -> list[str]:
    """Constraint lines from each (python, django)'s pins; exits if one Python disagrees."""
    by_python: dict[str, Pins] = {}
    for (python, _django), pins in resolved.items():
        merged = by_python.setdefault(python, {})
        for name, version in pins.items():
            if merged.setdefault(name, version) != version:
                found = [
                    f"{got[name]} with Django {d}"
                    for (p, d), got in resolved.items()
                    if p == python and name in got
                ]
                raise SystemExit(
                    f"Python {python}: {name} resolves to {', '.join(found)}. Bound it in "
                    "pyproject.toml's extras, so that one version serves every leg."
                )
    lines = []
    for name in sorted({name for pins in by_python.values() for name in pins}):
        versions = {python: pins[name] for python, pins in by_python.items() if name in pins}
        if len(set(versions.values())) == 1:
            lines.append(f"{name}=={next(iter(versions.values()))}")
        else:
            lines += [
                f'{name}=={versions[python]} ; python_version == "{python}"'
                for python in sorted(versions, key=version_key)
            ]
    return lines


def read_pins(path: Path) -> dict[str, str]:
    """An existing constraints file's versions, by what each line constrains (for the summary)."""
    if not path.exists():
        return {}
    lines = [line for line in path.read_text().splitlines() if line and line[0] != "#"]
    pins = {}
    for requirement in map(Requirement, lines):
        where = f" ; {requirement.marker}" if requirement.marker else ""
        pins[requirement.name + where] = str(requirement.specifier).removeprefix("==")
    return pins


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "constraints.txt")
    args = parser.parse_args()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    tools, stop = roots(pyproject)
    extras = ",".join(pyproject["project"]["optional-dependencies"])
    resolved: dict[tuple[str, str], Pins] = {}
    for python, django in pairs():
        interpreter = find_python(python)
        if interpreter is None:
            raise SystemExit(f"No Python {python}: the pins are resolved for each of .ci/matrix")
        print(f"Resolving for Python {python} and Django {django}", flush=True)
        report = resolve(interpreter, [f".[{extras}]", *tools, django_requirement(django)])
        resolved[python, django] = walk(report, tools, stop)
    lines = merge(resolved)
    djangos: dict[str, list[str]] = {}
    for python, django in resolved:
        djangos.setdefault(python, []).append(django)
    legs = [f"#   Python {p} with Django {', '.join(d)}" for p, d in djangos.items()]
    before = read_pins(args.output)
    args.output.write_text(HEADER + "\n".join([*legs, "", *lines]) + "\n")
    after = read_pins(args.output)
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            print(f"  {key}: {before.get(key, '-')} -> {after.get(key, '-')}")
    print(f"{args.output.name}: {len(lines)} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
