"""OpenAPI for iiniit_auth's credentials and scopes, through drf-spectacular.

Loaded by ``IiniitAuthConfig.ready()`` whenever drf-spectacular is installed: the extensions
below describe ``APIKeyAuthentication`` and ``OAuth2Authentication`` (and their subclasses) as
security schemes with stable names,

* ``ApiKey``: the ``Authorization: ApiKey <key>`` header;
* ``api_key``: the query parameter (only while ``ALLOW_QUERY_PARAM`` is on);
* ``OAuth2``: OAuth 2.0 with the authorization-code (PKCE) and client-credentials flows, their
  URLs reversed from the project's URLconf and the registry's scopes,

and each operation's ``security`` names the scopes its method requires, read the way
``HasScopes`` reads them. :class:`AutoSchema` adds what OpenAPI 3.0 cannot say with security
requirements alone: the scopes in the description (API-key requirements carry none), and the
400, 401 and 403 answers of docs/http.md with their bodies.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import warn
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from iiniit_auth import scopes
from iiniit_auth.conf import auth_settings
from iiniit_auth.permissions import HasScopes, required_scopes

#: The security schemes' names in ``components.securitySchemes``: stable, whatever the settings.
API_KEY_HEADER = "ApiKey"
API_KEY_QUERY = "api_key"
OAUTH2 = "OAuth2"
OUR_SCHEMES = frozenset({API_KEY_HEADER, API_KEY_QUERY, OAUTH2})


def operation_scopes(auto_schema: SpectacularAutoSchema) -> list[str]:
    """Return the scopes the operation's view requires for its method, sorted.

    The view's ``required_scopes`` (a list, or a per-method mapping) is read by
    :func:`iiniit_auth.permissions.required_scopes`, as ``HasScopes`` reads it. A view without
    ``required_scopes`` requires none; one whose declaration is wrong gets a drf-spectacular
    warning naming the mistake, and no scopes.
    """
    view = auto_schema.view
    if getattr(view, "required_scopes", None) is None:
        return []
    method = auto_schema.method.lower()
    actions = getattr(view, "action_map", None)
    if actions and method in actions and not hasattr(view, method):
        # A viewset binds its actions to the HTTP methods only when a request comes in (DRF's
        # ViewSetMixin.as_view); the schema's view never sees one, so bind this one here.
        setattr(view, method, getattr(view, actions[method]))
    try:
        wanted = required_scopes(view, view.request)
    except ImproperlyConfigured as error:
        warn(str(error))
        return []
    return sorted(wanted or ())


class APIKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """``APIKeyAuthentication`` (and subclasses): the header scheme, and the query parameter
    while it is allowed. Either one will do, so each is a requirement of its own."""

    target_class = "iiniit_auth.authentication.APIKeyAuthentication"
    match_subclasses = True
    name: str | list[str] = [API_KEY_HEADER, API_KEY_QUERY]

    def __init__(self, target: Any) -> None:
        super().__init__(target)  # type: ignore[no-untyped-call]
        # Settings are read when a schema is made, never at import time.
        allowed = auth_settings().ALLOW_QUERY_PARAM
        self.name = [API_KEY_HEADER, API_KEY_QUERY] if allowed else [API_KEY_HEADER]

    def get_security_requirement(
        self, auto_schema: SpectacularAutoSchema
    ) -> list[dict[str, list[Any]]]:
        # OpenAPI 3.0 gives scopes to oauth2 and openIdConnect requirements only: an apiKey
        # requirement's list must be empty. AutoSchema writes the scopes in the description.
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema: SpectacularAutoSchema) -> list[dict[str, Any]]:
        conf = auth_settings()
        definitions: list[dict[str, Any]] = [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": _(
                    "An API key in the Authorization header, after the scheme %(scheme)s and a "
                    "space: `Authorization: %(scheme)s <key>`. The value to enter is "
                    "`%(scheme)s <key>`, scheme included."
                )
                % {"scheme": conf.HEADER_SCHEME},
            }
        ]
        if conf.ALLOW_QUERY_PARAM:
            definitions.append(
                {
                    "type": "apiKey",
                    "in": "query",
                    "name": conf.QUERY_PARAM_NAME,
                    "description": _(
                        "An API key in the query string: `?%(param)s=<key>`. URLs end up in "
                        "logs and browser histories: prefer the Authorization header."
                    )
                    % {"param": conf.QUERY_PARAM_NAME},
                }
            )
        return definitions


def _path(name: str) -> str | None:
    """The path of URL ``name`` in the project's URLconf, or None if it is not included."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


class OAuth2Scheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """``OAuth2Authentication`` (and subclasses): OAuth 2.0 bearer tokens, with the flows of
    ``iiniit_auth.oauth.urls`` wherever the project includes them, and the registry's scopes."""

    target_class = "iiniit_auth.authentication.OAuth2Authentication"
    match_subclasses = True
    # Ahead of drf-spectacular's own extension for django-oauth-toolkit's class (our base).
    priority = 1
    name = OAUTH2

    def get_security_requirement(self, auto_schema: SpectacularAutoSchema) -> dict[str, list[Any]]:
        return {OAUTH2: operation_scopes(auto_schema)}

    def get_security_definition(self, auto_schema: SpectacularAutoSchema) -> dict[str, Any]:
        # Paths, not absolute URLs: a schema made from the command line knows no host, and
        # OpenAPI resolves them against the server's URL.
        authorize = _path("oauth2_provider:authorize")
        token = _path("oauth2_provider:token")
        available = dict(scopes.registry())
        flows: dict[str, Any] = {}
        if authorize is not None and token is not None:
            flows["authorizationCode"] = {
                "authorizationUrl": authorize,
                "tokenUrl": token,
                "refreshUrl": token,
                "scopes": available,
            }
        if token is not None:
            flows["clientCredentials"] = {"tokenUrl": token, "scopes": available}
        if not flows:
            # A resource server whose tokens come from elsewhere: no flow to describe here.
            return {
                "type": "http",
                "scheme": "bearer",
                "description": _("An OAuth 2.0 access token: `Authorization: Bearer <token>`."),
            }
        return {
            "type": "oauth2",
            "description": _(
                "OAuth 2.0 access tokens, sent as `Authorization: Bearer <token>`. The "
                "authorization-code flow requires PKCE with S256 (RFC 7636)."
            ),
            "flows": flows,
        }


