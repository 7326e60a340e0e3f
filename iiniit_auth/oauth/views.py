"""The authorization server's pages and endpoints that differ from django-oauth-toolkit's.

* :class:`AuthorizationView`: the consent page, from iiniit_auth's template (the application's
  name, each requested scope with its description from the registry, approve and deny); never
  cached, never framed.
* :class:`TokenView`: django-oauth-toolkit's token endpoint without the device flow.
* :class:`IntrospectTokenView`: RFC 7662, POST only, for authenticated confidential clients;
  an application sees tokens issued to others only if its policy allows it.
* :class:`AuthorizedTokenDeleteView`: a signed-in user revokes an application's access, audited.

The token and revocation endpoints are django-oauth-toolkit's own: the validator
(:mod:`iiniit_auth.oauth.validators`) enforces and audits what they do.
"""

from __future__ import annotations

import calendar
import hashlib
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.generic import View
from oauth2_provider.compat import login_not_required
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.forms import AllowForm
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_application_model,
)
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView as DOTAuthorizationView
from oauth2_provider.views import AuthorizedTokenDeleteView as DOTAuthorizedTokenDeleteView
from oauth2_provider.views import TokenView as DOTTokenView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2.rfc6749.errors import CustomOAuth2Error

from iiniit_auth import scopes
from iiniit_auth.conf import auth_settings
from iiniit_auth.oauth.inputs import authorization_refusal, holds_nul
from iiniit_auth.oauth.models import ApplicationPolicy, RevokedVia
from iiniit_auth.oauth.tokens import revoke_token


class ConsentForm(AllowForm):  # type: ignore[misc]
    """django-oauth-toolkit's consent form, with ``scope`` allowed to be empty.

    A request that names no scope gets the scopes backend's defaults, and iiniit_auth's backend
    has none (RFC 6749 section 3.3 lets the server choose): the consent page then asks for no
    permission, and approving it grants a token with no scope, as ``apikey issue --scopes ""``
    issues a key with none. django-oauth-toolkit's form requires the field, which made such a
    request fail at Approve and at Deny alike.
    """

    scope = forms.CharField(required=False, widget=forms.HiddenInput())


