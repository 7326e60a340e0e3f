"""System checks for misconfiguration, with stable ids never reused (docs/checks.md).

Importing the package registers them all: ``core`` (run always), ``deploy`` (run by
``check --deploy``) and the OAuth 2.0 server's own, which live beside it.
"""

from __future__ import annotations

from iiniit_auth.checks import core, deploy

# The OAuth 2.0 server's checks (W010-W019) register on import.
from iiniit_auth.oauth import checks as _oauth_checks  # noqa: F401

__all__ = ["core", "deploy"]
