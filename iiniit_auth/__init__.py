"""iiniit_auth: API keys and OAuth 2.0 bearer tokens for Django REST framework, one scope model."""

# The one place the version is written: pyproject.toml reads it from here, and CHANGELOG.md's
# newest release must name it (tests/test_version.py).
__version__ = "0.1.0"