@method_decorator([never_cache, xframe_options_deny], name="dispatch")
class AuthorizationView(DOTAuthorizationView):  # type: ignore[misc]
    """``/o/authorize/``: django-oauth-toolkit's authorization endpoint with iiniit_auth's consent page.

    The template, ``iiniit_auth/oauth/authorize.html``, gets ``application``,
    ``requested_scopes`` (``[(name, description), …]``), ``redirect_host`` and ``form``; or
    ``error`` when the request cannot be answered by a redirect. A project restyles it by
    extending ``oauth2_provider/base.html`` (blocks ``title``, ``css``, ``content``) or
    overriding the template. Never cached; never shown in a frame (clickjacking would let
    another site click "Approve").
    """

    template_name = "iiniit_auth/oauth/authorize.html"
    form_class = ConsentForm

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """The consent page. What django-oauth-toolkit would fail on (a 500) rather than refuse,
        :func:`~iiniit_auth.oauth.inputs.authorization_refusal`, is refused by redirect once the client and its redirect URI are known."""
        params = request.GET
        problem = authorization_refusal(
            params.get("code_challenge"), params.get("nonce"), params.getlist("resource")
        )
        if problem is not None:
            try:
                _scopes, credentials = self.validate_authorization_request(request)
            except OAuthToolkitError as invalid:
                return self.error_response(invalid, application=None)  # type: ignore[no-any-return]
            code, description = problem
            error = OAuthToolkitError(
                error=CustomOAuth2Error(
                    error=code, description=description, state=credentials.get("state")
                ),
                redirect_uri=credentials["redirect_uri"],
            )
            application = get_application_model().objects.get(client_id=credentials["client_id"])
            return self.error_response(error, application)  # type: ignore[no-any-return]
        return super().get(request, *args, **kwargs)  # type: ignore[no-any-return]

    def form_valid(self, form: forms.Form) -> HttpResponse:
        # The hidden fields come back from the browser: an altered client id, challenge, nonce
        # or resource would make django-oauth-toolkit raise (a 500), so they are checked first.
        data = form.cleaned_data
        known = not holds_nul(data["client_id"]) and (
            get_application_model().objects.filter(client_id=data["client_id"]).exists()
        )
        resources = (data.get("resource") or "").split()
        if not known or authorization_refusal(
            data.get("code_challenge"), data.get("nonce"), resources
        ):
            return self.form_invalid(form)
        return super().form_valid(form)  # type: ignore[no-any-return]

    def redirect(self, redirect_to: str, application: Any) -> HttpResponse:
        """Back to the client, with ``iss`` on every answer, a refusal ("Deny", an error) as
        well as a code: RFC 9207 section 2 asks it of all authorization responses, and
        django-oauth-toolkit adds it to codes only."""
        if oauth2_settings.COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS:
            redirect_to = with_issuer(
                redirect_to, oauth2_settings.oauth2_authorization_server_issuer(self.request)
            )
        return super().redirect(redirect_to, application)  # type: ignore[no-any-return]

    def form_invalid(self, form: forms.Form) -> HttpResponse:
        # Every field is hidden, so only a truncated or altered POST gets here. Its redirect
        # URI is unverified: answer with the error page, never a redirect to it.
        error = {
            "error": "invalid_request",
            "description": _(
                "The authorization form arrived incomplete or altered. Start again from the "
                "application."
            ),
        }
        page: HttpResponse = self.render_to_response(self.get_context_data(error=error), status=400)
        return page

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        requested = kwargs.get("scopes") or []
        context["requested_scopes"] = scopes.describe(requested)
        context["writing_scopes"] = {name for name in requested if scopes.writes(name)}
        context["this_request"] = self.request.get_full_path()
        redirect_uri = kwargs.get("redirect_uri") or ""
        context["redirect_host"] = urlsplit(redirect_uri).netloc if redirect_uri else ""
        return context


def with_issuer(url: str, issuer: str) -> str:
    """``url`` with the ``iss`` query parameter (RFC 9207), unless it has one already."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "iss" for name, _value in query):
        return url
    return urlunsplit(parts._replace(query=urlencode([*query, ("iss", issuer)])))


#: RFC 8628's grant type, which django-oauth-toolkit's token view serves whatever the settings.
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class TokenView(DOTTokenView):  # type: ignore[misc]
    """``/o/token/``: django-oauth-toolkit's token endpoint, without the device flow.

    django-oauth-toolkit answers the device code grant in its view, before oauthlib's grant
    types, and fails on a request without ``device_code`` or with a NUL in it (a 500). The
    device flow is not offered here, so that grant type is ``unsupported_grant_type`` (RFC 6749
    section 5.2), as any other unknown one. A token deleted before django-oauth-toolkit reads it
    back for its response is ``invalid_grant``, not a 500.
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("grant_type") == DEVICE_CODE_GRANT:
            return _token_error("unsupported_grant_type")
        try:
            return super().post(request, *args, **kwargs)  # type: ignore[no-any-return]
        except get_access_token_model().DoesNotExist:
            # django-oauth-toolkit reads the token it issued back once its transaction has
            # committed: a replay of the code, or a revocation, at that moment deleted it. The
            # token is dead, so the answer is the refusal it would get now (RFC 6749 5.2).
            return _token_error("invalid_grant")


def _token_error(error: str) -> JsonResponse:
    """400 with an RFC 6749 section 5.2 error, never stored."""
    response = JsonResponse({"error": error}, status=400)
    response["Cache-Control"] = "no-store"
    return response


