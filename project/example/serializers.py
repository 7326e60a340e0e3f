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


class CredentialSerializer(serializers.Serializer):
    """The credential a request came with, as ``/api/ping/`` shows it."""

    kind = serializers.ChoiceField(choices=["api_key", "oauth_token"], allow_null=True)
    id = serializers.CharField(allow_null=True)
    scopes = serializers.ListField(child=serializers.CharField())
    application = serializers.CharField(allow_null=True)


class PingSerializer(serializers.Serializer):
    """``/api/ping/``'s answer: who is calling, and with which credential."""

    caller = serializers.CharField()
    credential = CredentialSerializer()
