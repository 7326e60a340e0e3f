"""Hypothesis profiles for the property tests of this directory.

``quick`` (the default, what ``make test`` runs): Hypothesis's usual hundred examples a property.
``ci``: many more examples, for CI (``HYPOTHESIS_PROFILE=ci``). Both are deadline-free, as a
shared machine's pauses are no bug, and bounded by their number of examples, not by a clock.
Neither keeps an example database: a failure prints what reproduces it.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "quick",
    max_examples=100,
    deadline=None,
    database=None,
)
settings.register_profile(
    "ci",
    max_examples=2_000,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "quick")


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    # A property takes the settings in force when its module is imported. The profile is in
    # force for this directory's modules only: other Hypothesis users of the suite (such as
    # Schemathesis) keep the settings they would have without it.
    if not isinstance(collector, pytest.Module):
        return (yield)
    previous = settings.get_current_profile_name()
    settings.load_profile(PROFILE)
    try:
        return (yield)
    finally:
        settings.load_profile(previous)
