"""The example API. Each view says which scopes it needs; ``HasScopes`` (the default
permission in settings) enforces them for API keys and OAuth 2.0 tokens alike."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from iiniit_auth.credentials import describe
from project.example.models import Order
from project.example.serializers import OrderSerializer, PingSerializer


class PingView(APIView):
    """``GET /api/ping/``: who is calling, with which credential and scopes.

    Any valid credential will do (an empty ``required_scopes``); no credential is a 401.
    """

    required_scopes: list[str] = []
    #: What the answer looks like, for the OpenAPI schema (/api/schema/).
    serializer_class = PingSerializer

    def get(self, request: Request) -> Response:
        credential = describe(request.auth)
        application = credential.application if credential else None
        return Response(
            {
                # A client-credentials token acts for no user: its caller is the client.
                "caller": request.user.get_username(),
                "credential": {
                    "kind": credential.kind if credential else None,
                    "id": credential.id if credential else None,
                    "scopes": sorted(credential.scopes) if credential else [],
                    "application": application.name if application is not None else None,
                },
            }
        )


class OrderListView(generics.ListCreateAPIView):
    """``/api/orders/``: GET lists the caller's orders (``orders:read``); POST creates one
    (``orders:write``) and answers 201, or 400 naming the fields that are wrong."""

    required_scopes = {"GET": ["orders:read"], "POST": ["orders:write"]}
    serializer_class = OrderSerializer

    def get_queryset(self) -> QuerySet[Order]:
        if not _is_user(self.request.user):
            return Order.objects.none()
        return Order.objects.filter(owner=self.request.user)

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        if not _is_user(self.request.user):
            # A client-credentials token has the scope but no user to own the order.
            raise PermissionDenied(
                _("Orders belong to users: this token acts for a client, not for a user.")
            )
        serializer.save(owner=self.request.user)


def _is_user(user: Any) -> bool:
    """True for a saved user; False for a client-credentials token's client principal."""
    return getattr(user, "pk", None) is not None
