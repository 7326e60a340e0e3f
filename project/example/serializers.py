"""The example API's serializers."""

from __future__ import annotations

from rest_framework import serializers

from project.example.models import Order


class OrderSerializer(serializers.ModelSerializer):
    """An order as the API shows and accepts it; the owner is always the caller."""

    class Meta:
        model = Order
        fields = ("id", "item", "quantity", "created")
        read_only_fields = ("id", "created")
