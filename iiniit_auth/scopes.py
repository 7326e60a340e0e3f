"""The one scope registry, shared by API keys and OAuth 2.0 tokens.

Scopes are declared once, in ``IINIIT_AUTH["SCOPES"]``. API keys validate against it here, and
django-oauth-toolkit reads it through :class:`iiniit_auth.oauth.scopes.ScopesBackend`.
Scope strings are stored the way OAuth 2.0 writes them (RFC 6749 section 3.3): names joined by
single spaces; here also sorted and without duplicates, so equal sets store equally.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from iiniit_auth.conf import auth_settings
from iiniit_auth.exceptions import InvalidScope


def registry() -> Mapping[str, str]:
    """Return the declared scopes, ``{name: description}``, in declaration order."""
    return auth_settings().SCOPES


def normalize(scopes: Iterable[str] | str) -> list[str]:
    """Return ``scopes`` (an iterable or a space-separated string) as a sorted, unique list.

    Raises :class:`InvalidScope` listing every name that is not in the registry.
    """
    names = scopes.split() if isinstance(scopes, str) else list(scopes)
    known = registry()
    unknown = sorted({name for name in names if name not in known})
    if unknown:
        raise InvalidScope(unknown)
    return sorted(set(names))


def to_string(scopes: Iterable[str]) -> str:
    """Return the stored form of a validated scope list: names joined by single spaces."""
    return " ".join(sorted(set(scopes)))


def describe(scopes: Iterable[str]) -> list[tuple[str, str]]:
    """Return ``(name, description)`` pairs for ``scopes``; an unregistered name describes as ''."""
    known = registry()
    return [(name, known.get(name, "")) for name in scopes]


#: Words that, as a part of a scope's name (``orders:write``, ``users.delete``, ``admin``), mark
#: a scope that changes data rather than reads it: the consent page says so beside it.
WRITING_WORDS = frozenset({"write", "delete", "admin", "manage", "create", "update"})


def writes(name: str) -> bool:
    """Whether scope ``name`` reads as one that changes data (a part of it in WRITING_WORDS)."""
    return any(part in WRITING_WORDS for part in re.split(r"[:._/-]", name.lower()))
