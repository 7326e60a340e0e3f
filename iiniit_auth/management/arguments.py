"""The command line of ``manage.py apikey``: its actions and their options, each with its help;
and the duration option every command declares through :func:`add_duration`.

Only the parser's shape lives here; :mod:`iiniit_auth.management.commands.apikey` reads the
options and acts on them. A bad duration is a usage error of the parser itself, so it is
reported with the action's usage line before anything is looked up.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext_lazy as _

from iiniit_auth.conf import auth_settings
from iiniit_auth.durations import SYNTAX, parse_duration

if TYPE_CHECKING:  # django-stubs-ext is a lint dependency only
    from django_stubs_ext import StrOrPromise

#: Which option of ``issue`` a field error of ``APIKey.objects.issue`` is about.
ISSUE_OPTIONS = {
    "owner": "--owner",
    "name": "--name",
    "scopes": "--scopes",
    "expires_at": "--expires-in",
    "allowed_networks": "--networks",
    "rate": "--rate",
}


def duration(text: str) -> timedelta:
    """argparse ``type=`` for durations: the parser's message becomes the usage error."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_duration(
    parser: argparse._ActionsContainer, flag: str, help_text: StrOrPromise, **options: Any
) -> None:
    """Add the option ``flag`` to ``parser`` (a parser or a group of its options), whose value
    is a duration (:func:`duration`), shown as DURATION. ``help_text`` names the accepted
    syntax as ``%(syntax)s``; ``options`` go to ``add_argument`` (``required``, ``default``)."""
    parser.add_argument(
        flag,
        type=duration,
        metavar="DURATION",
        help=str(help_text) % {"syntax": SYNTAX},
        **options,
    )


def add_actions(parser: CommandParser) -> None:
    """Add the required ACTION and each action's options to the command's ``parser``."""
    actions = parser.add_subparsers(
        dest="action",
        required=True,
        metavar="ACTION",
        title=str(_("actions")),
    )
    _add_issue(_action(actions, "issue", _("Issue a new key and print it, once.")))
    _add_list(_action(actions, "list", _("List keys (active ones unless --all).")))
    revoke = _action(actions, "revoke", _("Revoke a key for good."))
    _add_public_id(revoke)
    revoke.add_argument(
        "--reason",
        default="",
        help=str(_("Why the key is revoked; kept in the key and the audit log.")),
    )
    rotate = _action(
        actions, "rotate", _("Replace a key by a new one with the same name and scopes.")
    )
    _add_public_id(rotate)
    add_duration(
        rotate,
        "--grace",
        _(
            "How long the old key keeps working, never past its own expiry: "
            "%(syntax)s. 0 retires it at once. Default: 24h."
        ),
        default=timedelta(hours=24),
    )
    _add_quiet(rotate)
    remind = _action(
        actions,
        "remind",
        _("E-mail the owners of keys about to expire, once per key and window (for cron)."),
    )
    add_duration(
        remind,
        "--within",
        _("Remind of keys expiring within this time from now: %(syntax)s. Default: 14d."),
        default=timedelta(days=14),
    )


def _action(
    actions: argparse._SubParsersAction[CommandParser], name: str, summary: StrOrPromise
) -> CommandParser:
    return actions.add_parser(name, help=str(summary), description=str(summary))


def _add_issue(parser: CommandParser) -> None:
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
    add_duration(
        lifetime,
        "--expires-in",
        _("When the key expires, from now: %(syntax)s. Default: the DEFAULT_KEY_LIFETIME setting."),
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
    parser.add_argument(
        "--rate",
        default="",
        metavar="RATE",
        help=str(
            _(
                'The key\'s own rate limit, e.g. "100/min" (per second, min, hour or day). '
                "Default: the DEFAULT_RATE setting."
            )
        ),
    )
    _add_quiet(parser)


def _add_list(parser: CommandParser) -> None:
    parser.add_argument("--owner", metavar="USERNAME", help=str(_("Only the keys of this user.")))
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
    add_duration(
        parser,
        "--expiring",
        _("Only active keys that expire within this time from now: %(syntax)s."),
    )
    add_duration(
        parser,
        "--unused",
        _(
            "Only keys not used for this long (or never used, and issued that long ago): "
            "%(syntax)s."
        ),
    )


def _add_public_id(parser: CommandParser) -> None:
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


def _add_quiet(parser: CommandParser) -> None:
    parser.add_argument(
        "--quiet",
        action="store_true",
        help=str(_("Print only the key, on one line, for scripts: KEY=$(manage.py apikey ...).")),
    )
