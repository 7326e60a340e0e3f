"""What the checks of the wheel and of the sdist share: the license, and ``twine check``.

The license travels as PEP 639 has it: each file of pyproject.toml's ``license-files`` (file
names, not globs) in the artifact, named by a ``License-File`` field of its metadata, beside a
``License-Expression`` that is pyproject.toml's ``license``.
"""

from __future__ import annotations

import email.parser
import subprocess
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def license_problems(metadata_text: str, present: set[str]) -> list[str]:
    """What is wrong with an artifact's license.

    ``metadata_text`` is its metadata (a wheel's METADATA, an sdist's PKG-INFO), ``present`` the
    license files it holds, by the names ``license-files`` gives them.
    """
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    license_files = project.get("license-files", [])
    metadata = email.parser.HeaderParser().parsestr(metadata_text)
    named = metadata.get_all("License-File") or []
    problems = [] if license_files else ["pyproject.toml declares no license-files"]
    problems += [
        f"the license file {name} is missing" for name in license_files if name not in present
    ]
    problems += [
        f"the metadata names no License-File: {name}" for name in license_files if name not in named
    ]
    if metadata.get("License-Expression") != project["license"]:
        problems.append(
            f"the metadata's License-Expression is {metadata.get('License-Expression')!r}, "
            f"not pyproject.toml's {project['license']!r}"
        )
    return problems


def twine_problems(path: Path) -> list[str]:
    """``twine check --strict`` of the artifact at ``path``: what it complains of, if anything."""
    checked = subprocess.run(  # noqa: S603 - our own interpreter and path
        [sys.executable, "-m", "twine", "check", "--strict", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if checked.returncode:
        return [
            f"twine check --strict: {line}"
            for line in (checked.stdout + checked.stderr).splitlines()
            if line.strip()
        ]
    print(checked.stdout.strip())
    return []
