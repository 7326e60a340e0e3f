"""The example API's admin: orders, so the demo shows what the API created."""

from __future__ import annotations

from django.contrib import admin

from project.example.models import Order


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("item", "quantity", "owner", "created")
    list_filter = ("created",)
    list_select_related = ("owner",)
    search_fields = ("item", "owner__username")
    readonly_fields = ("created",)
