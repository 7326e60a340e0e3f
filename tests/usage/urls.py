"""The test project's URLs, plus one view that any valid credential may call."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication
from tests.urls import urlpatterns as base


class CountedView(APIView):
    authentication_classes = [APIKeyAuthentication, OAuth2Authentication]
    required_scopes: list[str] = []

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [*base, path("api/counted/", CountedView.as_view())]
