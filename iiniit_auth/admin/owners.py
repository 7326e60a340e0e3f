"""Whom a staff user may make a credential for: the rule, the owner search, the audit of a refusal.

In the API a credential is its owner: a request made with a key is the owner's request, and
DRF's ``IsAdminUser`` or ``DjangoModelPermissions`` judge it by the owner's flags and
permissions. So a screen that shows a plaintext credential (issuing a key, rotating one,
registering an OAuth application or rotating its secret) must never show one that acts with
more than the staff user who asked for it. The rule, for an actor and a prospective owner:

* anyone may act for themselves (with the screen's own permission);
* acting for anyone else needs a permission of its own (``issue_for_others`` on the key model,
  ``iiniit_oauth.register_for_others`` for OAuth applications);
* and then a superuser may act for anyone, and anyone else only for a user who is not a
  superuser, who is staff only if the actor is, and whose every permission the actor holds.

The owner field offers only those users (:func:`ownable_users`, through :func:`search_view`),
and the server checks the submitted value again with :func:`refusal`: the widget is a
convenience, never the check. ``manage.py apikey`` is shell access and is not restricted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext

from iiniit_auth.admin.pages import client_ip, styled_forbidden
from iiniit_auth.models.audit import CredentialEvent, username

if TYPE_CHECKING:  # ModelAdmin is generic only in django-stubs
    ModelAdmin = admin.ModelAdmin[Any]
else:
    ModelAdmin = admin.ModelAdmin

#: How many users one page of the owner search lists.
PAGE_SIZE: Final = 20


@dataclass(frozen=True)
class Acting:
    """The staff user at a screen that makes a credential, and what would let them act for
    others: ``permission`` (``"app_label.codename"``) and the URL of the owner search."""

    actor: Any
    permission: str
    search_url: str


def user_search_fields() -> list[str]:
    """The user model's fields a person searches by: its username, and its e-mail if it has one."""
    user_model = get_user_model()
    fields = [user_model.USERNAME_FIELD]
    email = user_model.get_email_field_name()
    if email != user_model.USERNAME_FIELD and any(
        f.name == email for f in user_model._meta.get_fields()
    ):
        fields.append(email)
    return fields


def _permissions(user: Any) -> set[str] | None:
    """Every permission ``user`` holds, or None where the user model cannot say."""
    get_all = getattr(user, "get_all_permissions", None)
    return set(get_all()) if callable(get_all) else None


def refusal(actor: Any, owner: Any, permission: str) -> str | None:
    """Why ``actor`` may not make a credential that acts as ``owner``; None when they may.

    ``owner`` None (an OAuth application registered for nobody) counts as another user.
    ``permission`` is the one that allows acting for others, as ``"app_label.codename"``.
    """
    if owner is not None and owner.pk == actor.pk:
        return None
    if not actor.has_perm(permission):
        return gettext(
            "You may make credentials for yourself only: acting for another user needs the "
            "permission “%(permission)s”."
        ) % {"permission": _permission_name(permission)}
    if getattr(actor, "is_superuser", False) or owner is None:
        return None
    if getattr(owner, "is_superuser", False):
        return gettext("Only a superuser may make a credential for a superuser.")
    if getattr(owner, "is_staff", False) and not getattr(actor, "is_staff", False):
        return gettext("Only a staff user may make a credential for a staff user.")
    held, needed = _permissions(actor), _permissions(owner)
    if held is None or needed is None:
        return gettext("Only a superuser may make a credential for another user here.")
    if needed - held:
        return gettext(
            "%(user)s holds permissions you do not hold, so a credential of theirs would act "
            "with more than you may: only a user who holds all of them may make one."
        ) % {"user": username(owner)}
    return None


def _permission_name(permission: str) -> str:
    app_label, _dot, codename = permission.partition(".")
    found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
    return str(found.name) if found is not None else permission


