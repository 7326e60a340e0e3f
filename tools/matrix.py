"""The test matrix of .ci/matrix, read one way for .ci/run and the tools.

Usage: python tools/matrix.py   (prints the legs, one a line: python django database)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATRIX = ROOT / ".ci" / "matrix"
DATABASES = {"sqlite", "postgresql", "psycopg2"}


@dataclass(frozen=True)
class Leg:
    python: str  # "3.12"
    django: str  # "6.1"
    database: str  # one of DATABASES

    @property
    def django_requirement(self) -> str:
        """What pip is given for this leg's Django: ``Django~=6.1.0``."""
        return django_requirement(self.django)


def django_requirement(django: str) -> str:
    """What pip is given for a Django of the matrix: ``"6.1"`` → ``Django~=6.1.0``."""
    return f"Django~={django}.0"


def legs(path: Path = MATRIX) -> list[Leg]:
    """The legs, in order; raises ValueError naming the line that is not ``python django db``."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if (
            len(words) != 3
            or words[2] not in DATABASES
            or not all(_is_version(word) for word in words[:2])
        ):
            raise ValueError(f"{path.name}:{number}: not 'python django database': {line!r}")
        found.append(Leg(*words))
    if not found:
        raise ValueError(f"{path.name}: no legs")
    return found


def pairs(path: Path = MATRIX) -> list[tuple[str, str]]:
    """Each (python, django) of the matrix once, in order."""
    return list(dict.fromkeys((leg.python, leg.django) for leg in legs(path)))


def version_key(version: str) -> tuple[int, ...]:
    """``"3.13"`` → ``(3, 13)``, for sorting versions as numbers."""
    return tuple(int(part) for part in version.split("."))


def _is_version(word: str) -> bool:
    parts = word.split(".")
    return len(parts) == 2 and all(part.isdigit() for part in parts)


def main() -> int:
    for leg in legs():
        print(leg.python, leg.django, leg.database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
