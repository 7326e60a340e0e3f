"""The production test project's URLs: admin, and one view per way of authenticating."""

from django.contrib import admin
from django.urls import path
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class KeyView(APIView):
    """The project's authentication classes (API keys, OAuth tokens) and HasScopes."""

    required_scopes: list[str] = []

    def get(self, request):
        return Response({"ok": True})


class OpenView(APIView):
    """No authentication at all: the floor of a DRF request."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


class TokenView(APIView):
    """DRF's TokenAuthentication: the peer."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/key/", KeyView.as_view()),
    path("api/open/", OpenView.as_view()),
    path("api/token/", TokenView.as_view()),
]
