"""The test project's URLs, plus one view whose authentication counts usage on accept."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth import usage
from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication
from tests.urls import urlpatterns as base


class CountingAPIKeyAuthentication(APIKeyAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            usage.count(result[1])
        return result


class CountingOAuth2Authentication(OAuth2Authentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            usage.count(result[1])
        return result


class CountedView(APIView):
    authentication_classes = [CountingAPIKeyAuthentication, CountingOAuth2Authentication]
    required_scopes: list[str] = []

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [*base, path("api/counted/", CountedView.as_view())]
