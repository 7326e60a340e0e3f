"""Filters and search of the admin lists.

The API key list filters by status, activity and scope (none of them queries to render). Both
lists search by public id, written with or without its prefix; a whole key pasted into the
search box is cut down to its public id before the list is shown (:func:`search_without_keys`),
as it is on the OAuth lists, which also leave out a pasted OAuth token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import ValidationError
from django.db import DatabaseError, router, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiniit_auth import keys, scopes
from iiniit_auth.conf import auth_settings
from iiniit_auth.models import APIKeyQuerySet
from iiniit_auth.models.managers import authenticating
from iiniit_auth.status import (
    EXPIRING_WITHIN,
    Status,
    badge_q,
    recently_revoked_q,
    unused_q,
)

#: The "Status" filter's value for every key that authenticates now (wider than the badge).
AUTHENTICATES = "authenticates"
UNUSED = "unused"
RECENTLY_REVOKED = "recently_revoked"


class StatusFilter(admin.SimpleListFilter):
    """Filter by badge, or by "authenticates now" (every badge whose key is still accepted)."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (AUTHENTICATES, _("Authenticates now")),
            (Status.ACTIVE.value, _("Active")),
            (
                Status.EXPIRING.value,
                _("Expiring within %(days)d days") % {"days": EXPIRING_WITHIN.days},
            ),
            (Status.EXPIRED.value, _("Expired")),
            (Status.ROTATED.value, _("Rotated")),
            (Status.REVOKED.value, _("Revoked")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        value = self.value()
        now = timezone.now()
        if value == AUTHENTICATES:
            return queryset.filter(authenticating(now))
        if value in Status.values:
            return queryset.filter(badge_q(Status(value), now))
        return None


class ActivityFilter(admin.SimpleListFilter):
    """The overview's other two counts as filters: long unused keys, recent revocations."""

    title = _("activity")
    parameter_name = "activity"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (UNUSED, _("Unused for 90 days")),
            (RECENTLY_REVOKED, _("Revoked in the last 30 days")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        now = timezone.now()
        if self.value() == UNUSED:
            return queryset.filter(unused_q(now))
        if self.value() == RECENTLY_REVOKED:
            return queryset.filter(recently_revoked_q(now))
        return None


class ExpiryFilter(admin.SimpleListFilter):
    """Keys by when they expire: within 7 or 30 days, never, or on one day (``YYYY-MM-DD``,
    in the current time zone: what the overview's timeline links to)."""

    title = _("expires")
    parameter_name = "expires"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("7", _("Within 7 days")),
            ("30", _("Within 30 days")),
            ("never", _("Never")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        value = self.value()
        if value is None:
            return None
        if value == "never":
            return queryset.filter(expires_at__isnull=True)
        if value in ("7", "30"):
            now = timezone.now()
            return queryset.filter(
                expires_at__gt=now, expires_at__lte=now + timedelta(days=int(value))
            )
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise IncorrectLookupParameters(value) from None
        start = timezone.make_aware(datetime.combine(day, time.min))
        return queryset.filter(expires_at__gte=start, expires_at__lt=start + timedelta(days=1))


class ScopeFilter(admin.SimpleListFilter):
    """Keys carrying one scope of the registry."""

    title = _("scope")
    parameter_name = "scope"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(name, name) for name in scopes.registry()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        value = self.value()
        if value and value in scopes.registry():
            # with_scope() is the model's own definition of "carries a scope".
            if isinstance(queryset, APIKeyQuerySet):
                return queryset.with_scope(value)
            return queryset.filter(pk__in=queryset.model._default_manager.with_scope(value))
        return None


def _key_words() -> re.Pattern[str]:
    return keys.words_of_prefix(auth_settings().KEY_PREFIX)


def public_id_terms(search_term: str) -> str:
    """Rewrite the words of a search that name a key as its public id.

    ``iik_<public id>`` becomes ``<public id>``; so does a whole key (``iik_`` and 44
    characters), whose secret part is dropped. Other words are left as typed.
    """

    def public_id(match: re.Match[str]) -> str:
        rest = match[1]
        return rest[: keys.PUBLIC_ID_LENGTH] if len(rest) == keys.BODY_LENGTH else rest

    return _key_words().sub(public_id, search_term)


def query_without_nul(request: HttpRequest) -> HttpResponseRedirect | None:
    """A redirect to the same list without the query parameters that hold a NUL, if any do.

    Django's admin passes any lookup on a model field from the query string to the database,
    and PostgreSQL refuses text with a NUL in it: ``?name=%00`` was a 500 there (SQLite finds
    nothing). No value a list filters by holds one. Returns None when no parameter does.
    """
    holding = [
        name
        for name, values in request.GET.lists()
        if "\x00" in name or any("\x00" in value for value in values)
    ]
    if not holding:
        return None
    query = request.GET.copy()
    for name in holding:
        del query[name]
    return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")


def search_without_keys(
    request: HttpRequest, find_secrets: Callable[[list[str]], Collection[str]] | None = None
) -> HttpResponseRedirect | None:
    """A redirect to the same list searching public ids, if the search holds a whole key.

    Admin echoes the search into the search box, the pagination and every row's link; a key
    pasted there would be repeated all over the page. The redirect answers before any of that.
    ``find_secrets``, given the words of the search, returns those that are other secrets (an
    OAuth token): they are left out. Returns None when the search holds no whole key and no secret.
    """
    term = request.GET.get(SEARCH_VAR, "")
    whole = any(len(match[1]) == keys.BODY_LENGTH for match in _key_words().finditer(term))
    words = [word for word in re.split(r"[\s\"',]+", term) if word]
    found = set(find_secrets(words)) if find_secrets is not None and words else set()
    if not whole and not found:
        return None
    if found:
        term = " ".join(word for word in words if word not in found)
    query = request.GET.copy()
    query[SEARCH_VAR] = public_id_terms(term)
    return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")


class ListRedirects:
    """A ``ModelAdmin`` mixin: the list answers first with the redirect of
    :func:`query_without_nul` or :func:`search_without_keys`, when either has one, and a
    lookup from the query string that the database refuses is answered as Django answers one
    it can tell is wrong (:meth:`get_changelist_instance`), and an action's selection that
    names no possible row changes nothing (:meth:`response_action`)."""

    def secrets_in(self, words: list[str]) -> Collection[str]:
        """The words of a search that are secrets other than API keys, to leave out; none."""
        return ()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        redirect = query_without_nul(request) or search_without_keys(request, self.secrets_in)
        if redirect is not None:
            return redirect
        # A mixin: the ModelAdmin after it in the class's bases draws the list.
        return super().changelist_view(request, extra_context)  # type: ignore[misc,no-any-return]

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        """Django's list, or ``IncorrectLookupParameters`` when its lookups cannot be run.

        Django's admin turns any query parameter naming a field into a lookup. It catches the
        ones it can tell are wrong when it builds the query, and redirects to the whole list
        (``?e=1``), saying nothing. Others fail only when the query runs: ``?ip=x`` (PostgreSQL's ``inet``),
        ``?name__regex=(``, ``?created_at__year=99999999999``, a JSON lookup SQLite lacks. Those
        were a 500; they now get the same redirect. Every such redirect has a message. The list's
        queries run in a savepoint, so on PostgreSQL a refused one does not abort the
        transaction around them (``ATOMIC_REQUESTS``, or a caller's).
        """
        model = self.model  # type: ignore[attr-defined]
        try:
            with transaction.atomic(using=router.db_for_read(model)):
                return super().get_changelist_instance(request)  # type: ignore[misc]
        except (IncorrectLookupParameters, DatabaseError, OverflowError, ValueError) as error:
            self.message_user(  # type: ignore[attr-defined]
                request,
                _("The list could not be filtered as its address asks; it is shown whole."),
                messages.WARNING,
            )
            raise IncorrectLookupParameters from error

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Any], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        """Django's action, unless the selection names a row that cannot exist.

        Django filters by the posted ids as they came: ``_selected_action=abc``, or a number
        past the database's integers, was a 500. No checkbox of the list sends one; such a
        post changes nothing and goes back to the list with a warning.
        """
        pk = self.model._meta.pk  # type: ignore[attr-defined]
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.run_validators(pk.to_python(value))
        except ValidationError:
            self.message_user(  # type: ignore[attr-defined]
                request,
                _("The selection names an item that cannot exist. No items have been changed."),
                messages.WARNING,
            )
            return None
        # Django 6 passes where the action form was (``action_location``) as well.
        return super().response_action(request, queryset, *args, **kwargs)  # type: ignore[misc,no-any-return]
