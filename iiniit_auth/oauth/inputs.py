"""What the OAuth endpoints refuse before django-oauth-toolkit parses or stores it.

django-oauth-toolkit fails, rather than refuses, on some client input: text ``urlsplit``
cannot read, a NUL (which PostgreSQL refuses in any query), values longer than the columns it
stores them in. The authorization view and the validator refuse such input first, with the
error RFC 6749, RFC 7636 or RFC 8707 gives for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

#: ASCII control characters, which no URI holds (RFC 3986 section 2).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: Why a resource indicator that cannot be parsed is refused (RFC 8707 ``invalid_target``).
RESOURCE_UNPARSEABLE = "A resource is not a valid URI: send an absolute URI with a scheme and host."


def unparseable_resource(resources: Iterable[Any]) -> bool:
    """Whether an RFC 8707 ``resource`` in ``resources`` is text ``urlsplit`` cannot read, or
    holds a control character.

    django-oauth-toolkit refuses a resource that is not an absolute URI with ``invalid_target``,
    but parses each without catching the ``ValueError`` of an unclosed IPv6 literal
    (``http://[::1``), and stores one holding a NUL, which PostgreSQL's JSON refuses: a 500 at
    the authorization and token endpoints either way. The callers refuse such a resource first.
    """
    for resource in resources:
        if isinstance(resource, str):
            if _CONTROL.search(resource):
                return True
            try:
                urlsplit(resource)
            except ValueError:
                return True
    return False


def holds_nul(value: Any) -> bool:
    """Whether ``value`` is text with a NUL in it: PostgreSQL refuses such text in any query
    (a ``DataError``), where SQLite merely finds nothing. No client id, code or token has one."""
    return isinstance(value, str) and "\x00" in value


#: RFC 7636 section 4.2: a code challenge is 43 to 128 unreserved characters (S256's is 43).
_CODE_CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
#: The longest nonce django-oauth-toolkit stores with an authorization code.
NONCE_MAX_LENGTH = 255


def authorization_refusal(
    challenge: Any, nonce: Any, resources: Iterable[Any]
) -> tuple[str, str] | None:
    """``(error, description)`` for an authorization request django-oauth-toolkit would fail on
    rather than refuse, or None.

    It stores the code challenge and nonce with the code in columns of 128 and 255 characters
    (PostgreSQL refuses longer text, and any NUL), and parses resources without catching what
    ``urlsplit`` raises (:func:`unparseable_resource`).
    """
    if unparseable_resource(resources):
        return "invalid_target", RESOURCE_UNPARSEABLE
    if challenge and not _CODE_CHALLENGE.fullmatch(str(challenge)):
        return (
            "invalid_request",
            "code_challenge must be 43 to 128 letters, digits or -._~ (RFC 7636 section 4.2).",
        )
    if nonce and (len(str(nonce)) > NONCE_MAX_LENGTH or holds_nul(nonce)):
        return "invalid_request", f"nonce must be at most {NONCE_MAX_LENGTH} characters."
    return None
