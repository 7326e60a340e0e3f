from django.db import migrations

import iiniit_auth.models.apikey


class Migration(migrations.Migration):
    dependencies = [
        ("iiniit_auth", "0010_rate_limits"),
        ("orgkeys", "0003_issue_for_others"),
    ]

    operations = [
        migrations.AddField(
            model_name="teamapikey",
            name="rate",
            field=iiniit_auth.models.apikey.RateField(
                blank=True, default="", editable=False, max_length=32, verbose_name="rate limit"
            ),
        ),
    ]
