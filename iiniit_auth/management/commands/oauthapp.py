"""``manage.py oauthapp``: the OAuth 2.0 server's chores from the command line.

One action so far, ``cleartokens``: the audited clean-up of expired tokens and codes
(:func:`iiniit_auth.oauth.cleanup.clear_expired`), to schedule instead of django-oauth-toolkit's
own ``cleartokens``, which leaves no trace in the audit log. A thin front door, as
``manage.py apikey`` is: the lifecycle function deletes, records its event and sends its
signal; the command prints what it did. The actor is None: the command line names no user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext_lazy as _


class Command(BaseCommand):
    help = (
        "Chores of the OAuth 2.0 server. "
        "Run 'manage.py oauthapp ACTION --help' for the options of an action."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", title=str(_("actions"))
        )
        summary = str(
            _(
                "Delete the expired and revoked tokens and codes nothing can use any more, "
                "and record the counts in the audit log."
            )
        )
        actions.add_parser("cleartokens", help=summary, description=summary)

    def handle(self, *args: Any, **options: Any) -> None:
        actions: dict[str, Callable[[dict[str, Any]], None]] = {
            "cleartokens": self.handle_cleartokens,
        }
        actions[options["action"]](options)

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
