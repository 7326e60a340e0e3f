"""``manage.py oauthapp``: OAuth 2.0 applications and the server's chores from the command line.

``register``, ``list``, ``allow-scopes``, ``rotate-secret``, ``revoke-tokens`` and ``delete`` go
through the same audited lifecycle functions as admin and the developer portal
(:func:`~iiniit_auth.oauth.applications.register_application`,
:meth:`~iiniit_auth.oauth.models.ApplicationPolicyManager.set_allowed_scopes`,
:func:`~iiniit_auth.oauth.applications.rotate_client_secret`,
:func:`~iiniit_auth.oauth.tokens.revoke_application_tokens`,
:func:`~iiniit_auth.oauth.applications.delete_application`): use ``register`` rather than
django-oauth-toolkit's ``createapplication``, which sets no policy and records no event.
``cleartokens`` is the audited clean-up of expired tokens and codes
(:func:`iiniit_auth.oauth.cleanup.clear_expired`), to schedule instead of
django-oauth-toolkit's own. A thin front door, as ``manage.py apikey`` is: the lifecycle
functions write, record their events and send their signals; the command reads options, looks
up the application and prints. The actor is None: the command line names no user.

A client secret is printed once, by ``register`` and ``rotate-secret``; it never appears in an
error message, even when one is pasted where a client id belongs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext_lazy as _

from iiniit_auth import scopes
from iiniit_auth.models.audit import AnyUser, contains_key

#: Client ids are django-oauth-toolkit's 40 characters; secrets are far longer. A longer text
#: given as a client id may be a secret: refused unread and never echoed.
CLIENT_ID_MAX = 100
#: The grants offered (iiniit_auth.oauth.applications.GRANT_CHOICES), as typed on the line.
GRANTS = ("authorization-code", "client-credentials")
#: Which option a field error of ``register_application`` is about.
REGISTER_OPTIONS = {
    "name": "--name",
    "client_type": "--client-type",
    "authorization_grant_type": "--grant",
    "redirect_uris": "--redirect-uris",
    "user": "--owner",
    "allowed_scopes": "--scopes",
}


def _invalid(exc: ValidationError, options: dict[str, str]) -> CommandError:
    """A ``ValidationError`` of a lifecycle function as one message naming the options."""
    if not hasattr(exc, "error_dict"):
        return CommandError(" ".join(exc.messages))
    lines = [
        f"{options.get(field, field)}: {' '.join(messages)}"
        for field, messages in exc.message_dict.items()
    ]
    if "allowed_scopes" in exc.message_dict:
        lines.append(
            _("Registered scopes: %(scopes)s.")
            % {"scopes": ", ".join(scopes.registry()) or str(_("none"))}
        )
    return CommandError("\n".join(lines))


class Command(BaseCommand):
    help = (
        "Register and manage OAuth 2.0 applications; the server's chores. "
        "Run 'manage.py oauthapp ACTION --help' for the options of an action."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", title=str(_("actions"))
        )

        def action(name: str, summary: Any) -> CommandParser:
            return actions.add_parser(name, help=str(summary), description=str(summary))

        register = action(
            "register", _("Register an application and print its client secret, once.")
        )
        register.add_argument("--name", required=True, help=str(_("Shown to users. Not secret.")))
        register.add_argument(
            "--grant",
            required=True,
            choices=GRANTS,
            help=str(
                _(
                    "authorization-code (with PKCE, for apps acting for users) or "
                    "client-credentials (for a server acting for itself)."
                )
            ),
        )
        register.add_argument(
            "--client-type",
            choices=("confidential", "public"),
            default="confidential",
            help=str(
                _("confidential (can keep a secret; default) or public (a browser or mobile app).")
            ),
        )
        register.add_argument(
            "--redirect-uris",
            default="",
            metavar="URIS",
            help=str(_("Where users are sent back, separated by spaces (authorization-code).")),
        )
        register.add_argument(
            "--owner", metavar="USERNAME", help=str(_("The user the application belongs to."))
        )
        register.add_argument(
            "--scopes",
            default="",
            help=str(
                _(
                    'The scopes it may obtain, separated by spaces, e.g. "orders:read". '
                    "Default: none."
                )
            ),
        )
        listing = action("list", _("List the applications with their allowed scopes."))
        listing.add_argument(
            "--json", action="store_true", help=str(_("Print a JSON array instead of lines."))
        )
        allow = action("allow-scopes", _("Set the scopes an application may obtain."))
        self._client_id(allow)
        allow.add_argument(
            "--scopes",
            required=True,
            help=str(
                _('All the scopes it may obtain from now on, separated by spaces; "" for none.')
            ),
        )
        self._client_id(
            action("rotate-secret", _("Give an application a new client secret; print it once."))
        )
        self._client_id(
            action("revoke-tokens", _("Revoke every token of an application, and its codes."))
        )
        self._client_id(action("delete", _("Revoke an application's tokens, then delete it.")))
        action(
            "cleartokens",
            _(
                "Delete the expired and revoked tokens and codes nothing can use any more, "
                "and record the counts in the audit log."
            ),
        )

    @staticmethod
    def _client_id(parser: CommandParser) -> None:
        parser.add_argument(
            "client_id",
            metavar="CLIENT_ID",
            help=str(_("The application's client id, as 'oauthapp list' shows it.")),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actions: dict[str, Callable[[dict[str, Any]], None]] = {
            "register": self.handle_register,
            "list": self.handle_list,
            "allow-scopes": self.handle_allow_scopes,
            "rotate-secret": self.handle_rotate_secret,
            "revoke-tokens": self.handle_revoke_tokens,
            "delete": self.handle_delete,
            "cleartokens": self.handle_cleartokens,
        }
        for name, value in options.items():
            # A byte that is not UTF-8 reaches Python as a lone surrogate, which no database
            # driver can encode: refused here, before any lookup or write.
            if not isinstance(value, str):
                continue
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                shown = "CLIENT_ID" if name == "client_id" else "--" + name.replace("_", "-")
                raise CommandError(
                    _("%(option)s is not valid UTF-8 text.") % {"option": shown}
                ) from None
        actions[options["action"]](options)

    # -- actions ---------------------------------------------------------------------------

    def handle_register(self, options: dict[str, Any]) -> None:
        """Register an application; print its client id and, once, its secret.

        Raises ``CommandError`` for an unknown owner, a refused grant, redirect URI or scope,
        or a name holding a key; nothing is written then.
        """
        from oauth2_provider.models import AbstractApplication

        from iiniit_auth.oauth.applications import register_application

        grant = {
            "authorization-code": AbstractApplication.GRANT_AUTHORIZATION_CODE,
            "client-credentials": AbstractApplication.GRANT_CLIENT_CREDENTIALS,
        }[options["grant"]]
        owner = self._user(options["owner"]) if options["owner"] is not None else None
        try:
            application, secret = register_application(
                allowed_scopes=options["scopes"],
                actor=None,
                name=options["name"],
                client_type=options["client_type"],
                authorization_grant_type=grant,
                redirect_uris=options["redirect_uris"],
                user=owner,
            )
        except ValidationError as exc:
            raise _invalid(exc, REGISTER_OPTIONS) from None
        self.stdout.write(
            self.style.SUCCESS(_("Registered %(name)s.") % {"name": application.name})
        )
        self._show_secret(application, secret)

    def handle_list(self, options: dict[str, Any]) -> None:
        """Print every application (name, client id, grant, type, owner, allowed scopes)."""
        from oauth2_provider.models import get_application_model

        from iiniit_auth.oauth.models import ApplicationPolicy

        found = list(
            get_application_model()._default_manager.select_related("user").order_by("name", "pk")
        )
        allowed = dict(
            ApplicationPolicy.objects.filter(application__in=found).values_list(
                "application_id", "allowed_scopes"
            )
        )
        rows = [
            {
                "client_id": app.client_id,
                "name": app.name,
                "grant": app.authorization_grant_type,
                "client_type": app.client_type,
                "owner": app.user.get_username() if app.user is not None else None,
                "allowed_scopes": (allowed.get(app.pk) or "").split(),
                "created": app.created.isoformat(),
            }
            for app in found
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write(str(_("No OAuth applications.")))
            return
        for row in rows:
            self.stdout.write(
                f"{row['client_id']}  {' '.join(str(row['name']).split())}  {row['grant']}  "
                f"{row['client_type']}  {row['owner'] or '-'}  "
                f"{' '.join(row['allowed_scopes']) or str(_('no scopes'))}"
            )

    def handle_allow_scopes(self, options: dict[str, Any]) -> None:
        """Set the application's allowed scopes and say what they are now.

        Raises ``CommandError`` for an unknown client id or an unregistered scope; nothing is
        written then.
        """
        from iiniit_auth.oauth.models import ApplicationPolicy

        application = self._application(options["client_id"])
        try:
            policy = ApplicationPolicy.objects.set_allowed_scopes(
                application, options["scopes"], actor=None
            )
        except ValidationError as exc:
            raise _invalid(exc, {"allowed_scopes": "--scopes"}) from None
        self.stdout.write(
            self.style.SUCCESS(
                _("%(name)s may obtain: %(scopes)s.")
                % {
                    "name": application.name,
                    "scopes": " ".join(policy.scope_list) or str(_("no scopes")),
                }
            )
        )

    def handle_rotate_secret(self, options: dict[str, Any]) -> None:
        """Give the application a new client secret and print it once.

        Raises ``CommandError`` for an unknown client id; nothing is written then.
        """
        from iiniit_auth.oauth.applications import rotate_client_secret

        application = self._application(options["client_id"])
        secret = rotate_client_secret(application, actor=None)
        self.stdout.write(
            self.style.SUCCESS(
                _("Rotated the client secret of %(name)s; the old one is refused from now on.")
                % {"name": application.name}
            )
        )
        self._show_secret(application, secret)

    def handle_revoke_tokens(self, options: dict[str, Any]) -> None:
        """Revoke every live token and pending code of the application; say how many.

        Raises ``CommandError`` for an unknown client id; nothing is written then.
        """
        from iiniit_auth.oauth.tokens import revoke_application_tokens

        application = self._application(options["client_id"])
        count = revoke_application_tokens(application, actor=None)
        self.stdout.write(
            self.style.SUCCESS(
                _("Revoked %(n)d tokens of %(name)s. It stays registered.")
                % {"n": count, "name": application.name}
            )
        )

    def handle_delete(self, options: dict[str, Any]) -> None:
        """Revoke the application's tokens, then delete it; say so.

        Raises ``CommandError`` for an unknown client id; nothing is written then.
        """
        from iiniit_auth.oauth.applications import delete_application

        application = self._application(options["client_id"])
        name = application.name
        try:
            count = delete_application(application, actor=None)
        except ValidationError as exc:
            raise _invalid(exc, {}) from None
        self.stdout.write(
            self.style.SUCCESS(
                _("Deleted %(name)s (%(id)s) after revoking %(n)d tokens.")
                % {"name": name, "id": options["client_id"], "n": count}
            )
        )

    def handle_cleartokens(self, options: dict[str, Any]) -> None:
        """Run the clean-up and print the counts (nothing with ``--verbosity 0``).

        Raises ``CommandError`` for a django-oauth-toolkit setting the clean-up cannot read;
        nothing is deleted then.
        """
        # The OAuth server is an app on top of the core: loaded when asked for, not before.
        from iiniit_auth.oauth.cleanup import clear_expired

        try:
            counts = clear_expired(actor=None)
        except ImproperlyConfigured as exc:
            raise CommandError(_("Nothing was deleted: %(problem)s") % {"problem": exc}) from None
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "Deleted access tokens: %(access_tokens)d, refresh tokens: "
                        "%(refresh_tokens)d, ID tokens: %(id_tokens)d, authorization codes: "
                        "%(authorization_codes)d, redeemed codes: %(redeemed_codes)d. Recorded "
                        "in the audit log."
                    )
                    % counts
                )
            )

    # -- lookups and printing ------------------------------------------------------------------

    def _application(self, client_id: str) -> Any:
        """The application whose client id is ``client_id``, or ``CommandError``.

        A long text (a pasted secret, maybe) or one shaped like a key is refused unread and
        never echoed.
        """
        from oauth2_provider.models import get_application_model

        client_id = client_id.strip()
        if len(client_id) > CLIENT_ID_MAX or contains_key(client_id):
            raise CommandError(
                _(
                    "That is not a client id (it may be a secret): it was not used. Text typed on "
                    "a command line stays in the shell's history; if others can read that "
                    "history, rotate the secret."
                )
            )
        Application = get_application_model()
        try:
            return Application._default_manager.get(client_id=client_id)
        except Application.DoesNotExist:
            raise CommandError(
                _(
                    "There is no OAuth application with client id %(id)s "
                    "('manage.py oauthapp list' lists them)."
                )
                % {"id": json.dumps(client_id)}
            ) from None

    def _user(self, username: str) -> AnyUser:
        user_model = get_user_model()
        if contains_key(username):
            raise CommandError(str(_("--owner must be a username, not a key: it was not used.")))
        try:
            return user_model._default_manager.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(
                _("There is no user %(field)s=%(username)s.")
                % {"field": user_model.USERNAME_FIELD, "username": json.dumps(username)}
            ) from None

    def _show_secret(self, application: Any, secret: str) -> None:
        self.stdout.write(f"{_('Client id:')}     {application.client_id}")
        self.stdout.write(f"{_('Client secret:')} {secret}")
        self.stdout.write(
            self.style.WARNING(str(_("Store the secret now: it is shown only this once.")))
        )