def _invalid_client(message: str) -> JsonResponse:
    """401 ``invalid_client`` with a Basic challenge (RFC 6749 section 5.2, RFC 7662 section 2.3)."""
    response = JsonResponse({"error": "invalid_client", "error_description": message}, status=401)
    response["WWW-Authenticate"] = f'Basic realm="{auth_settings().REALM}"'
    response["Cache-Control"] = "no-store"
    return response


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
@method_decorator(sensitive_post_parameters("token", "client_secret"), name="dispatch")
class IntrospectTokenView(OAuthLibMixin, View):  # type: ignore[misc]
    """``/o/introspect/`` (RFC 7662): is this access token active, and what may it do?

    POST only (a token in a URL gets logged): any other method is 405. The caller
    authenticates as a confidential application, with HTTP Basic (preferred) or
    ``client_id``/``client_secret`` in the body; anyone else gets 401 ``invalid_client``.
    An application may introspect the tokens issued to it, and other applications' tokens
    only when its policy allows (``ApplicationPolicy.objects.set_may_introspect``); for any
    other token, and for an unknown, expired or revoked one, the answer is
    ``{"active": false}`` (section 2.2), so the endpoint tells nothing to a caller that may
    not know.
    """

    http_method_names = ["post"]

    @sensitive_variables("value")
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        client = self.authenticated_client(request)
        if client is None:
            return _invalid_client(str(_("Client authentication failed.")))
        if client.client_type != AbstractApplication.CLIENT_CONFIDENTIAL:
            return _invalid_client(str(_("Only confidential clients may introspect tokens.")))
        value = request.POST.get("token")
        if not value:
            response = JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "The token parameter is missing.",
                },
                status=400,
            )
            response["Cache-Control"] = "no-store"
            return response
        response = JsonResponse(self.introspect(client, value))
        response["Cache-Control"] = "no-store"
        return response

    def authenticated_client(self, request: HttpRequest) -> Any:
        """The application whose credentials the request carries, or None."""
        core = self.get_oauthlib_core()
        oauthlib_request = OAuthlibRequest(
            request.build_absolute_uri(request.path),
            http_method="POST",
            body=urlencode(core.extract_body(request)),
            headers=core.extract_headers(request),
        )
        if not core.server.request_validator.authenticate_client(oauthlib_request):
            return None
        return oauthlib_request.client

    @sensitive_variables("value")
    def introspect(self, client: Any, value: str) -> dict[str, Any]:
        """The RFC 7662 answer about the access token ``value`` for ``client``."""
        checksum = hashlib.sha256(value.encode("utf-8")).hexdigest()
        token = (
            get_access_token_model()
            ._default_manager.select_related("user", "application")
            .filter(token_checksum=checksum)
            .first()
        )
        if token is None or token.is_expired():
            return {"active": False}
        if token.user is not None and not token.user.is_active:
            return {"active": False}
        if token.application_id != client.pk and not ApplicationPolicy.objects.may_introspect(
            client
        ):
            return {"active": False}
        answer: dict[str, Any] = {
            "active": True,
            "scope": token.scope,
            "token_type": "Bearer",
            "exp": int(calendar.timegm(token.expires.utctimetuple())),
            "iat": int(calendar.timegm(token.created.utctimetuple())),
        }
        if token.application is not None:
            answer["client_id"] = token.application.client_id
        if token.user is not None:
            answer["username"] = token.user.get_username()
        if token.resource:
            answer["aud"] = token.resource
        return answer


class AuthorizedTokenDeleteView(DOTAuthorizedTokenDeleteView):  # type: ignore[misc]
    """``/o/authorized_tokens/<pk>/delete/``: the signed-in user revokes one of their grants.

    django-oauth-toolkit's page, revoking through :func:`~iiniit_auth.oauth.tokens.revoke_token`
    so the revocation is audited (``via=authorized_tokens``). Django's deletion views also take
    an HTTP DELETE, which deleted the token with no event: only the page and its form are
    served here.
    """

    http_method_names = ["get", "post", "head", "options"]

    def form_valid(self, form: Any) -> HttpResponse:
        revoke_token(
            self.object,
            actor=self.request.user,
            ip=self.request.META.get("REMOTE_ADDR"),
            via=RevokedVia.USER,
        )
        return HttpResponseRedirect(self.get_success_url())
