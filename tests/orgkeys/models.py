"""A project's own key model: keys that also belong to a team (docs/api-keys.md, subclassing)."""

from django.db import models

from iiniit_auth.models import AbstractAPIKey


class TeamAPIKey(AbstractAPIKey):
    team = models.CharField(max_length=50)

    class Meta(AbstractAPIKey.Meta):
        pass
