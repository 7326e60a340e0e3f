"""One-time form tokens: a form that shows a new secret can be submitted once, never twice.

The page that shows a new key or client secret is the answer to the POST that made it (the
plaintext must not travel through a redirect, the session or ``messages``). Reloading that
page, or going back and submitting again, would send the same POST a second time and make a
second credential. So every form that makes one (in admin and in the developer portal)
carries a token kept in the session: the first submission consumes it, and a later one with
the same token finds it used and is sent to what it made, which shows no plaintext.

The session holds only tokens, what they are for, and the primary key they produced.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from django import forms
from django.http import HttpRequest

SESSION_KEY: Final = "iiniit_auth.admin.once"
#: Tokens kept per session; the oldest go first (a form left open that long is simply re-sent).
MAX_TOKENS: Final = 32


@dataclass(frozen=True)
class TokenState:
    """What a submitted token is: ``fresh`` (never used), ``used`` (``pk`` made), or unknown."""

    fresh: bool
    used_for: str | None = None


class OnceForm(forms.Form):
    """A form that carries a one-time token in the hidden field ``once``."""

    once = forms.CharField(widget=forms.HiddenInput)


def _store(request: HttpRequest) -> dict[str, list[str | None]]:
    store = request.session.get(SESSION_KEY)
    return dict(store) if isinstance(store, dict) else {}


def new_token(request: HttpRequest, purpose: str) -> str:
    """Return a new token for a form that does ``purpose`` (e.g. ``"issue"``); stores it."""
    token = secrets.token_urlsafe(16)
    store = _store(request)
    store[token] = [purpose, None]
    for old in list(store)[:-MAX_TOKENS]:
        del store[old]
    request.session[SESSION_KEY] = store
    return token


def state(request: HttpRequest, token: str, purpose: str) -> TokenState:
    """Return whether ``token`` (for ``purpose``) is fresh, used (and for which pk), or unknown."""
    entry = _store(request).get(token)
    if not entry or entry[0] != purpose:
        return TokenState(fresh=False)
    if entry[1] is None:
        return TokenState(fresh=True)
    return TokenState(fresh=False, used_for=entry[1])


def consume(request: HttpRequest, token: str, pk: object) -> None:
    """Mark ``token`` used; a later submission with it is sent to the object ``pk``."""
    store = _store(request)
    if token in store:
        store[token] = [store[token][0], str(pk)]
        request.session[SESSION_KEY] = store
