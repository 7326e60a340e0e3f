"""The URLconf of the Swagger UI browser test: the schema tests' API, the authorization server,
sign-in, and drf-spectacular's pages wired as the example project wires them."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from iiniit_auth.contrib.swagger_ui import SwaggerOAuthRedirectView, SwaggerView
from tests.openapi.urls import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("o/", include("iiniit_auth.oauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/docs/oauth2-redirect.html",
        SwaggerOAuthRedirectView.as_view(),
        name="swagger-oauth-redirect",
    ),
    path("api/", include(api)),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="admin/login.html"),
        name="login",
    ),
]
