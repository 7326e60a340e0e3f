"""URLs of the example project.

``/`` home page, ``/admin/`` Django admin (with iiniit_auth's screens), ``/developer/`` the
developer portal (API keys and OAuth applications, self-service), ``/o/`` the OAuth 2.0
authorization server (iiniit_auth's consent page and rules on django-oauth-toolkit's endpoints),
``/api/`` the example API, ``/accounts/`` sign-in.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from project.views import HomeView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("admin/", admin.site.urls),
    path("developer/", include("iiniit_auth.portal.urls")),
    path("o/", include("iiniit_auth.oauth.urls")),
    path("api/", include("project.example.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
