"""One bare view and one view per contender. Each answers the same tiny JSON body.

Every view but the bare one asks its contender to authenticate the request and, where the
contender authenticates a user, requires one (``IsAuthenticated``): the difference between a
contender's time and the bare view's is what authentication costs. djangorestframework-api-key
is a permission that loads no user, so its view lists no authentication class.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication


class BareView(APIView):
    """No authentication at all: the baseline every overhead is measured against."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class OursView(BareView):
    """iiniit_auth as the README installs it: both classes, API key first."""

    authentication_classes = [APIKeyAuthentication, OAuth2Authentication]
    permission_classes = [IsAuthenticated]


def run_on_the_drivers_cursor(sql: str, value: str) -> Any:
    """Run one compiled lookup on the database driver's own cursor (the DB-API connection's,
    with no Django cursor around it) and return its row, or None."""
    from django.db import connection

    if connection.vendor == "sqlite":
        sql = sql.replace("%(value)s", ":value")  # sqlite3's own named placeholder
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, {"value": value})
        return cursor.fetchone()
    finally:
        cursor.close()


class FloorView(BareView):
    """The floor, not a contender: the key lookup's own ``SELECT`` run on the database driver's
    cursor (no Django cursor, no ORM, no model instances) and the digest compared, nothing
    else. What reading a key from the database and checking it costs at least; the table shows
    each contender's overhead as a multiple of this one's. It answers 200 only when it found the
    key and the digest matched."""

    def get(self, request: Request) -> Response:
        from iiniit_auth import keys, lookup
        from iiniit_auth.conf import auth_settings
        from iiniit_auth.models import APIKey

        conf = auth_settings()
        key = request.META["HTTP_AUTHORIZATION"].split(" ", 1)[1]
        public_id = keys.public_id_of(key, conf.KEY_PREFIX)
        compiled = lookup.statement(APIKey, "public_id", ("owner",), "default")
        assert compiled is not None
        row = run_on_the_drivers_cursor(compiled.sql, public_id or "")
        digest = row[compiled.table.attnames.index("digest")] if row else None
        if digest is None or not keys.matches(key, digest, conf.PEPPER):
            return Response({"ok": False}, status=404)  # the run asserts 200: never a miss
        return Response({"ok": True})


class BearerFloorView(BareView):
    """The bearer token's floor, not a contender: the token lookup's own ``SELECT`` (the token,
    its user and its application, by the token's SHA-256) on the driver's cursor, nothing else.
    Shown beside the bearer's limit: what any implementation that reads the token from the
    database pays."""

    def get(self, request: Request) -> Response:
        import hashlib

        from oauth2_provider.models import get_access_token_model

        from iiniit_auth import lookup

        token = request.META["HTTP_AUTHORIZATION"].split(" ", 1)[1]
        checksum = hashlib.sha256(token.encode("ascii")).hexdigest()
        compiled = lookup.statement(
            get_access_token_model(), "token_checksum", ("user", "application"), "default"
        )
        assert compiled is not None
        if run_on_the_drivers_cursor(compiled.sql, checksum) is None:
            return Response({"ok": False}, status=404)  # the run asserts 200: never a miss
        return Response({"ok": True})


def peer_views() -> dict[str, type[APIView]]:
    """The peers' views, for the peers that are installed (imported only then)."""
    from django.conf import settings

    views: dict[str, type[APIView]] = {}
    if "rest_framework.authtoken" in settings.INSTALLED_APPS:
        from rest_framework.authentication import TokenAuthentication

        views["drf_token"] = type(
            "DRFTokenView",
            (BareView,),
            {
                "authentication_classes": [TokenAuthentication],
                "permission_classes": [IsAuthenticated],
            },
        )
    if "rest_framework_api_key" in settings.INSTALLED_APPS:
        from rest_framework_api_key.permissions import HasAPIKey

        views["drf_api_key"] = type(
            "DRFAPIKeyView",
            (BareView,),
            {"authentication_classes": [], "permission_classes": [HasAPIKey]},
        )
    if "knox" in settings.INSTALLED_APPS:
        from knox.auth import TokenAuthentication as KnoxAuthentication

        views["knox"] = type(
            "KnoxView",
            (BareView,),
            {
                "authentication_classes": [KnoxAuthentication],
                "permission_classes": [IsAuthenticated],
            },
        )
    from oauth2_provider.contrib.rest_framework import OAuth2Authentication as DOTAuthentication

    views["dot"] = type(
        "DOTView",
        (BareView,),
        {
            "authentication_classes": [DOTAuthentication],
            "permission_classes": [IsAuthenticated],
        },
    )
    return views


urlpatterns = [
    path("bare/", BareView.as_view()),
    path("floor/", FloorView.as_view()),
    path("floor-bearer/", BearerFloorView.as_view()),
    path("ours/", OursView.as_view()),
]
