"""Tests of the OAuth 2.0 authorization server (iiniit_auth.oauth and iiniit_auth.oauth.models)."""
