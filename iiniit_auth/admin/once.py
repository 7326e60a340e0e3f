"""Admin's one-time form tokens: :mod:`iiniit_auth.once`, which the portal shares."""

from __future__ import annotations

from iiniit_auth.once import MAX_TOKENS, SESSION_KEY, TokenState, consume, new_token, state

__all__ = ["MAX_TOKENS", "SESSION_KEY", "TokenState", "consume", "new_token", "state"]
