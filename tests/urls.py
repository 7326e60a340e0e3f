from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from iiniit_auth.credentials import describe


class PingView(APIView):
    required_scopes: list[str] = []

    def get(self, request):
        credential = describe(request.auth)
        return Response(
            {
                "user": str(request.user),
                "kind": credential.kind if credential else None,
                "scopes": sorted(credential.scopes) if credential else [],
            }
        )


class OrdersView(APIView):
    required_scopes = {"GET": ["orders:read"], "POST": ["orders:write"]}

    def get(self, request):
        return Response({"orders": []})

    def post(self, request):
        return Response({"created": True}, status=201)


class ReportsView(APIView):
    required_scopes = ["reports:read", "orders:read"]

    def get(self, request):
        return Response({"reports": []})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("o/", include("iiniit_auth.oauth.urls")),
    path("api/ping/", PingView.as_view()),
    path("api/orders/", OrdersView.as_view()),
    path("api/reports/", ReportsView.as_view()),
    path("developer/", include("iiniit_auth.portal.urls")),
    # Where the portal sends a visitor to sign in (LOGIN_URL); admin's page, for any user.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="admin/login.html"),
        name="login",
    ),
]
