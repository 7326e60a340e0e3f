"""Twins: each sync view of the suite's API beside an ADRF async view and plain Django views
that ask for the same scopes."""

from adrf.views import APIView as AsyncAPIView
from django.http import JsonResponse
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication
from iiniit_auth.contrib.adrf import AsyncAPIKeyAuthentication, AsyncOAuth2Authentication
from iiniit_auth.decorators import requires_credential
from iiniit_auth.permissions import HasScopes

SCOPES = {"GET": ["orders:read"], "POST": ["orders:write"]}


class SyncOrders(APIView):
    authentication_classes = [APIKeyAuthentication, OAuth2Authentication]
    required_scopes = SCOPES

    def get(self, request):
        return Response({"orders": [], "user": str(request.user)})

    def post(self, request):
        return Response({"created": True}, status=201)


class AsyncOrders(AsyncAPIView):
    authentication_classes = [AsyncAPIKeyAuthentication, AsyncOAuth2Authentication]
    required_scopes = SCOPES

    async def get(self, request):
        return Response({"orders": [], "user": str(request.user)})

    async def post(self, request):
        return Response({"created": True}, status=201)


class AsyncOrdersSyncClasses(AsyncOrders):
    """The sync classes in an ADRF async view: ADRF authenticates in its worker thread."""

    authentication_classes = [APIKeyAuthentication, OAuth2Authentication]


class AsyncOrdersComposed(AsyncOrders):
    permission_classes = [HasScopes & IsAuthenticated]


class SyncOrdersComposed(SyncOrders):
    permission_classes = [HasScopes & IsAuthenticated]


def body(request):
    return {"orders": [], "user": str(request.user), "auth": type(request.auth).__name__}


@requires_credential(scopes=["orders:read"])
def plain_orders(request):
    return JsonResponse(body(request))


@requires_credential(scopes=["orders:read"])
async def plain_orders_async(request):
    return JsonResponse(body(request))


urlpatterns = [
    path("sync/", SyncOrders.as_view()),
    path("async/", AsyncOrders.as_view()),
    path("async-sync-classes/", AsyncOrdersSyncClasses.as_view()),
    path("sync-composed/", SyncOrdersComposed.as_view()),
    path("async-composed/", AsyncOrdersComposed.as_view()),
    path("plain/", plain_orders),
    path("plain-async/", plain_orders_async),
]
