"""Find a Python interpreter of one version, for the legs of the test matrix and for the pins.

Usage: python tools/find_python.py 3.13   (prints its path; exits 1, saying so, if none runs)

pyenv's own builds come first: its shims (``python3.13`` on PATH) fail unless that version is
selected. Then any ``python3.13`` on PATH, if it runs and is that version.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def candidates(version: str) -> list[str]:
    """Paths that may be Python ``version`` ("3.13"), best first."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    builds = sorted(
        root.glob(f"versions/{version}.*/bin/python"),
        key=lambda path: [int(part) for part in path.parts[-3].split(".") if part.isdigit()],
        reverse=True,
    )
    on_path = shutil.which(f"python{version}")
    return [str(path) for path in builds] + ([on_path] if on_path else [])


def find_python(version: str) -> str | None:
    """The first of :func:`candidates` that runs and reports ``version``, else None."""
    for candidate in candidates(version):
        try:
            ran = subprocess.run(  # noqa: S603 - an interpreter found above, fixed code
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if ran.returncode == 0 and ran.stdout.strip() == version:
            return candidate
    return None


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    found = find_python(sys.argv[1])
    if found is None:
        print(
            f"No Python {sys.argv[1]} found (pyenv's builds, then python{sys.argv[1]})",
            file=sys.stderr,
        )
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
