from django.db import migrations, models


class Migration(migrations.Migration):
    """Requests per credential per day."""

    dependencies = [
        ("iiniit_auth", "0010_rate_limits"),
    ]

    operations = [
        migrations.CreateModel(
            name="Usage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("api_key", "API key"),
                            ("oauth_application", "OAuth application"),
                        ],
                        max_length=32,
                        verbose_name="credential kind",
                    ),
                ),
                ("credential_id", models.CharField(max_length=64, verbose_name="credential")),
                ("day", models.DateField(verbose_name="day (UTC)")),
                ("requests", models.PositiveBigIntegerField(default=0, verbose_name="requests")),
            ],
            options={
                "verbose_name": "usage",
                "verbose_name_plural": "usage",
                "default_permissions": (),
                "indexes": [models.Index(fields=["day"], name="iiniit_usage_day")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "credential_id", "day"), name="iiniit_usage_one_row_a_day"
                    )
                ],
            },
        ),
    ]
