"""A project can subclass AbstractAPIKey, issue and rotate its own keys, and authenticate them."""

from datetime import timedelta

import pytest
from django.urls import path
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from iiniit_auth.authentication import APIKeyAuthentication
from iiniit_auth.models import APIKey
from tests.orgkeys.models import TeamAPIKey


class TeamKeyAuthentication(APIKeyAuthentication):
    model = TeamAPIKey


class TeamView(APIView):
    authentication_classes = [TeamKeyAuthentication]
    required_scopes = ["orders:read"]

    def get(self, request):
        return Response({"team": request.auth.team, "user": request.user.get_username()})


urlpatterns = [path("team/", TeamView.as_view())]


@pytest.fixture
def team_key(user):
    return TeamAPIKey.objects.issue(owner=user, name="ci", scopes=["orders:read"], team="platform")


def test_issue_stores_the_subclass_fields(team_key):
    key, _ = team_key
    key.refresh_from_db()
    assert key.team == "platform"
    assert not APIKey.objects.exists()


def test_issue_refuses_a_field_the_model_does_not_have(user):
    with pytest.raises(TypeError, match="colour"):
        TeamAPIKey.objects.issue(owner=user, name="ci", team="platform", colour="red")
    with pytest.raises(TypeError, match="team"):
        APIKey.objects.issue(owner=user, name="ci", team="platform")
    assert not TeamAPIKey.objects.exists()


def test_rotation_carries_the_subclass_fields(team_key, user):
    key, _ = team_key
    successor, _ = key.rotate(grace=timedelta(hours=1))
    successor.refresh_from_db()
    assert successor.team == "platform"
    assert successor.predecessor_id == key.pk


@pytest.mark.urls(__name__)
def test_a_subclass_authenticates_through_its_own_class(team_key):
    _, plaintext = team_key
    response = APIClient().get("/team/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    assert response.status_code == 200
    assert response.json() == {"team": "platform", "user": "ann"}


@pytest.mark.urls(__name__)
def test_a_plain_key_is_unknown_to_the_subclass_class(issue):
    _, plaintext = issue()
    response = APIClient().get("/team/", HTTP_AUTHORIZATION=f"ApiKey {plaintext}")
    assert response.status_code == 401
