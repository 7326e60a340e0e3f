"""Optional integrations with other packages, each loaded only when its package is installed.

``spectacular``: OpenAPI security schemes and per-operation scopes for drf-spectacular
(the ``openapi`` extra, docs/openapi.md).
"""
