"""iiniit_auth: API keys and OAuth 2.0 bearer tokens for Django REST framework, one scope model."""

__version__ = "0.1.0"
