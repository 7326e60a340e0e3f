"""The schema tests' API without the authorization server's URLs: a pure resource server."""

from django.urls import include, path

from tests.openapi.urls import api

urlpatterns = [path("api/", include(api))]
