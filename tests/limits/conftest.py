"""The limits' tests: each starts with empty counters, on every test of this directory."""

import pytest
from django.core.cache import caches
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth.throttling import CredentialRateThrottle


class LimitedView(APIView):
    """A view that lists the throttle."""

    required_scopes: list[str] = []
    throttle_classes = [CredentialRateThrottle]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("limited/", LimitedView.as_view())]


@pytest.fixture
def clock(monkeypatch):
    """The limits' clock, stopped mid-window: ``clock[0]`` is now (seconds since the epoch).

    Windows are fixed: a test whose requests straddled the end of one would see two counts.
    """
    from iiniit_auth import throttling

    now = [1_800_000_030.0]  # 30 s into a minute
    monkeypatch.setattr(throttling.time, "time", lambda: now[0])
    return now


@pytest.fixture(autouse=True)
def _fresh_counters():
    caches["default"].clear()
    yield
    caches["default"].clear()
