"""``manage.py demo_setup``: get the example project ready to try, and say how.

Idempotent: every run (re)sets the demo accounts' passwords, revokes the demo keys of earlier
runs, issues fresh ones through ``APIKey.objects.issue``, gives the demo OAuth client a new
secret (``rotate_client_secret``) and makes sure of the demo OAuth applications and the scopes
each may obtain, Swagger UI's among them (its redirect URI is on ``--base-url``). It then prints the admin URL, the accounts, the keys (shown this once) and
commands to paste, the authorization-code + PKCE flow included, and where the developer portal
is, with the account to sign in to it. For local use only: the passwords are well known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from oauth2_provider.models import get_application_model

from iiniit_auth.models import APIKey
from iiniit_auth.oauth.applications import register_application, rotate_client_secret
from iiniit_auth.oauth.models import ApplicationPolicy

ADMIN_USERNAME = ADMIN_PASSWORD = "admin"
DEMO_USERNAME = DEMO_PASSWORD = "demo"
KEY_NAME = "demo key"
KEY_SCOPES = ["orders:read", "orders:write", "profile:read"]
READ_ONLY_KEY_NAME = "demo read-only key"
READ_ONLY_KEY_SCOPES = ["orders:read"]
OAUTH_CLIENT_NAME = "demo client"
OAUTH_CLIENT_SCOPE = "orders:read"
#: What the client-credentials application may obtain: reading orders, nothing else.
OAUTH_CLIENT_ALLOWED = ["orders:read"]
#: A public authorization-code application (a native or single-page app: no secret, PKCE), with
#: a fixed client id so the guides' commands work as printed, and a loopback redirect URI
#: (RFC 8252 section 7.3) where nothing needs to listen: the code is read off the address bar.
OAUTH_APP_NAME = "demo app"
OAUTH_APP_CLIENT_ID = "iiniit-demo-app"
OAUTH_APP_REDIRECT_URI = "http://127.0.0.1:8765/callback"
OAUTH_APP_ALLOWED = ["orders:read", "orders:write", "profile:read"]
OAUTH_APP_SCOPE = "orders:read profile:read"
#: Swagger UI's own public application (/api/docs/, the authorization-code flow with PKCE in
#: its Authorize dialog); the client id is the one its settings give Swagger UI.
SWAGGER_APP_NAME = "Swagger UI"


@dataclass(frozen=True)
class DemoCredentials:
    """What one run made: the keys' plaintexts and the OAuth client's id and secret."""

    key: str
    key_id: str
    read_only_key: str
    client_id: str
    client_secret: str
    app_client_id: str


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo accounts admin/admin and demo/demo, revoke the demo keys of "
        "earlier runs, issue fresh ones, and print the admin URL, the keys and curl commands. "
        "For local use only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the project is served, for the printed URLs (default: %(default)s).",
        )

    def handle(self, *args: Any, base_url: str, **options: Any) -> None:
        base = base_url.rstrip("/")
        made = self.set_up(base)
        self.report(made, base)

    @sensitive_variables("key", "read_only_key", "secret")
    def set_up(self, base: str) -> DemoCredentials:
        """Write the demo's accounts, keys and OAuth client in one transaction; return what the
        report shows."""
        with transaction.atomic():
            admin = self.account(ADMIN_USERNAME, ADMIN_PASSWORD, superuser=True)
            demo = self.account(DEMO_USERNAME, DEMO_PASSWORD, superuser=False)
            earlier = APIKey.objects.filter(
                owner=demo, name__in=[KEY_NAME, READ_ONLY_KEY_NAME], revoked_at__isnull=True
            )
            for old in earlier:
                old.revoke(actor=admin, reason="Replaced by a new run of demo_setup.")
            issued, key = APIKey.objects.issue(
                owner=demo, name=KEY_NAME, scopes=KEY_SCOPES, created_by=admin
            )
            _read_only, read_only_key = APIKey.objects.issue(
                owner=demo, name=READ_ONLY_KEY_NAME, scopes=READ_ONLY_KEY_SCOPES, created_by=admin
            )
            client_id, secret = self.oauth_client(admin)
            app_client_id = self.oauth_app(admin)
            self.swagger_app(admin, base)
        return DemoCredentials(
            key, issued.display_id, read_only_key, client_id, secret, app_client_id
        )

    def account(self, username: str, password: str, *, superuser: bool) -> AbstractBaseUser:
        """Return the user ``username``, created if missing, active, with ``password``."""
        User = get_user_model()
        user, _created = User._default_manager.get_or_create(**{User.USERNAME_FIELD: username})
        user.set_password(password)
        user.is_active = True
        # The demo user is deliberately no staff: it is whom the API keys act for.
        user.is_staff = user.is_superuser = superuser
        user.save()
        return user

    @sensitive_variables("secret")
    def oauth_client(self, admin: AbstractBaseUser) -> tuple[str, str]:
        """Give the demo's client-credentials OAuth application a new secret (creating the
        application if missing) and its allowed scopes; return ``(client_id, secret)``.
        django-oauth-toolkit stores only a hash of the secret, so this is the one moment it can
        be shown."""
        Application = get_application_model()
        application = Application.objects.filter(name=OAUTH_CLIENT_NAME, user=admin).first()
        if application is None:
            application, secret = register_application(
                name=OAUTH_CLIENT_NAME,
                user=admin,
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
                allowed_scopes=OAUTH_CLIENT_ALLOWED,
                actor=admin,
            )
        else:
            ApplicationPolicy.objects.set_allowed_scopes(
                application, OAUTH_CLIENT_ALLOWED, actor=admin
            )
            secret = rotate_client_secret(application, actor=admin)
        return application.client_id, secret

    def oauth_app(self, admin: AbstractBaseUser) -> str:
        """Make sure of the demo's public authorization-code application and its allowed
        scopes; return its client id."""
        Application = get_application_model()
        fields = {
            "name": OAUTH_APP_NAME,
            "user": admin,
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": OAUTH_APP_REDIRECT_URI,
        }
        application = Application.objects.filter(client_id=OAUTH_APP_CLIENT_ID).first()
        if application is None:
            application, _secret = register_application(
                client_id=OAUTH_APP_CLIENT_ID,
                allowed_scopes=OAUTH_APP_ALLOWED,
                actor=admin,
                **fields,
            )
        elif any(getattr(application, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(application, name, value)
            application.save()
        ApplicationPolicy.objects.set_allowed_scopes(application, OAUTH_APP_ALLOWED, actor=admin)
        return str(application.client_id)

    def swagger_app(self, admin: AbstractBaseUser, base: str) -> None:
        """Make sure of Swagger UI's public authorization-code application: its client id from
        the settings, its redirect URI the one Swagger UI sends from ``base``."""
        client_id = settings.SPECTACULAR_SETTINGS["SWAGGER_UI_OAUTH2_CONFIG"]["clientId"]
        Application = get_application_model()
        fields = {
            "name": SWAGGER_APP_NAME,
            "user": admin,
            "client_type": Application.CLIENT_PUBLIC,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": base + reverse("swagger-oauth-redirect"),
        }
        application = Application.objects.filter(client_id=client_id).first()
        if application is None:
            application, _secret = register_application(
                client_id=client_id, allowed_scopes=OAUTH_APP_ALLOWED, actor=admin, **fields
            )
        elif any(getattr(application, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(application, name, value)
            application.save()
        ApplicationPolicy.objects.set_allowed_scopes(application, OAUTH_APP_ALLOWED, actor=admin)

    def authorization_code_flow(
        self, made: DemoCredentials, base: str
    ) -> list[tuple[str, list[str]]]:
        """The steps of the authorization-code + PKCE flow with the demo app, as shell lines."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": made.app_client_id,
                "redirect_uri": OAUTH_APP_REDIRECT_URI,
                "scope": OAUTH_APP_SCOPE,
                "state": "demo",
            }
        )
        challenge = (
            "CHALLENGE=$(python3 -c 'import base64, hashlib, sys; print(base64.urlsafe_b64encode("
            'hashlib.sha256(sys.argv[1].encode()).digest()).rstrip(b"=").decode())\' "$VERIFIER")'
        )
        return [
            (
                _("1. Make a PKCE code verifier and its S256 challenge:"),
                [
                    "VERIFIER=$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')",
                    challenge,
                ],
            ),
            (
                _(
                    "2. Open the address this prints in a browser, sign in as %(user)s / "
                    "%(password)s and approve:"
                )
                % {"user": DEMO_USERNAME, "password": DEMO_PASSWORD},
                [
                    f'echo "{base}/o/authorize/?{query}'
                    '&code_challenge=$CHALLENGE&code_challenge_method=S256"'
                ],
            ),
            (
                _(
                    "3. The browser goes on to %(uri)s?code=...; nothing listens there, so copy "
                    "the code from the address bar and, within a minute, exchange it:"
                )
                % {"uri": OAUTH_APP_REDIRECT_URI},
                [
                    "CODE=paste-the-code-here",
                    f"TOKENS=$(curl -s -d grant_type=authorization_code -d client_id="
                    f"{made.app_client_id} -d redirect_uri={OAUTH_APP_REDIRECT_URI} "
                    f'-d code="$CODE" -d code_verifier="$VERIFIER" {base}/o/token/)',
                    'echo "$TOKENS"',
                ],
            ),
            (
                _("4. Call the API as the demo user with the access token (200):"),
                [
                    'TOKEN=$(echo "$TOKENS" | python3 -c '
                    "'import json, sys; print(json.load(sys.stdin)[\"access_token\"])')",
                    f'curl -i -H "Authorization: Bearer $TOKEN" {base}/api/orders/',
                ],
            ),
        ]

    def report(self, made: DemoCredentials, base: str) -> None:
        """Print the portal and admin URLs, the accounts, the credentials and commands to paste."""
        out = self.stdout.write
        heading = self.style.MIGRATE_HEADING
        key_header = f'-H "Authorization: ApiKey {made.key}"'
        json_header = '-H "Content-Type: application/json"'
        token_request = (
            f"curl -s -u {made.client_id}:{made.client_secret} -d grant_type=client_credentials "
            f"-d scope={OAUTH_CLIENT_SCOPE} {base}/o/token/"
        )
        commands = [
            (_("Who am I? (200)"), f"curl -i {key_header} {base}/api/ping/"),
            (
                _("Create an order (201)"),
                f"curl -i {key_header} {json_header} "
                f'-d \'{{"item": "coffee beans", "quantity": 2}}\' {base}/api/orders/',
            ),
            (_("List the demo user's orders (200)"), f"curl -i {key_header} {base}/api/orders/"),
            (
                _("The same ping with the key in the query string (200)"),
                f'curl -i "{base}/api/ping/?api_key={made.key}"',
            ),
            (
                _("Create an order with the read-only key, which lacks orders:write (403)"),
                f'curl -i -H "Authorization: ApiKey {made.read_only_key}" {json_header} '
                f'-d \'{{"item": "tea", "quantity": 1}}\' {base}/api/orders/',
            ),
            (_("No credential at all (401)"), f"curl -i {base}/api/ping/"),
            (
                _("An OAuth 2.0 token for the demo client (%(scope)s), then a ping with it (200)")
                % {"scope": OAUTH_CLIENT_SCOPE},
                f"TOKEN=$({token_request} | python3 -c "
                "'import json, sys; print(json.load(sys.stdin)[\"access_token\"])')\n"
                f'    curl -i -H "Authorization: Bearer $TOKEN" {base}/api/ping/',
            ),
            (
                _("A scope the demo client is not allowed, orders:write (400 invalid_scope)"),
                f"curl -i -u {made.client_id}:{made.client_secret} "
                f"-d grant_type=client_credentials -d scope=orders:write {base}/o/token/",
            ),
        ]
        account = _("%(username)s / password %(password)s")

        out("")
        out(heading(_("The iiniit_auth demo is ready.")))
        out("")
        out(
            _("Developer portal: %(url)s (sign in as %(account)s)")
            % {
                "url": f"{base}/developer/",
                "account": account % {"username": DEMO_USERNAME, "password": DEMO_PASSWORD},
            }
        )
        out(_("Admin: %(url)s") % {"url": f"{base}/admin/"})
        out(
            "  "
            + _("superuser: %(account)s")
            % {"account": account % {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}}
        )
        out(
            "  "
            + _("demo user: %(account)s (owns the demo keys)")
            % {"account": account % {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}}
        )
        out(
            _(
                "Swagger UI: %(url)s (Authorize with the API key as %(scheme)s <key>, or with "
                "OAuth2, client id %(client)s, signing in as %(user)s)"
            )
            % {
                "url": base + reverse("swagger-ui"),
                "scheme": "ApiKey",
                "client": settings.SPECTACULAR_SETTINGS["SWAGGER_UI_OAUTH2_CONFIG"]["clientId"],
                "user": DEMO_USERNAME,
            }
        )
        out("")
        out(heading(_("Credentials, shown this once (only their digests are stored):")))
        # The labels end in ": <value>" on a line of their own, so scripts can pick them up.
        out(f"API key: {made.key}")
        out(
            "  "
            + _("%(name)s (%(id)s), scopes: %(scopes)s")
            % {"name": KEY_NAME, "id": made.key_id, "scopes": " ".join(KEY_SCOPES)}
        )
        out(f"Read-only API key: {made.read_only_key}")
        out(
            "  "
            + _("%(name)s, scopes: %(scopes)s")
            % {"name": READ_ONLY_KEY_NAME, "scopes": " ".join(READ_ONLY_KEY_SCOPES)}
        )
        out(f"OAuth client id: {made.client_id}")
        out(f"OAuth client secret: {made.client_secret}")
        out(
            "  "
            + _(
                "%(name)s: a confidential OAuth application for the client-credentials grant, "
                "allowed scopes: %(scopes)s"
            )
            % {"name": OAUTH_CLIENT_NAME, "scopes": " ".join(OAUTH_CLIENT_ALLOWED)}
        )
        out(f"OAuth app client id: {made.app_client_id}")
        out(
            "  "
            + _(
                "%(name)s: a public OAuth application for the authorization-code grant with "
                "PKCE, redirect URI %(uri)s, allowed scopes: %(scopes)s"
            )
            % {
                "name": OAUTH_APP_NAME,
                "uri": OAUTH_APP_REDIRECT_URI,
                "scopes": " ".join(OAUTH_APP_ALLOWED),
            }
        )
        out("")
        out(heading(_("Try it once the server runs (paste one command at a time):")))
        for description, command in commands:
            out("")
            out(f"  {description}:")
            out(f"    {command}")
        out("")
        out(
            heading(
                _("The authorization-code flow with PKCE, as %(name)s acting for the demo user:")
                % {"name": OAUTH_APP_NAME}
            )
        )
        for description, lines in self.authorization_code_flow(made, base):
            out("")
            out(f"  {description}")
            for line in lines:
                out(f"    {line}")
        out("")
        out(
            self.style.WARNING(
                _(
                    "The demo passwords, and DEBUG when it is on, are for local use only. "
                    "Never expose this server to a network."
                )
            )
        )
        out(
            _(
                "Run demo_setup again for fresh credentials: the ones printed before then stop working."
            )
        )
        out("")
