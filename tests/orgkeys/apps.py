from django.apps import AppConfig


class OrgKeysConfig(AppConfig):
    name = "tests.orgkeys"
    label = "orgkeys"
    default_auto_field = "django.db.models.BigAutoField"
