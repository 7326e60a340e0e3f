from django.db import migrations


class Migration(migrations.Migration):
    """The audit table is append-only on PostgreSQL (filled in with the trigger)."""

    dependencies = [
        ("iiniit_auth", "0008_overview"),
    ]

    operations = []
