"""Fixtures shared by the suite. Objects are made through the public API, never by hand."""

from datetime import timedelta

import django
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model
from rest_framework.test import APIClient

from iiniit_auth import usage
from iiniit_auth.models import APIKey
from iiniit_auth.throttling import forget_reached_limits


# Declared here, not in tests/browser/conftest.py, so `pytest --screenshots` works from the root.
def pytest_addoption(parser):
    parser.addoption(
        "--screenshots",
        action="store_true",
        default=False,
        help="Save a screenshot of each admin screen the browser tests visit to "
        "tests/browser/screenshots/.",
    )


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("ann", "ann@example.com", "ann-password")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("bob", "bob@example.com", "bob-password")


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "root-password")


@pytest.fixture
def issue(user):
    """issue(**kwargs) -> (key, plaintext), owned by ``user`` unless ``owner`` is given."""

    def make(**kwargs):
        kwargs.setdefault("owner", user)
        kwargs.setdefault("name", "test key")
        kwargs.setdefault("scopes", ["orders:read"])
        return APIKey.objects.issue(**kwargs)

    return make


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def oauth_app(user):
    """A confidential django-oauth-toolkit application, registered by ``user``."""
    Application = get_application_model()
    return Application.objects.create(
        name="Test app",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://client.example.com/callback",
    )


@pytest.fixture
def oauth_token(oauth_app, user):
    """oauth_token(scope="orders:read", owner=user, expires_in=3600) -> (AccessToken, token string).

    A real django-oauth-toolkit access token row, stored the way its server stores one.
    """
    import secrets

    def make(scope="orders:read", owner=user, expires_in=3600):
        value = secrets.token_urlsafe(30)
        token = get_access_token_model().objects.create(
            user=owner,
            application=oauth_app,
            token=value,
            scope=scope,
            expires=timezone.now() + timedelta(seconds=expires_in),
        )
        return token, value

    return make


@pytest.fixture
def used_key(issue, user, staff):
    """A key with every kind of column filled: networks (JSON), dates, a creator, a stamp."""
    key, _plaintext = issue(
        allowed_networks=["10.0.0.0/8", "2001:db8::/32"],
        created_by=staff,
        scopes=["orders:read", "reports:read"],
    )
    key.record_use(timezone.now() - timedelta(minutes=5))
    user.last_login = timezone.now()
    user.first_name = "Ann"
    user.save()
    return key


@pytest.fixture
def admins(settings):
    """ADMINS as the running Django takes them (6.0 deprecates (name, address) pairs), and a
    mailer (6.1 deprecates sending without MAILERS): with DEBUG off, errors are mailed there."""
    settings.ADMINS = (
        ["ops@example.com"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.com")]
    )
    if django.VERSION >= (6, 1):
        settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture(autouse=True)
def _fresh_limit_counters():
    """The limits count in the default cache, which outlives a test, and this process remembers
    the limits it saw reached: each test starts with neither."""
    yield
    caches["default"].clear()
    forget_reached_limits()
    # Counts of this test's credentials, whose rows are rolled back, are not written at exit.
    usage.forget_memory()


# -- the lookup cache (tests/test_cache*.py) ---------------------------------------------

#: Timeouts that RecordingCache.add() was given, by cache key.
ADDED: dict[str, int] = {}


class RecordingCache(LocMemCache):
    """A locmem cache that remembers the timeout of every add()."""

    def add(self, key, value, timeout=300, version=None):
        ADDED[key] = timeout
        return super().add(key, value, timeout, version)


def configure(settings, backend=f"{__name__}.RecordingCache", **values):
    """Turn the lookup cache on, in a fresh cache aliased "keys" (``values``: more settings)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "keys": {"BACKEND": backend, "LOCATION": f"keys-{id(settings)}"},
    }
    settings.IINIIT_AUTH = {**settings.IINIIT_AUTH, "CACHE": "keys", **values}


@pytest.fixture
def cached(settings):
    configure(settings)
    ADDED.clear()
    yield caches["keys"]
    caches["keys"].clear()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """``with commit():`` runs the block's on-commit callbacks, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def key(issue, commit):
    with commit():
        return issue()
