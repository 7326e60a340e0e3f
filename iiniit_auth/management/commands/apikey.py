"""``manage.py apikey``: issue, list, revoke and rotate API keys from the command line.

A thin front door onto the lifecycle methods (``APIKey.objects.issue``, ``key.rotate``,
``key.revoke``): they validate, write the key and its audit event, and send the signal. This
module only reads options, looks up users and keys, and prints. Everything a command line
gets wrong (an unknown user, scope or key, a bad duration, a key in the wrong state) becomes
a ``CommandError`` before or instead of a write, so a failed command leaves the database as
it was. The actor of every write is None: the command line has no user to name.

A plaintext key is printed once, by ``issue`` and ``rotate``; it never appears in an error
message, even when a key is pasted where its public id belongs.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiniit_auth import keys, scopes
from iiniit_auth.conf import auth_settings
from iiniit_auth.durations import SYNTAX, parse_duration
from iiniit_auth.exceptions import KeyStateError, MalformedKey
from iiniit_auth.models import NEVER, AbstractAPIKey, APIKey
from iiniit_auth.models.audit import AnyUser

if TYPE_CHECKING:  # django-stubs-ext is a lint dependency only
    from django_stubs_ext import StrOrPromise

#: Anything shaped like a full key, whatever its prefix, anywhere in a text: such a text is
#: refused unread and never echoed (it may be a live secret pasted into the wrong place).
_KEY_SHAPED = re.compile(rf"[a-z][a-z0-9]{{1,15}}_[0-9A-Za-z]{{{keys.BODY_LENGTH}}}")
_PUBLIC_ID = re.compile(rf"[0-9A-Za-z]{{{keys.PUBLIC_ID_LENGTH}}}")

#: Which option of ``issue`` a field error of ``APIKey.objects.issue`` is about.
_ISSUE_OPTIONS = {
    "owner": "--owner",
    "name": "--name",
    "scopes": "--scopes",
    "expires_at": "--expires-in",
    "allowed_networks": "--networks",
}


def _duration(text: str) -> timedelta:
    """argparse ``type=`` for durations: the parser's message becomes the usage error."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _when(moment: datetime | None) -> str:
    """A time as the table and the summaries show it, in the current time zone."""
    if moment is None:
        return str(_("never"))
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _one_line(text: str) -> str:
    # A name may hold new lines or tabs; in a table they would break the row.
    return " ".join(text.split())


def _invalid(exc: ValidationError, options: Mapping[str, str] | None = None) -> CommandError:
    """A ``ValidationError`` from a lifecycle method, as one message naming the options."""
    if hasattr(exc, "error_dict"):
        lines = [
            f"{options[field]}: {' '.join(messages)}"
            if options and field in options
            else " ".join(messages)
            for field, messages in exc.message_dict.items()
        ]
    else:
        lines = list(exc.messages)
    if options and "scopes" in getattr(exc, "error_dict", {}):
        lines.append(
            _("Registered scopes: %(scopes)s.")
            % {"scopes": ", ".join(scopes.registry()) or str(_("none"))}
        )
    return CommandError("\n".join(lines))


