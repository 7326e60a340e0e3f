"""Which redirect URIs iiniit_auth accepts on top of django-oauth-toolkit's exact matching.

RFC 9700 section 2.1 wants redirect URIs that travel over TLS; RFC 8252 section 7.3 lets a
native app (and a developer's machine) receive its code on a loopback address over plain
http, since that traffic never leaves the host. django-oauth-toolkit can only allow or refuse
the ``http`` scheme as a whole, so :func:`refusal` draws the line per URI. Pure: no database.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _

#: Host names that resolve to the loopback interface without asking DNS.
LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (as ``urlsplit`` gives it: no brackets) is a loopback address or name."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refusal(uri: str) -> str | None:
    """Return why iiniit_auth refuses ``uri`` as a redirect URI, or None if it does not.

    Refused: text that is not a URI (an unclosed IPv6 literal, a port that is not one), plain
    ``http`` to a host that is not loopback, and a wildcard host. Every other
    rule (registered, exact match, allowed scheme) is django-oauth-toolkit's.
    """
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        # A port past 65535 (or not a number) parses but raises here, and later in
        # django-oauth-toolkit's matching of every authorization request: refused now.
        parts.port  # noqa: B018
    except ValueError:
        return str(_("The redirect URI is not a valid URI."))
    if host is not None and "*" in host:
        return str(_("Redirect URIs must name their host exactly, without wildcards."))
    if parts.scheme.lower() == "http" and not is_loopback(host):
        return str(
            _(
                "A redirect URI must use https; plain http is allowed only for a loopback "
                "address such as http://127.0.0.1:8765/callback."
            )
        )
    return None
