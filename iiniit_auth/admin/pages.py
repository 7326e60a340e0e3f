"""What the admin's extra pages (issue, rotate, revoke, register, rotate secret) share: their
context, their links, their object lookup, and the answer to a form sent twice."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

if TYPE_CHECKING:  # django-stubs-ext is a lint dependency only
    from django_stubs_ext import StrOrPromise


class ReadOnly:
    """A ``ModelAdmin`` mixin: a list and view screens only, for superusers too (no add,
    change or delete screen, so no bulk delete either)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NoSaveAsNew:
    """A ``ModelAdmin`` mixin: "Save as new" is refused (403), whatever the form posts.

    Django's change view makes a copy of the object when the POST holds ``_saveasnew``, even
    with ``save_as`` off: an application copied that way skipped ``register_application`` (no
    grant, no client type, a secret never shown, an audit event without its actor), and a
    key's copy was a 500. Credentials are made by their own pages only.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST" and "_saveasnew" in request.POST:
            raise PermissionDenied("Save as new is not offered here.")
        return super().changeform_view(  # type: ignore[misc,no-any-return]
            request, object_id, form_url, extra_context
        )


def styled_forbidden(
    model_admin: admin.ModelAdmin[Any], view: Callable[..., HttpResponse]
) -> Callable[..., HttpResponse]:
    """``view``, answering a refusal (``PermissionDenied``) with admin's look and a 403,
    rather than the bare "403 Forbidden" of a project without a ``403.html``."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            context = page_context(model_admin, request, title=_("Not allowed"))
            return render(request, "admin/iiniit_auth/forbidden.html", context, status=403)

    return guarded


class StyledForbidden:
    """A ``ModelAdmin`` mixin: admin's own screens of the model (list, add, change, history,
    delete) answer a refusal with :func:`styled_forbidden`'s page too."""

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._styled(super().changelist_view, request, *args, **kwargs)  # type: ignore[misc]

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._styled(super().changeform_view, request, *args, **kwargs)  # type: ignore[misc]

    def history_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._styled(super().history_view, request, *args, **kwargs)  # type: ignore[misc]

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._styled(super().delete_view, request, *args, **kwargs)  # type: ignore[misc]

    def _styled(
        self, view: Callable[..., HttpResponse], request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        return styled_forbidden(self, view)(request, *args, **kwargs)  # type: ignore[arg-type]


def client_ip(request: HttpRequest) -> str | None:
    """The address recorded in the audit log for an admin action."""
    return request.META.get("REMOTE_ADDR") or None


@sensitive_variables("context")
def show_once(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    template: str | list[str],
    **context: Any,
) -> HttpResponse:
    """The one response that carries a new secret (in ``context``), for a key or a client
    secret alike: admin's page around ``template``, sent with ``Cache-Control: no-store`` so
    that no browser or proxy keeps a copy."""
    response = render(request, template, page_context(model_admin, request, **context))
    add_never_cache_headers(response)
    return response


def page_context(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, **extra: Any
) -> dict[str, Any]:
    """The context admin's own pages have (site header, breadcrumbs, permissions), plus ``extra``."""
    opts = model_admin.opts
    return {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "subtitle": None,
        "has_view_permission": model_admin.has_view_permission(request),
        "media": model_admin.media,
        **extra,
    }


def change_url(model_admin: admin.ModelAdmin[Any], pk: object) -> str:
    """The change page of object ``pk`` in ``model_admin``'s site."""
    opts = model_admin.opts
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change",
        args=[pk],
        current_app=model_admin.admin_site.name,
    )


def get_or_404(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, object_id: str, missing: str
) -> Any:
    """The object ``object_id`` as ``model_admin`` sees it; Http404 saying ``missing`` if none."""
    found = model_admin.get_object(request, unquote(object_id))
    if found is None:
        raise Http404(missing)
    return found


def already_done(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, pk: str, message: StrOrPromise
) -> HttpResponse:
    """A form sent again after it showed a secret: say so and go to the object, which shows none."""
    messages.info(request, message)
    return HttpResponseRedirect(change_url(model_admin, pk))