class CredentialError(serializers.Serializer[Any]):
    """The body of a 400 ``invalid_request`` or a 401 (docs/http.md)."""

    detail = serializers.CharField(help_text=_("What is wrong, in the request's language."))
    error = serializers.ChoiceField(
        choices=["invalid_request", "invalid_token"],
        required=False,
        help_text=_(
            "invalid_request: the credential is malformed (400). invalid_token: it does not "
            "authenticate (401). Absent from a 401 without a credential."
        ),
    )


class ScopeError(serializers.Serializer[Any]):
    """The body of a 403 (docs/http.md): ``insufficient_scope`` with the missing scopes, or
    another permission's refusal with a ``detail`` alone."""

    detail = serializers.CharField(help_text=_("Why the request is refused."))
    error = serializers.ChoiceField(choices=["insufficient_scope"], required=False)
    missing_scopes = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=_("The scopes the credential lacks (with error insufficient_scope)."),
    )


#: The field errors of a serializer's 400, next to ``invalid_request`` on operations with a body.
FIELD_ERRORS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's ``AutoSchema``, plus the scopes in each operation's description and
    the 400, 401 and 403 answers of the operations that take a credential.

    Set ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "iiniit_auth.contrib.spectacular.AutoSchema"``.
    An operation whose view authenticates nobody declares no ``security`` at all. A plain
    ``APIView`` that names no serializer (the README's ``OrdersView``) gets a free-form JSON
    object as its body and answer, where drf-spectacular would report an error; a
    ``serializer_class`` or ``@extend_schema`` describes it precisely.
    """

    def get_request_serializer(self) -> Any:
        if self._names_no_serializer():
            return OpenApiTypes.OBJECT
        return super().get_request_serializer()

    def get_response_serializers(self) -> Any:
        if self._names_no_serializer():
            return OpenApiTypes.OBJECT
        return super().get_response_serializers()

    def _names_no_serializer(self) -> bool:
        """Whether the view is a plain APIView with no serializer to describe it (the same
        three places drf-spectacular looks)."""
        view = self.view
        return not isinstance(view, GenericAPIView) and not any(
            hasattr(view, name)
            for name in ("get_serializer", "get_serializer_class", "serializer_class")
        )

    def get_auth(self) -> list[dict[str, Any]]:
        auths: list[dict[str, Any]] = super().get_auth()
        # drf-spectacular adds {} (no credential) for AllowAny; alone it says nothing.
        return auths if any(auths) else []

    def get_description(self) -> str:  # type: ignore[override]
        description: str = super().get_description()
        if not self._accepts(API_KEY_HEADER):
            return description
        wanted = operation_scopes(self)
        if wanted:
            line = gettext("Required scopes, for an API key or an OAuth 2.0 token: %(scopes)s.") % {
                "scopes": ", ".join(f"`{name}`" for name in wanted)
            }
        else:
            line = gettext("Any valid API key or OAuth 2.0 token; no scope is required.")
        return f"{description}\n\n{line}" if description else line

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None or not any(
            OUR_SCHEMES & requirement.keys() for requirement in operation.get("security", [])
        ):
            return operation
        responses = operation.setdefault("responses", {})
        credential = self.resolve_serializer(CredentialError, "response").ref
        challenge = {
            "schema": {"type": "string"},
            "description": _("The challenges of the schemes this operation accepts."),
        }
        malformed: dict[str, Any] = credential
        described = _("invalid_request: a malformed credential.")
        if "requestBody" in operation:
            # A serializer's field errors are a 400 too, without a challenge.
            malformed = {"anyOf": [credential, FIELD_ERRORS]}
            described = _("invalid_request: a malformed credential; or invalid fields.")
        responses.setdefault(
            "400",
            {
                "description": described,
                "headers": {"WWW-Authenticate": challenge},
                "content": {"application/json": {"schema": malformed}},
            },
        )
        responses.setdefault(
            "401",
            {
                "description": _("No credential, or one that does not authenticate."),
                # RFC 9110 section 15.5.2: a 401 always carries its challenges.
                "headers": {"WWW-Authenticate": {**challenge, "required": True}},
                "content": {"application/json": {"schema": credential}},
            },
        )
        if operation_scopes(self) or not self._only_scopes():
            responses.setdefault(
                "403",
                {
                    "description": _("The credential lacks a required scope (insufficient_scope)."),
                    "content": {
                        "application/json": {
                            "schema": self.resolve_serializer(ScopeError, "response").ref
                        }
                    },
                },
            )
        return operation

    def _accepts(self, scheme: str) -> bool:
        """Whether one of the view's authenticators is described as ``scheme``."""
        for authenticator in self.view.get_authenticators():
            extension = OpenApiAuthenticationExtension.get_match(authenticator)
            if extension is not None and scheme in (
                [extension.name] if isinstance(extension.name, str) else extension.name
            ):
                return True
        return False

    def _only_scopes(self) -> bool:
        """Whether ``HasScopes`` is the view's only permission (so no 403 but for scopes)."""
        return all(type(permission) is HasScopes for permission in self.view.get_permissions())
