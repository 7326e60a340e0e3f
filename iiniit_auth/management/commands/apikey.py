"""``manage.py apikey``: issue, list, revoke and rotate API keys from the command line, and
remind owners of keys about to expire (``remind``, :mod:`iiniit_auth.portal.reminders`).

A thin front door onto the lifecycle methods (``APIKey.objects.issue``, ``key.rotate``,
``key.revoke``): they validate, write the key and its audit event, and send the signal. This
module only reads the options (their parser is :mod:`iiniit_auth.management.arguments`),
looks up users and keys, and prints (through :mod:`iiniit_auth.management.output`). Everything
a command line gets wrong (an unknown user, scope or key, a bad duration, a key in the wrong
state, text that is not UTF-8) becomes a ``CommandError`` before or instead of a write, so a
failed command leaves the database as it was. The actor of every write is None: the command
line has no user to name.

``--model app_label.Model`` (before the action) picks the key model: ``APIKey`` by default,
or any other installed key model of the project (a subclass of ``AbstractAPIKey``).

A plaintext key is printed once, by ``issue`` and ``rotate``; it never appears in an error
message, even when a key is pasted where its public id belongs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from iiniit_auth import keys, scopes
from iiniit_auth.cache import key_models
from iiniit_auth.conf import auth_settings
from iiniit_auth.exceptions import KeyStateError, MalformedKey
from iiniit_auth.management import arguments, output
from iiniit_auth.models import NEVER, AbstractAPIKey, APIKey
from iiniit_auth.models.audit import AnyUser

#: Anything shaped like a full key, whatever its prefix, anywhere in a text: such a text is
#: refused unread and never echoed (it may be a live secret pasted into the wrong place).


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
        "Issue, list, revoke and rotate API keys; remind owners of keys about to expire. "
        "Run 'manage.py apikey ACTION --help' for the options of an action."
    )
    # Like Django's changepassword: revoking a leaked key must not wait for a settings fix.
    requires_system_checks: list[str] = []

    model: type[AbstractAPIKey] = APIKey

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model",
            metavar="APP_LABEL.MODEL",
            default="",
            help=str(
                _(
                    "The key model to act on, before the action, e.g. --model "
                    "iiniit_auth.APIKey (the default) or a project's own key model."
                )
            ),
        )
        arguments.add_actions(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        actions: dict[str, Callable[[dict[str, Any]], None]] = {
            "issue": self.handle_issue,
            "list": self.handle_list,
            "revoke": self.handle_revoke,
            "rotate": self.handle_rotate,
            "remind": self.handle_remind,
        }
        for name, value in options.items():
            # A byte that is not UTF-8 reaches Python as a lone surrogate, which no database
            # driver can encode: refused here, before any lookup or write.
            if isinstance(value, str) and not _encodes(value):
                shown = "PUBLIC_ID" if name == "public_id" else "--" + name.replace("_", "-")
                raise CommandError(_("%(option)s is not valid UTF-8 text.") % {"option": shown})
        self.model = self._model(options["model"])
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
            key, plaintext = self.model.objects.issue(
                owner=owner,
                name=name,
                scopes=options["scopes"],
                expires_at=expires_at,
                created_by=None,
                allowed_networks=options["networks"],
                rate=options["rate"],
            )
        except ValidationError as exc:
            raise _invalid(exc, arguments.ISSUE_OPTIONS) from None
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
        found = self.model.objects.get_queryset()
        if not options["all"]:
            found = found.active()
        found = self._aging(found, options.get("expiring"), options.get("unused"))
        if options["owner"] is not None:
            found = found.filter(owner=self._user(options["owner"]))
        found = found.select_related("owner")
        if options["json"]:
            self.stdout.write(json.dumps([output.as_json(key) for key in found], indent=2))
        else:
            for line in output.table_lines(list(found), options["all"], self.style):
                self.stdout.write(line)

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
                "when": output.when(key.expires_at),
            }
        else:
            message = _("The old key %(id)s is refused from now on.") % {"id": key.display_id}
        self.stdout.write(self.style.WARNING(message))

    def handle_remind(self, options: dict[str, Any]) -> None:
        """Remind owners of keys expiring within ``--within``, once per key and window; print
        each reminder. Raises ``CommandError`` for a window of 0."""
        from iiniit_auth.portal.reminders import remind

        if self.model is not APIKey:
            raise CommandError(_("remind covers %(model)s only.") % {"model": APIKey._meta.label})
        within: timedelta = options["within"]
        if within <= timedelta(0):
            raise CommandError(str(_("--within must be longer than 0.")))
        reminders = remind(within)
        for reminder in reminders:
            key = reminder.key
            self.stdout.write(
                _("Reminded %(owner)s of %(id)s (%(name)s), expiring %(when)s%(how)s.")
                % {
                    "owner": key.owner.get_username(),
                    "id": key.display_id,
                    "name": key.name,
                    "when": output.when(key.expires_at),
                    "how": "" if reminder.emailed else str(_(" (no e-mail: signal only)")),
                }
            )
        self.stdout.write(
            self.style.SUCCESS(
                ngettext("%(n)d reminder sent.", "%(n)d reminders sent.", len(reminders))
                % {"n": len(reminders)}
            )
        )

    # -- lookups and checks ------------------------------------------------------------------

    def _model(self, label: str) -> type[AbstractAPIKey]:
        """The key model ``label`` names (``app_label.Model``, any case); APIKey if empty."""
        if not label:
            return APIKey
        installed = {model._meta.label_lower: model for model in key_models()}
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            model = None
        if model is None or model._meta.label_lower not in installed:
            raise CommandError(
                _("--model: %(label)s is not a key model. Key models: %(models)s.")
                % {
                    "label": json.dumps(label),
                    "models": ", ".join(sorted(m._meta.label for m in installed.values())),
                }
            )
        return installed[model._meta.label_lower]

    def _aging(self, found: Any, expiring: timedelta | None, unused: timedelta | None) -> Any:
        """``found`` limited to active keys expiring within ``expiring`` and to keys unused
        for ``unused`` (never used since being issued that long ago counts as unused)."""
        now = timezone.now()
        for option, value in (("--expiring", expiring), ("--unused", unused)):
            if value is not None and value <= timedelta(0):
                raise CommandError(_("%(option)s must be longer than 0.") % {"option": option})
        if expiring is not None:
            found = found.expiring_within(expiring, now)
        if unused is not None:
            since = now - unused
            found = found.filter(
                Q(last_used_at__lt=since) | Q(last_used_at__isnull=True, created_at__lt=since)
            )
        return found

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
        """The user whose USERNAME_FIELD is ``username``, or ``CommandError``.

        Something shaped like a key is refused without a lookup, and its text is never echoed.
        """
        if keys.KEY_SHAPED.search(username):
            raise CommandError(
                _(
                    "--owner must be a username, not an API key: it was not used. A key typed on "
                    "a command line stays in the shell's history; if others can read that "
                    "history, rotate the key."
                )
            )
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
        if keys.KEY_SHAPED.search(text) or len(text) >= keys.BODY_LENGTH:
            raise CommandError(self._pasted_key_message(text, prefix))
        public_id = text.removeprefix(f"{prefix}_")
        if not keys.PUBLIC_ID.fullmatch(public_id):
            # Not echoed either: a mangled key (a character short) is still mostly secret.
            raise CommandError(
                _(
                    "That is not a public id. A public id is %(prefix)s_ followed by %(n)d letters "
                    "and digits (or those %(n)d alone), as 'manage.py apikey list --all' shows it."
                )
                % {"prefix": prefix, "n": keys.PUBLIC_ID_LENGTH}
            )
        try:
            return self.model.objects.select_related("owner").get(public_id=public_id)
        except self.model.DoesNotExist:
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
        if keys.KEY_SHAPED.search(text):
            raise CommandError(
                _(
                    "%(option)s must not contain an API key: it is shown in lists and kept in "
                    "the audit log. Name a key by its public id."
                )
                % {"option": option}
            )

    def _show_new_key(self, key: AbstractAPIKey, plaintext: str) -> None:
        for line in output.new_key_lines(key, plaintext):
            self.stdout.write(line)
        self.stdout.write(
            self.style.WARNING(str(_("Store the key now: it is shown only this once.")))
        )
