"""The authorization server's URLs. Include them at ``/o/`` instead of django-oauth-toolkit's::

    path("o/", include("iiniit_auth.oauth.urls")),

The namespace is django-oauth-toolkit's own (``oauth2_provider``), so its views and templates
find each other. What is here:

=============================================  ==============================================
``authorize/``                                 the consent page (iiniit_auth's template)
``authorize/sign-out/``                        "Not you? Sign out" (POST), back to the request
``token/``                                     tokens: authorization code + PKCE, client
                                               credentials, refresh
``revoke_token/``                              RFC 7009 revocation, by the client
``introspect/``                                RFC 7662 introspection, POST, authenticated
``authorized_tokens/``                         a signed-in user's grants, and revoking one
``.well-known/oauth-authorization-server``     RFC 8414 metadata
=============================================  ==============================================

Left out on purpose: django-oauth-toolkit's self-service application registration (any
signed-in user could register clients; register them in admin, where their allowed scopes are
set), the device flow, OpenID Connect and dynamic client registration. A project that wants
one of them includes django-oauth-toolkit's pattern list for it next to these.
"""

from __future__ import annotations

from django.contrib.auth.views import LogoutView
from django.urls import URLPattern, path
from oauth2_provider import urls as dot_urls
from oauth2_provider import views as dot_views

from iiniit_auth.oauth import views

app_name = "oauth2_provider"

urlpatterns: list[URLPattern] = [
    *dot_urls.metadata_urlpatterns,
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    # "Not you? Sign out" on the consent page: Django's own sign-out (POST only), then back to
    # the same authorization request, which asks the next person to sign in.
    path("authorize/sign-out/", LogoutView.as_view(), name="authorize-sign-out"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", dot_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
    path(
        "authorized_tokens/",
        dot_views.AuthorizedTokensListView.as_view(),
        name="authorized-token-list",
    ),
    path(
        "authorized_tokens/<int:pk>/delete/",  # a token's id: anything else is a 404
        views.AuthorizedTokenDeleteView.as_view(),
        name="authorized-token-delete",
    ),
]
