"""URLs of the example API, mounted under ``/api/``."""

from __future__ import annotations

from django.urls import path

from project.example.views import OrderListView, PingView

app_name = "example"

urlpatterns = [
    path("ping/", PingView.as_view(), name="ping"),
    path("orders/", OrderListView.as_view(), name="orders"),
]
