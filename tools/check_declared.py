"""Check that what the package says it supports is what CI tests, and nothing else.

Usage: python tools/check_declared.py   (exits non-zero, listing each difference)

The versions CI runs are the legs of .ci/matrix. The trove classifiers of pyproject.toml must
name exactly its Pythons and Djangos, ``requires-python`` its oldest Python, and the supported
versions of README.md (a sentence per Django: "Django 6.0 and 6.1 on Python 3.12 and 3.13") and
of docs/install.md (a table: Django, Python) exactly its pairs of Python and Django.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from matrix import ROOT, pairs, version_key  # tools/, this script's own directory

VERSIONS = r"\d+\.\d+(?: LTS)?(?:(?:, | and )\d+\.\d+(?: LTS)?)*"
SENTENCE = re.compile(rf"Django ({VERSIONS}) on Python ({VERSIONS})")
ROW = re.compile(rf"^\| *({VERSIONS}) *\| *({VERSIONS}) *\|", re.M)


def versions(text: str) -> list[str]:
    """``"5.2 LTS, 6.0 and 6.1"`` → ``["5.2", "6.0", "6.1"]``."""
    return re.findall(r"\d+\.\d+", text)


def section(path: Path, title: str) -> str:
    """The text of the Markdown section ``## title`` of ``path`` (empty if there is none)."""
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", path.read_text(), re.M | re.S)
    return found.group(1) if found else ""


def named_pairs(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Each Python and Django that ``pattern`` pairs in ``text``, as :func:`described` says them.

    Each match of ``pattern`` has two groups: its Djangos and its Pythons.
    """
    found = pattern.findall(text)
    return described(
        {(p, d) for djangos, pythons in found for d in versions(djangos) for p in versions(pythons)}
    )


def described(pairs: set[tuple[str, str]]) -> list[str]:
    """(python, django) pairs as people read them, in order."""
    ordered = sorted(pairs, key=lambda pair: (version_key(pair[1]), version_key(pair[0])))
    return [f"Python {python} + Django {django}" for python, django in ordered]


def classified(classifiers: list[str], pattern: str) -> list[str]:
    """The versions of the classifiers that match ``pattern`` whole, oldest first."""
    found = (re.fullmatch(pattern, classifier) for classifier in classifiers)
    return sorted((match.group(1) for match in found if match), key=version_key)


def main() -> int:
    tested = set(pairs())
    pythons = sorted({p for p, _ in tested}, key=version_key)
    djangos = sorted({d for _, d in tested}, key=version_key)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    classifiers = project["classifiers"]
    readme = section(ROOT / "README.md", "Supported versions")
    install = section(ROOT / "docs" / "install.md", "Supported versions")
    declared = {
        "the Python classifiers": (
            classified(classifiers, r"Programming Language :: Python :: (3\.\d+)"),
            pythons,
        ),
        "the Django classifiers": (
            classified(classifiers, r"Framework :: Django :: (\d+\.\d+)"),
            djangos,
        ),
        "requires-python": (project["requires-python"], f">={pythons[0]}"),
        "README.md's supported versions": (named_pairs(readme, SENTENCE), described(tested)),
        "docs/install.md's supported versions": (named_pairs(install, ROW), described(tested)),
    }
    problems = [
        f"{what}: {found}, but .ci/matrix tests {expected}"
        for what, (found, expected) in declared.items()
        if found != expected
    ]
    for problem in problems:
        print(problem)
    print(f"Declared versions against .ci/matrix: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
