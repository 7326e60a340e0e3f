"""URLs of the example project.

``/`` home page, ``/admin/`` Django admin (with iiniit_auth's screens), ``/developer/`` the
developer portal (API keys and OAuth applications, self-service), ``/o/`` the OAuth 2.0
authorization server (iiniit_auth's consent page and rules on django-oauth-toolkit's endpoints),
``/api/`` the example API, ``/api/schema/`` its OpenAPI schema, ``/api/docs/`` Swagger UI,
``/api/redoc/`` ReDoc, ``/accounts/`` sign-in.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from iiniit_auth.contrib.swagger_ui import SwaggerOAuthRedirectView, SwaggerView
from project.views import HomeView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("admin/", admin.site.urls),
    path("developer/", include("iiniit_auth.portal.urls")),
    path("o/", include("iiniit_auth.oauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # Swagger UI's OAuth 2.0 redirect URI: next to the page, where Swagger UI looks for it.
    path(
        "api/docs/oauth2-redirect.html",
        SwaggerOAuthRedirectView.as_view(),
        name="swagger-oauth-redirect",
    ),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/", include("project.example.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
