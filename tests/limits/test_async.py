"""The limits on ADRF async views: the same headers and the same 429s as on sync views."""

import pytest
from adrf.views import APIView as AsyncAPIView
from django.conf import settings
from django.test import override_settings
from django.urls import path
from rest_framework.response import Response

from iiniit_auth.contrib.adrf import AsyncAPIKeyAuthentication
from iiniit_auth.throttling import CredentialRateThrottle


class AsyncLimited(AsyncAPIView):
    authentication_classes = [AsyncAPIKeyAuthentication]
    throttle_classes = [CredentialRateThrottle]
    required_scopes: list[str] = []

    async def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("async/", AsyncLimited.as_view())]

pytestmark = pytest.mark.urls(__name__)


def test_an_async_view_is_throttled_per_key(client, issue):
    _, plaintext = issue(rate="1/day")
    first = client.get("/async/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == "1"
    second = client.get("/async/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    assert second.status_code == 429
    assert second.json()["error"] == "rate_limited"
    assert "Retry-After" in second.headers


def test_an_async_view_is_behind_the_failed_authentication_limiter(client, issue, clock):
    _, plaintext = issue()
    limited = {**settings.IINIIT_AUTH, "FAILED_AUTH_LIMIT": "2/min"}
    with override_settings(IINIIT_AUTH=limited):
        for _ in range(2):
            assert client.get("/async/", HTTP_AUTHORIZATION="ApiKey iik_nope").status_code == 401
        assert client.get("/async/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}").status_code == 429
