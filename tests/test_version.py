"""iiniit_auth.__version__: the one place the version is written. No database.

pyproject.toml reads it from there (setuptools' dynamic version), so the installed metadata
must agree with it, and CHANGELOG.md's newest release must be it.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.version import Version

import iiniit_auth

ROOT = Path(__file__).resolve().parents[1]
#: A heading of CHANGELOG.md: ``## [Unreleased]`` or ``## [1.2.3] - 2026-12-07``.
HEADING = re.compile(r"^## \[([^\]]+)\](.*)$", re.M)
RELEASE_DATE = re.compile(r" - \d{4}-\d{2}-\d{2}")


def changelog_headings():
    return HEADING.findall((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))


def test_the_version_is_a_normalized_pep_440_version():
    assert str(Version(iiniit_auth.__version__)) == iiniit_auth.__version__


def test_pyproject_takes_the_version_from_the_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "iiniit_auth.__version__"}


def test_the_installed_metadata_has_the_packages_version():
    # The distribution installed for the suite was built from this checkout: if the two differ,
    # setuptools did not read __version__ (or the virtualenv predates a version bump).
    assert importlib.metadata.version("iiniit-auth") == iiniit_auth.__version__


def test_the_changelog_opens_with_unreleased_then_this_version():
    headings = changelog_headings()
    assert headings[0] == ("Unreleased", "")
    version, date = headings[1]
    assert version == iiniit_auth.__version__
    assert RELEASE_DATE.fullmatch(date), f"## [{version}]{date} is not '## [X.Y.Z] - YYYY-MM-DD'"


def test_each_release_of_the_changelog_is_dated_and_newer_than_the_next():
    releases = changelog_headings()[1:]
    assert all(RELEASE_DATE.fullmatch(date) for _, date in releases)
    versions = [Version(version) for version, _ in releases]
    assert versions == sorted(versions, reverse=True)
    assert len(set(versions)) == len(versions)
