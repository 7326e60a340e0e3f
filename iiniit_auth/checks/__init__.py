"""System checks for misconfiguration, with stable ids never reused (docs/checks.md).

Importing the package registers the core's: ``core`` (run always) and ``deploy`` (run by
``check --deploy``). The OAuth 2.0 server's (W010-W019) are its app's own
(:mod:`iiniit_auth.oauth.checks`).
"""

from __future__ import annotations

from iiniit_auth.checks import core, deploy

__all__ = ["core", "deploy"]
