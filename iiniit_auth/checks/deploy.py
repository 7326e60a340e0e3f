"""The checks ``manage.py check --deploy`` adds: what a production deployment must settle.

Ids are stable and never reused (docs/checks.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from iiniit_auth.conf import auth_settings

#: The engines that speak to PostgreSQL: Django's own and GeoDjango's PostGIS.
POSTGRESQL_ENGINES = (
    "django.db.backends.postgresql",
    "django.contrib.gis.db.backends.postgis",
)


@register(Tags.security, deploy=True)
def check_query_param_deploy(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W004 (deploy): keys are accepted in the query string, where URLs get logged."""
    try:
        allowed = auth_settings().ALLOW_QUERY_PARAM
    except ImproperlyConfigured:
        return []
    if allowed:
        return [
            Warning(
                "API keys are accepted in the query string (?api_key=). URLs end up in proxy, "
                "server and browser logs and in Referer headers (RFC 6750 section 2.3).",
                hint='Set IINIIT_AUTH["ALLOW_QUERY_PARAM"] = False unless clients cannot send a '
                "header; while it is on, keep keys out of the server's access log with the "
                "formats of docs/deployment.md, section Access logs.",
                id="iiniit_auth.W004",
            )
        ]
    return []


# No tag: Django runs checks tagged "database" only when asked for a database, and this one
# reads settings alone.
@register(deploy=True)
def check_postgresql_connections(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """W020 (deploy): a PostgreSQL database opens a new connection for every request.

    Reads each alias's settings only: it connects to nothing.
    """
    messages: list[CheckMessage] = []
    for alias in connections:
        options = connections[alias].settings_dict
        if options.get("ENGINE") not in POSTGRESQL_ENGINES:
            continue
        max_age = options.get("CONN_MAX_AGE", 0)  # None: connections that never close
        if max_age is None or max_age > 0 or (options.get("OPTIONS") or {}).get("pool"):
            continue
        messages.append(
            Warning(
                f"The PostgreSQL database {alias!r} has neither CONN_MAX_AGE nor a connection "
                "pool: every authenticated request opens a connection of its own, which costs "
                "more than the request's lookup.",
                hint=f'Set DATABASES["{alias}"]["CONN_MAX_AGE"] (e.g. 60, with '
                '"CONN_HEALTH_CHECKS": True) or OPTIONS {"pool": True}; see docs/deployment.md.',
                id="iiniit_auth.W020",
            )
        )
    return messages
