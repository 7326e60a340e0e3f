from django.db import migrations


class Migration(migrations.Migration):
    """Rate limits per key and per OAuth application (filled in with the fields)."""

    dependencies = [
        ("iiniit_auth", "0009_audit_append_only"),
    ]

    operations = []
