"""A project's own key models: keys that also belong to a team (docs/api-keys.md, subclassing),
and the other ways a project may extend the key and user models (proxies, tables of their own)."""

from django.contrib.auth.models import User
from django.db import models

from iiniit_auth.models import AbstractAPIKey, APIKey


class TeamAPIKey(AbstractAPIKey):
    team = models.CharField(max_length=50)

    class Meta(AbstractAPIKey.Meta):
        pass


class ProxyUser(User):
    """The user model saved through a proxy (an admin of its own, say)."""

    class Meta:
        proxy = True


class Employee(User):
    """A user with a table of its own beside auth's (multi-table inheritance)."""

    badge = models.CharField(max_length=20, blank=True)


class ProxyAPIKey(APIKey):
    """The key model read through a proxy."""

    class Meta:
        proxy = True


class ContractKey(APIKey):
    """A key with a table of its own beside APIKey's, and a file (a signed contract)."""

    contract = models.FileField(upload_to="contracts/", blank=True)
