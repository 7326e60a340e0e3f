from django.db import migrations, models


class Migration(migrations.Migration):
    # The audit log's events for a deleted OAuth application and an expiry reminder.

    dependencies = [
        ('iiniit_auth', '0006_redeemed_codes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='credentialevent',
            name='event',
            field=models.CharField(choices=[('issued', 'issued'), ('rotated', 'rotated'), ('revoked', 'revoked'), ('refused', 'refused'), ('denied', 'denied'), ('created', 'created'), ('changed', 'changed'), ('secret_rotated', 'client secret rotated'), ('scopes_changed', 'allowed scopes changed'), ('introspection_changed', 'introspection permission changed'), ('cleared', 'expired tokens cleared'), ('deleted', 'deleted'), ('reminded', 'expiry reminder sent')], max_length=32, verbose_name='event'),
        ),
    ]