class Command(BaseCommand):
    help = (
        "Issue, list, revoke and rotate API keys. "
        "Run 'manage.py apikey ACTION --help' for the options of an action."
    )
    # Like Django's changepassword: revoking a leaked key must not wait for a settings fix.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action",
            required=True,
            metavar="ACTION",
            title=str(_("actions")),
        )
        self._add_issue(self._action(actions, "issue", _("Issue a new key and print it, once.")))
        self._add_list(self._action(actions, "list", _("List keys (active ones unless --all).")))
        revoke = self._action(actions, "revoke", _("Revoke a key for good."))
        self._add_public_id(revoke)
        revoke.add_argument(
            "--reason",
            default="",
            help=str(_("Why the key is revoked; kept in the key and the audit log.")),
        )
        rotate = self._action(
            actions, "rotate", _("Replace a key by a new one with the same name and scopes.")
        )
        self._add_public_id(rotate)
        rotate.add_argument(
            "--grace",
            type=_duration,
            default=timedelta(hours=24),
            metavar="DURATION",
            help=str(
                _(
                    "How long the old key keeps working, never past its own expiry: "
                    "%(syntax)s. 0 retires it at once. Default: 24h."
                )
                % {"syntax": SYNTAX}
            ),
        )
        self._add_quiet(rotate)

    def _action(
        self, actions: argparse._SubParsersAction[CommandParser], name: str, summary: StrOrPromise
    ) -> CommandParser:
        return actions.add_parser(name, help=str(summary), description=str(summary))

    def _add_issue(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--owner",
            required=True,
            metavar="USERNAME",
            help=str(_("The username of the user the key acts for.")),
        )
        parser.add_argument(
            "--name",
            required=True,
            help=str(_("What the key is for, e.g. 'CI deploy'. Not secret.")),
        )
        parser.add_argument(
            "--scopes",
            required=True,
            help=str(
                _(
                    "The key's scopes, separated by spaces and quoted as one argument, "
                    "e.g. \"orders:read orders:write\". Each must be in IINIIT_AUTH['SCOPES']; "
                    '"" issues a key without scopes.'
                )
            ),
        )
        lifetime = parser.add_mutually_exclusive_group()
        lifetime.add_argument(
            "--expires-in",
            type=_duration,
            metavar="DURATION",
            help=str(
                _(
                    "When the key expires, from now: %(syntax)s. Default: the DEFAULT_KEY_LIFETIME setting."
                )
                % {"syntax": SYNTAX}
            ),
        )
        lifetime.add_argument(
            "--never-expires",
            action="store_true",
            help=str(_("Issue a key without expiry, whatever the default lifetime.")),
        )
        parser.add_argument(
            "--networks",
            default="",
            metavar="CIDRS",
            help=str(
                _(
                    "Client networks allowed to use the key, separated by spaces or commas, "
                    'e.g. "10.0.0.0/8 192.168.1.0/24". Default: any address.'
                )
            ),
        )
        self._add_quiet(parser)

    def _add_list(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--owner", metavar="USERNAME", help=str(_("Only the keys of this user."))
        )
        parser.add_argument(
            "--all",
            action="store_true",
            help=str(_("Include revoked, expired and rotated-out keys.")),
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help=str(_("Print a JSON array instead of a table.")),
        )

    def _add_public_id(self, parser: CommandParser) -> None:
        parser.add_argument(
            "public_id",
            metavar="PUBLIC_ID",
            help=str(
                _(
                    "The key's public id, as 'apikey list' shows it (%(prefix)s_ and 10 letters "
                    "and digits) or without the prefix. Never the key itself."
                )
                % {"prefix": auth_settings().KEY_PREFIX}
            ),
        )

    def _add_quiet(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--quiet",
            action="store_true",
            help=str(
                _("Print only the key, on one line, for scripts: KEY=$(manage.py apikey ...).")
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actions: dict[str, Callable[[dict[str, Any]], None]] = {
            "issue": self.handle_issue,
            "list": self.handle_list,
            "revoke": self.handle_revoke,
            "rotate": self.handle_rotate,
        }
        actions[options["action"]](options)

    # -- actions ---------------------------------------------------------------------------

    def handle_issue(self, options: dict[str, Any]) -> None:
        """Issue a key; print it once with its public id, expiry and scopes (or only the key).

        Raises ``CommandError`` for an unknown owner, an invalid name, scope, network or
        duration; nothing is written then.
        """
        name: str = options["name"]
        self._refuse_key_shaped(name, "--name")
        owner = self._user(options["owner"])
        expires_at = NEVER if options["never_expires"] else self._expiry(options["expires_in"])
        try:
            key, plaintext = APIKey.objects.issue(
                owner=owner,
                name=name,
                scopes=options["scopes"],
                expires_at=expires_at,
                created_by=None,
                allowed_networks=options["networks"],
            )
        except ValidationError as exc:
            raise _invalid(exc, _ISSUE_OPTIONS) from None
        if options["quiet"]:
            self.stdout.write(plaintext)
            return
        self.stdout.write(
            self.style.SUCCESS(
                _("Issued %(id)s (%(name)s) for %(owner)s.")
                % {"id": key.display_id, "name": key.name, "owner": owner.get_username()}
            )
        )
        self._show_new_key(key, plaintext)

    def handle_list(self, options: dict[str, Any]) -> None:
        """Print the keys as a table or, with ``--json``, a JSON array. Writes nothing.

        Raises ``CommandError`` for an unknown ``--owner``.
        """
        found = APIKey.objects.get_queryset()
        if not options["all"]:
            found = found.active()
        if options["owner"] is not None:
            found = found.filter(owner=self._user(options["owner"]))
        found = found.select_related("owner")
        if options["json"]:
            self.stdout.write(json.dumps([self._as_json(key) for key in found], indent=2))
        else:
            self._table(list(found), options["all"])

    def handle_revoke(self, options: dict[str, Any]) -> None:
        """Revoke a key for good and say so.

        Raises ``CommandError`` for an unknown or malformed public id, a pasted key, or a key
        already revoked; nothing is written then.
        """
        key = self._key(options["public_id"])
        reason: str = options["reason"]
        self._refuse_key_shaped(reason, "--reason")
        try:
            key.revoke(actor=None, reason=reason)
        except KeyStateError as exc:
            raise CommandError(
                _("Cannot revoke %(id)s: %(problem)s") % {"id": key.display_id, "problem": exc}
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                _("Revoked %(id)s (%(name)s) of %(owner)s. It is refused from the next request on.")
                % {"id": key.display_id, "name": key.name, "owner": key.owner.get_username()}
            )
        )

    def handle_rotate(self, options: dict[str, Any]) -> None:
        """Rotate a key: print its successor's key once (or only the key) and the old key's end.

        Raises ``CommandError`` for an unknown or malformed public id, a pasted key, a key that
        is revoked, expired or already rotated, or a successor that cannot be issued (its
        owner became inactive, a scope left the registry); nothing is written then.
        """
        key = self._key(options["public_id"])
        grace: timedelta = options["grace"]
        # The state the refusal is about, as it was when the rotation was asked for.
        status = key.status
        try:
            successor, plaintext = key.rotate(grace=grace, actor=None)
        except (KeyStateError, ValidationError) as exc:
            problem = exc if isinstance(exc, KeyStateError) else _invalid(exc)
            raise CommandError(
                _("Cannot rotate %(id)s (%(status)s): %(problem)s")
                % {"id": key.display_id, "status": status, "problem": problem}
            ) from None
        if options["quiet"]:
            self.stdout.write(plaintext)
            return
        self.stdout.write(
            self.style.SUCCESS(
                _("Rotated %(old)s into %(new)s (%(name)s) for %(owner)s.")
                % {
                    "old": key.display_id,
                    "new": successor.display_id,
                    "name": successor.name,
                    "owner": successor.owner.get_username(),
                }
            )
        )
        self._show_new_key(successor, plaintext)
        if key.is_active:
            message = _("The old key %(id)s keeps working until %(when)s.") % {
                "id": key.display_id,
                "when": _when(key.expires_at),
            }
        else:
            message = _("The old key %(id)s is refused from now on.") % {"id": key.display_id}
        self.stdout.write(self.style.WARNING(message))

    # -- lookups and checks ------------------------------------------------------------------

    def _expiry(self, expires_in: timedelta | None) -> datetime | None:
        """The expiry ``--expires-in`` asks for; None (the default lifetime) when not given."""
        if expires_in is None:
            return None
        if expires_in <= timedelta(0):
            raise CommandError(
                str(
                    _(
                        "--expires-in must be longer than 0; "
                        "--never-expires issues a key without expiry."
                    )
                )
            )
        return timezone.now() + expires_in

    def _user(self, username: str) -> AnyUser:
        """The user whose USERNAME_FIELD is ``username``, or ``CommandError``."""
        user_model = get_user_model()
        try:
            return user_model._default_manager.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(
                _("There is no user %(field)s=%(username)s.")
                % {"field": user_model.USERNAME_FIELD, "username": json.dumps(username)}
            ) from None

    def _key(self, text: str) -> AbstractAPIKey:
        """The key whose public id ``text`` gives (bare or as ``<prefix>_<id>``), or ``CommandError``.

        A full key is refused without a lookup, and its text is never echoed.
        """
        prefix = auth_settings().KEY_PREFIX
        text = text.strip()
        if _KEY_SHAPED.search(text) or len(text) >= keys.BODY_LENGTH:
            raise CommandError(self._pasted_key_message(text, prefix))
        public_id = text.removeprefix(f"{prefix}_")
        if not _PUBLIC_ID.fullmatch(public_id):
            # Not echoed either: a mangled key (a character short) is still mostly secret.
            raise CommandError(
                _(
                    "That is not a public id. A public id is %(prefix)s_ followed by %(n)d letters "
                    "and digits (or those %(n)d alone), as 'manage.py apikey list --all' shows it."
                )
                % {"prefix": prefix, "n": keys.PUBLIC_ID_LENGTH}
            )
        try:
            return APIKey.objects.select_related("owner").get(public_id=public_id)
        except APIKey.DoesNotExist:
            raise CommandError(
                _(
                    "There is no API key %(prefix)s_%(id)s ('manage.py apikey list --all' lists them)."
                )
                % {"prefix": prefix, "id": public_id}
            ) from None

    def _pasted_key_message(self, text: str, prefix: str) -> str:
        message = str(
            _(
                "That looks like a full API key, which is a secret, not its public id: it was not "
                "used. A key typed on a command line stays in the shell's history; if others can read "
                "that history, rotate the key."
            )
        )
        try:
            public_id = keys.parse(text, prefix)
        except MalformedKey:
            return message
        # The public id is not secret, and naming it saves a trip to 'apikey list'.
        return f"{message} " + _("Its public id is %(prefix)s_%(id)s.") % {
            "prefix": prefix,
            "id": public_id,
        }

    def _refuse_key_shaped(self, text: str, option: str) -> None:
        # Names and reasons are shown in lists and kept in the audit log: never a secret.
        if _KEY_SHAPED.search(text):
            raise CommandError(
                _(
                    "%(option)s must not contain an API key: it is shown in lists and kept in "
                    "the audit log. Name a key by its public id."
                )
                % {"option": option}
            )

    # -- output ------------------------------------------------------------------------------

    def _show_new_key(self, key: AbstractAPIKey, plaintext: str) -> None:
        rows = [
            (str(_("Key:")), plaintext),
            (str(_("Public id:")), key.display_id),
            (str(_("Expires:")), _when(key.expires_at)),
            (str(_("Scopes:")), " ".join(key.scope_list) or str(_("none"))),
        ]
        if key.allowed_networks:
            rows.append((str(_("Networks:")), " ".join(key.allowed_networks)))
        width = max(len(label) for label, _value in rows) + 1
        for label, value in rows:
            self.stdout.write(f"{label:<{width}}{value}")
        self.stdout.write(
            self.style.WARNING(str(_("Store the key now: it is shown only this once.")))
        )

    def _as_json(self, key: AbstractAPIKey) -> dict[str, Any]:
        # Named fields, never the model's dict: the digest must not leave the database.
        return {
            "id": key.display_id,
            "public_id": key.public_id,
            "name": key.name,
            "owner": key.owner.get_username(),
            "scopes": key.scope_list,
            "status": key.status,
            "allowed_networks": list(key.allowed_networks),
            "created_at": _iso(key.created_at),
            "expires_at": _iso(key.expires_at),
            "last_used_at": _iso(key.last_used_at),
            "rotated_at": _iso(key.rotated_at),
            "revoked_at": _iso(key.revoked_at),
            "revoke_reason": key.revoke_reason,
        }

    def _table(self, found: Sequence[AbstractAPIKey], include_all: bool) -> None:
        if not found:
            self.stdout.write(
                str(_("No API keys."))
                if include_all
                else str(_("No active API keys (--all shows every key)."))
            )
            return
        header = [
            str(_("ID")),
            str(_("NAME")),
            str(_("OWNER")),
            str(_("SCOPES")),
            str(_("STATUS")),
            str(_("EXPIRES")),
            str(_("LAST USED")),
        ]
        rows = [
            [
                key.display_id,
                _one_line(key.name),
                key.owner.get_username(),
                ",".join(key.scope_list) or "-",
                key.status,
                _when(key.expires_at),
                _when(key.last_used_at),
            ]
            for key in found
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        status_column = 4
        status_styles = {"active": self.style.SUCCESS, "revoked": self.style.ERROR}

        def line(cells: list[str], styled: bool) -> str:
            # Pad first, then colour: escape codes must not count towards a column's width.
            padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=True)]
            if styled:
                status = cells[status_column]
                padded[status_column] = status_styles.get(status, self.style.WARNING)(
                    padded[status_column]
                )
            return "  ".join(padded).rstrip()

        self.stdout.write(self.style.MIGRATE_HEADING(line(header, styled=False)))
        for row in rows:
            self.stdout.write(line(row, styled=True))
