"""The URLs of a project that runs API keys alone: the portal, no OAuth 2.0 server."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("developer/", include("iiniit_auth.portal.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
]
