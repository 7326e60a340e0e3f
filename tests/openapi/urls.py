"""A URLconf for the schema tests: one view of each kind the extensions must describe."""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth.authentication import OAuth2Authentication


class Answer(serializers.Serializer):
    ok = serializers.BooleanField()


class Base(APIView):
    serializer_class = Answer

    def get(self, request):
        return Response({"ok": True})


class OrdersView(Base):
    """Orders."""

    required_scopes = {"GET": ["orders:read"], "POST": ["orders:write"]}

    def post(self, request):
        return Response({"ok": True}, status=201)


class ReportsView(Base):
    required_scopes = ["reports:read", "orders:read"]


class AnyCredentialView(Base):
    required_scopes = []


class OpenView(Base):
    authentication_classes = []
    permission_classes = [AllowAny]


class TokensOnlyView(Base):
    authentication_classes = [OAuth2Authentication]
    required_scopes = ["orders:read"]


class PlainView(APIView):
    """Like the README's OrdersView: no serializer to describe it."""

    required_scopes = {"GET": ["orders:read"], "POST": ["orders:write"]}

    def get(self, request):
        return Response({"orders": []})

    def post(self, request):
        return Response({"created": True}, status=201)


api = [
    path("plain/", PlainView.as_view()),
    path("orders/", OrdersView.as_view()),
    path("reports/", ReportsView.as_view()),
    path("any/", AnyCredentialView.as_view()),
    path("open/", OpenView.as_view()),
    path("tokens-only/", TokensOnlyView.as_view()),
]

urlpatterns = [
    path("api/", include(api)),
    path("auth/", include("iiniit_auth.oauth.urls")),
]
