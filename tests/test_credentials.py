"""credentials: one view of request.auth for API keys, OAuth tokens and anything else."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from oauth2_provider.models import get_application_model

from iiniit_auth.credentials import ClientPrincipal, Credential, describe, scopes_of
from iiniit_auth.models import APIKey


@pytest.fixture
def second_app(user):
    Application = get_application_model()
    return Application.objects.create(
        name="Second app",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )


def test_describe_an_api_key(issue, user):
    key, _plaintext = issue(scopes=["reports:read", "orders:read"])
    credential = describe(APIKey.objects.get(pk=key.pk))
    assert credential == Credential(
        kind="api_key",
        id=key.public_id,
        scopes=frozenset({"orders:read", "reports:read"}),
        owner=user,
        application=None,
    )


def test_describe_an_api_key_loaded_with_its_owner_costs_no_query(
    issue, user, django_assert_num_queries
):
    key, _plaintext = issue()
    loaded = APIKey.objects.select_related("owner").get(pk=key.pk)
    with django_assert_num_queries(0):
        credential = describe(loaded)
    assert credential.owner == user


def test_describe_an_oauth_token(oauth_token, oauth_app, user):
    token, value = oauth_token(scope="orders:read orders:write")
    credential = describe(token)
    assert credential == Credential(
        kind="oauth_token",
        id=str(token.pk),
        scopes=frozenset({"orders:read", "orders:write"}),
        owner=user,
        application=oauth_app,
    )
    assert value not in repr(credential)


def test_describe_a_client_credentials_token(oauth_token, oauth_app):
    token, _value = oauth_token(scope="reports:read", owner=None)
    credential = describe(token)
    assert credential.kind == "oauth_token"
    assert credential.owner is None
    assert credential.application == oauth_app
    assert credential.scopes == frozenset({"reports:read"})


def test_describe_a_token_without_scopes(oauth_token):
    token, _value = oauth_token(scope="")
    assert describe(token).scopes == frozenset()
    assert scopes_of(token) == frozenset()


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "",
        "iik_something",
        b"bytes",
        object(),
        AnonymousUser(),
        42,
        {"scope": "orders:read"},
        # Looking like a credential is not being one: only the real model classes count.
        SimpleNamespace(scope="orders:read", scopes="orders:read", public_id="x", user=None),
    ],
)
def test_anything_else_is_no_credential_and_grants_no_scope(auth):
    assert describe(auth) is None
    assert scopes_of(auth) == frozenset()


def test_a_user_is_not_a_credential(user):
    assert describe(user) is None
    assert scopes_of(user) == frozenset()


def test_scopes_of_an_api_key(issue):
    key, _plaintext = issue(scopes="orders:write reports:read")
    assert scopes_of(key) == frozenset({"orders:write", "reports:read"})


def test_scopes_of_an_oauth_token(oauth_token):
    token, _value = oauth_token(scope="orders:read  reports:read")
    assert scopes_of(token) == frozenset({"orders:read", "reports:read"})


def test_a_scope_removed_from_the_registry_grants_nothing(settings, issue, oauth_token):
    # docs/scopes.md: it stays on what carries it, and a view's own check no longer sees it.
    key, _plaintext = issue(scopes="orders:write reports:read")
    token, _value = oauth_token(scope="orders:write reports:read")
    registry = dict(settings.IINIIT_AUTH["SCOPES"])
    del registry["orders:write"]
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "SCOPES": registry}

    assert scopes_of(key) == frozenset({"reports:read"})
    assert scopes_of(token) == frozenset({"reports:read"})
    assert key.scope_set == frozenset({"orders:write", "reports:read"})


def test_scopes_of_a_revoked_key_are_still_its_own(issue):
    # Whether the key may be used is authentication's question, not this one.
    key, _plaintext = issue(scopes=["orders:read"])
    key.revoke()
    assert scopes_of(key) == frozenset({"orders:read"})


def test_credential_is_immutable(issue):
    key, _plaintext = issue()
    credential = describe(key)
    with pytest.raises(AttributeError):
        credential.scopes = frozenset({"orders:write"})


# --- ClientPrincipal ---------------------------------------------------------------------------


def test_a_client_principal_is_authenticated_but_no_user(oauth_app):
    principal = ClientPrincipal(oauth_app)
    assert principal.is_authenticated is True
    assert principal.is_anonymous is False
    assert principal.is_active is True
    assert principal.is_staff is False
    assert principal.is_superuser is False
    assert principal.pk is None
    assert principal.id is None
    assert principal.application == oauth_app


def test_a_client_principal_has_no_permissions(oauth_app):
    principal = ClientPrincipal(oauth_app)
    assert principal.has_perm("iiniit_auth.revoke_apikey") is False
    assert principal.has_perm("iiniit_auth.view_apikey", obj=object()) is False
    assert principal.has_perms(["iiniit_auth.view_apikey"]) is False
    assert principal.has_perms([]) is False
    assert principal.has_module_perms("iiniit_auth") is False


def test_a_client_principal_is_named_by_its_client_id(oauth_app):
    principal = ClientPrincipal(oauth_app)
    assert str(principal) == f"client:{oauth_app.client_id}"
    assert principal.get_username() == f"client:{oauth_app.client_id}"
    assert principal.username == f"client:{oauth_app.client_id}"
    assert repr(principal) == f"<ClientPrincipal client:{oauth_app.client_id}>"
    assert oauth_app.client_secret not in str(principal) + repr(principal)


def test_client_principals_are_equal_by_application(oauth_app, second_app, user):
    first = ClientPrincipal(oauth_app)
    again = ClientPrincipal(get_application_model().objects.get(pk=oauth_app.pk))
    other = ClientPrincipal(second_app)

    assert first == again
    assert hash(first) == hash(again)
    assert len({first, again, other}) == 2
    assert first != other
    assert first != user
    assert first != oauth_app
    assert first != f"client:{oauth_app.client_id}"
