from django.db import migrations

import iiniit_auth.models.apikey


class Migration(migrations.Migration):
    """Rate limits per key and per OAuth application."""

    dependencies = [
        ("iiniit_auth", "0009_audit_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="rate",
            field=iiniit_auth.models.apikey.RateField(
                blank=True, default="", editable=False, max_length=32, verbose_name="rate limit"
            ),
        ),
        migrations.AddField(
            model_name="applicationpolicy",
            name="rate",
            field=iiniit_auth.models.apikey.RateField(
                blank=True, default="", editable=False, max_length=32, verbose_name="rate limit"
            ),
        ),
    ]
