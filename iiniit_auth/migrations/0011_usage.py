from django.db import migrations


class Migration(migrations.Migration):
    """Requests per credential per day (filled in with the model)."""

    dependencies = [
        ("iiniit_auth", "0010_rate_limits"),
    ]

    operations = []
