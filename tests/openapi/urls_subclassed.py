"""A project's own subclasses of the authentication classes, used instead of ours.

(drf-spectacular warns when one schema holds a base class and its subclass under one name, so
a project describes its API with one or the other.)
"""

from django.urls import include, path

from iiniit_auth.authentication import APIKeyAuthentication, OAuth2Authentication
from iiniit_auth.permissions import HasScopes
from tests.openapi.urls import Base


class OrgKeyAuthentication(APIKeyAuthentication):
    """A project's subclass: described like its base."""


class TeamTokenAuthentication(OAuth2Authentication):
    pass


class SubclassedView(Base):
    authentication_classes = [OrgKeyAuthentication, TeamTokenAuthentication]
    permission_classes = [HasScopes]
    required_scopes = ["reports:read"]


urlpatterns = [
    path("api/subclassed/", SubclassedView.as_view()),
    path("auth/", include("iiniit_auth.oauth.urls")),
]
