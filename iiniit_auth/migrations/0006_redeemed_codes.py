import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from oauth2_provider.settings import oauth2_settings


class Migration(migrations.Migration):
    # django-oauth-toolkit's application model is read from its own settings, as in 0002.

    dependencies = [
        ('iiniit_auth', '0005_admin_for_others'),
        migrations.swappable_dependency(oauth2_settings.APPLICATION_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RedeemedCode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('digest', models.CharField(max_length=64, unique=True, verbose_name='SHA-256 of the code')),
                ('access_token_pk', models.BigIntegerField(null=True, verbose_name='access token id')),
                ('token_family', models.UUIDField(db_index=True, null=True, verbose_name='refresh token family')),
                ('redeemed', models.DateTimeField(default=django.utils.timezone.now, verbose_name='redeemed')),
                ('expires', models.DateTimeField(db_index=True, verbose_name='expires')),
                ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=oauth2_settings.APPLICATION_MODEL, verbose_name='application')),
            ],
            options={
                'verbose_name': 'redeemed authorization code',
                'verbose_name_plural': 'redeemed authorization codes',
                'default_permissions': (),
            },
        ),
        migrations.AlterField(
            model_name='credentialevent',
            name='event',
            field=models.CharField(choices=[('issued', 'issued'), ('rotated', 'rotated'), ('revoked', 'revoked'), ('refused', 'refused'), ('denied', 'denied'), ('created', 'created'), ('changed', 'changed'), ('secret_rotated', 'client secret rotated'), ('scopes_changed', 'allowed scopes changed'), ('introspection_changed', 'introspection permission changed'), ('cleared', 'expired tokens cleared')], max_length=32, verbose_name='event'),
        ),
    ]
