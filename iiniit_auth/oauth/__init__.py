"""iiniit_auth's OAuth 2.0 authorization server, built on django-oauth-toolkit: a Django app of
its own (label ``iiniit_oauth``), installed beside ``oauth2_provider`` and ``iiniit_auth``.

``RECOMMENDED_OAUTH2_PROVIDER`` is importable from settings (this module imports nothing that
needs Django configured). The validator lives in :mod:`iiniit_auth.oauth.validators`, the views
in :mod:`iiniit_auth.oauth.views`, the URLconf to include at ``/o/`` in
:mod:`iiniit_auth.oauth.urls`.
"""

from iiniit_auth.oauth.recommended import RECOMMENDED_OAUTH2_PROVIDER

__all__ = ["RECOMMENDED_OAUTH2_PROVIDER"]
