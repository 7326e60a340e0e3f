"""``manage.py audit``: the audit log over time, from the command line.

``prune`` applies the retention rule (:func:`iiniit_auth.audit_ops.prune`): a dry run unless
``--yes``, the only way audit events are deleted, recorded as one ``pruned`` event. ``export``
streams the events since a moment as JSON lines or CSV to standard output, in constant memory.
A thin front door: the rule and the formats live in :mod:`iiniit_auth.audit_ops`. The actor of
a prune is None: the command line has no user to name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from iiniit_auth import audit_ops
from iiniit_auth.management import arguments
from iiniit_auth.management.output import when
from iiniit_auth.models import CredentialEvent

FORMATS = ("jsonl", "csv")


class Command(BaseCommand):
    help = (
        "Prune old audit events and export the audit log. "
        "Run 'manage.py audit ACTION --help' for the options of an action."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="ACTION", title=str(_("actions"))
        )
        summary = str(
            _(
                "Delete the events older than --older-than, except those of credentials still "
                "active; a dry run unless --yes."
            )
        )
        prune = actions.add_parser("prune", help=summary, description=summary)
        arguments.add_duration(
            prune,
            "--older-than",
            _("Events older than this are deleted: %(syntax)s."),
            required=True,
        )
        prune.add_argument(
            "--yes",
            action="store_true",
            help=str(_("Delete. Without it, only say what would be deleted.")),
        )
        summary = str(_("Print the events, oldest first, as JSON lines or CSV."))
        export = actions.add_parser("export", help=summary, description=summary)
        arguments.add_duration(
            export,
            "--since",
            _("Only the events of this last stretch of time: %(syntax)s. Default: all."),
        )
        export.add_argument(
            "--format",
            choices=FORMATS,
            default="jsonl",
            help=str(_("jsonl: one JSON object a line (default); csv: a header, then rows.")),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actions: dict[str, Callable[[dict[str, Any]], None]] = {
            "prune": self.handle_prune,
            "export": self.handle_export,
        }
        actions[options["action"]](options)

    def handle_prune(self, options: dict[str, Any]) -> None:
        """Say what the retention rule deletes; delete it and record so with ``--yes``.

        Raises ``CommandError`` for ``--older-than 0``; nothing is written then, nor without
        ``--yes``.
        """
        older_than: timedelta = options["older_than"]
        if older_than <= timedelta(0):
            raise CommandError(str(_("--older-than must be longer than 0.")))
        before = timezone.now() - older_than
        result = audit_ops.prune(before, delete=options["yes"], actor=None)
        by_kind = ", ".join(
            f"{CredentialEvent.Kind(kind).label}: {count}"
            for kind, count in sorted(result.counts.items())
        )
        values = {
            "n": result.total,
            "before": when(before),
            "kinds": f" ({by_kind})" if by_kind else "",
            "kept": result.kept_active,
        }
        if options["yes"]:
            message = ngettext(
                "Deleted %(n)d event from before %(before)s%(kinds)s. Recorded in the audit log.",
                "Deleted %(n)d events from before %(before)s%(kinds)s. Recorded in the audit log.",
                result.total,
            )
            self.stdout.write(self.style.SUCCESS(message % values))
        else:
            message = ngettext(
                "Would delete %(n)d event from before %(before)s%(kinds)s.",
                "Would delete %(n)d events from before %(before)s%(kinds)s.",
                result.total,
            )
            self.stdout.write(message % values)
        if result.kept_active:
            self.stdout.write(
                ngettext(
                    "Kept %(kept)d older event of credentials still active.",
                    "Kept %(kept)d older events of credentials still active.",
                    result.kept_active,
                )
                % values
            )
        if not options["yes"]:
            self.stdout.write(
                self.style.WARNING(str(_("Dry run: run again with --yes to delete.")))
            )

    def handle_export(self, options: dict[str, Any]) -> None:
        """Stream the events (since ``--since`` ago, or all) to standard output. Writes nothing."""
        events = CredentialEvent.objects.all()
        since: timedelta | None = options["since"]
        if since is not None:
            events = events.filter(at__gte=timezone.now() - since)
        write = audit_ops.jsonl_lines if options["format"] == "jsonl" else audit_ops.csv_lines
        for line in write(events):
            self.stdout.write(line, ending="")