def ownable_users(actor: Any, permission: str) -> QuerySet[Any]:
    """The active users ``actor`` may make a credential for, as :func:`refusal` decides.

    The permission comparison is made in SQL for Django's ``ModelBackend`` (a user's own and
    their groups' permissions); :func:`refusal` still checks the chosen user, whatever the
    authentication backends.
    """
    users: QuerySet[Any] = get_user_model()._default_manager.filter(is_active=True)
    if not actor.has_perm(permission):
        return users.filter(pk=actor.pk)
    if getattr(actor, "is_superuser", False):
        return users
    if not all(_has_field(users.model, name) for name in ("is_superuser", "user_permissions")):
        return users.filter(pk=actor.pk)
    others = users.exclude(is_superuser=True)
    if not getattr(actor, "is_staff", False):
        others = others.exclude(is_staff=True)
    held = Q(pk__in=[])
    for name in _permissions(actor) or ():
        app_label, _dot, codename = name.partition(".")
        held |= Q(content_type__app_label=app_label, codename=codename)
    not_held = Permission.objects.exclude(held)
    others = others.exclude(user_permissions__in=not_held)
    if _has_field(users.model, "groups"):
        others = others.exclude(groups__permissions__in=not_held)
    return others | users.filter(pk=actor.pk)


def _has_field(model: Any, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def search_view(request: HttpRequest, permission: str) -> JsonResponse:
    """The owner field's search, in the shape admin's autocomplete widget reads.

    ``?term=`` matches the username or e-mail; ``?page=`` pages through the answer.
    Only users :func:`ownable_users` allows are ever listed.
    """
    term = request.GET.get("term", "").replace("\x00", "")
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    users = ownable_users(request.user, permission)
    if term:
        match = Q()
        for field in user_search_fields():
            match |= Q(**{f"{field}__icontains": term})
        users = users.filter(match)
    start = (page - 1) * PAGE_SIZE
    found = list(
        users.order_by(get_user_model().USERNAME_FIELD, "pk")[start : start + PAGE_SIZE + 1]
    )
    return JsonResponse(
        {
            "results": [{"id": str(user.pk), "text": str(user)} for user in found[:PAGE_SIZE]],
            "pagination": {"more": len(found) > PAGE_SIZE},
        }
    )


def record_denied(
    request: HttpRequest,
    *,
    kind: str,
    credential_id: str,
    action: str,
    owner: Any,
    reason: str,
) -> None:
    """Audit a refused attempt to make a credential for ``owner`` (nothing else is written)."""
    CredentialEvent.record(
        kind,
        credential_id,
        CredentialEvent.Event.DENIED,
        actor=request.user,
        ip=client_ip(request),
        details={
            "action": action,
            "owner": username(owner) if owner is not None else None,
            "reason": reason,
        },
    )


class MakesCredentials(ModelAdmin):
    """A ``ModelAdmin`` whose screens make credentials acting as a chosen owner (API keys, OAuth
    applications): the rule of this module, the owner search and the screens' URLs."""

    @property
    def for_others_permission(self) -> str:
        """The permission to act for other users, ``"app_label.codename"``."""
        raise NotImplementedError

    def acting(self, request: HttpRequest) -> Acting:
        """``request.user`` at a screen that makes a credential."""
        app, model = self.opts.app_label, self.opts.model_name
        return Acting(
            actor=request.user,
            permission=self.for_others_permission,
            search_url=reverse(f"admin:{app}_{model}_owners", current_app=self.admin_site.name),
        )

    def owners_view(self, request: HttpRequest) -> HttpResponse:
        """The add form's owner search: the users this staff user may make a credential for."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        return search_view(request, self.for_others_permission)

    def screen_urls(
        self, *screens: tuple[str, Callable[..., HttpResponse], str]
    ) -> list[URLPattern]:
        """The owner search and ``screens`` (``(route, view, name suffix)``, each refused with
        admin's look), before Django's own patterns, whose ``<path:object_id>/`` would catch
        them."""
        app, model = self.opts.app_label, self.opts.model_name
        site = self.admin_site
        return [
            path(
                "owner-autocomplete/",
                site.admin_view(self.owners_view),
                name=f"{app}_{model}_owners",
            ),
            *(
                path(
                    route,
                    site.admin_view(styled_forbidden(self, view)),
                    name=f"{app}_{model}_{suffix}",
                )
                for route, view, suffix in screens
            ),
            *super().get_urls(),
        ]
