"""The exception handler answers our own 400 and 401 exactly as DRF's handler would."""

import pytest
from django.db import connection, transaction
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import exception_handler as drf_exception_handler

from iiniit_auth.challenges import InvalidRequest, InvalidToken, refuse
from iiniit_auth.handlers import exception_handler


def invalid_token(rf, status=None, header=True):
    exc = refuse(Request(rf.get("/")), "ApiKey")
    if header:
        exc.auth_header = 'ApiKey realm="api", error="invalid_token"'
    if status is not None:
        exc.status_code = status  # DRF's answer when no class gives a challenge
    return exc


def answers(rf):
    return [
        invalid_token(rf),
        invalid_token(rf, status=403, header=False),
        InvalidRequest("ApiKey", "The %(p)s parameter is given more than once.", {"p": "api_key"}),
        InvalidRequest("Bearer", "The Authorization header has no scheme."),
    ]


@pytest.mark.parametrize("index", range(4))
def test_the_same_answer_as_drf(rf, index):
    exc = answers(rf)[index]
    assert type(exc) in (InvalidToken, InvalidRequest)

    ours = exception_handler(exc, {})
    drf = drf_exception_handler(exc, {})

    assert ours.status_code == drf.status_code
    assert ours.data == drf.data
    assert ours.get("WWW-Authenticate") == drf.get("WWW-Authenticate")
    assert ours.items() == drf.items()


def test_other_exceptions_go_to_drf(rf):
    response = exception_handler(exceptions.AuthenticationFailed("nope"), {})

    assert response.status_code == 401
    assert response.data == {"detail": "nope"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic_requests", [True, False])
def test_a_refusal_rolls_the_request_back_under_atomic_requests(rf, monkeypatch, atomic_requests):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", atomic_requests)

    with transaction.atomic():
        exception_handler(invalid_token(rf), {})
        rolled_back = connection.get_rollback()

    assert rolled_back is atomic_requests
