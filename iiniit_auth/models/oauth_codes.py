"""Authorization codes already redeemed, remembered by digest to recognise one presented again.

django-oauth-toolkit deletes a code (its ``Grant`` row) once redeemed, and with it any trace of
which tokens it bought. RFC 6749 sections 4.1.2 and 10.5 ask the server to refuse a code used
twice and to revoke the tokens issued from it, so a :class:`RedeemedCode` row keeps, for as
long as a token issued from the code may live: the code's SHA-256 digest (never the code), the
application, the access token's id and the refresh token family. Written only in the
transaction that redeems the code (:mod:`iiniit_auth.oauth.codes`); deleted by the clean-up
(``manage.py oauthapp cleartokens``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.models import get_refresh_token_model
from oauth2_provider.settings import oauth2_settings


@sensitive_variables("code")
def code_digest(code: str) -> str:
    """The hexadecimal SHA-256 of an authorization code: what is stored of it."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class RedeemedCodeQuerySet(models.QuerySet["RedeemedCode"]):
    @sensitive_variables("code")
    def of(self, code: str, application: Any) -> RedeemedCodeQuerySet:
        """The row of ``code`` as redeemed by ``application`` (none for another application)."""
        return self.filter(digest=code_digest(code), application=application)

    def prunable(self, now: datetime) -> RedeemedCodeQuerySet:
        """Rows whose access token has expired and whose refresh token family has no live
        member: no token issued from the code can be used any more."""
        live = get_refresh_token_model()._default_manager.filter(
            token_family=OuterRef("token_family"), revoked__isnull=True
        )
        return self.filter(expires__lt=now).exclude(Exists(live))


class RedeemedCode(models.Model):
    """An authorization code that was exchanged for tokens. See the module docstring."""

    digest = models.CharField(_("SHA-256 of the code"), max_length=64, unique=True)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("application"),
    )
    # The token's id, not a foreign key: the token is deleted when revoked or rotated.
    access_token_pk = models.BigIntegerField(_("access token id"), null=True)
    token_family = models.UUIDField(_("refresh token family"), null=True, db_index=True)
    redeemed = models.DateTimeField(_("redeemed"), default=timezone.now)
    #: When the access token issued from the code expires.
    expires = models.DateTimeField(_("expires"), db_index=True)

    objects = RedeemedCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("redeemed authorization code")
        verbose_name_plural = _("redeemed authorization codes")
        default_permissions = ()

    def __str__(self) -> str:
        return str(_("Redeemed code #%(pk)s") % {"pk": self.pk})
