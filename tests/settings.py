"""Settings for the test suite. Reads nothing from the environment but DATABASE_URL's choice.

``tests/settings.py`` is not the example project: it is the smallest project that installs
iiniit_auth the way the README says, so the tests prove the README.
"""

import os
from datetime import timedelta

import django

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth2_provider",
    "iiniit_auth",
    "iiniit_auth.oauth",
    "tests.orgkeys",  # a subclass of AbstractAPIKey, as a project would write one
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "iiniit_auth.middleware.QueryParamKeyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

STATIC_URL = "/static/"
LOGIN_URL = "login"

DEFAULT_EXCEPTION_REPORTER = "iiniit_auth.redaction.ExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "iiniit_auth.redaction.SafeExceptionReporterFilter"

# The suite runs on SQLite unless DATABASE_URL names a PostgreSQL server (CI does both).
_database_url = os.environ.get("DATABASE_URL", "")
if _database_url.startswith(("postgres://", "postgresql://")):
    import environ

    DATABASES = {"default": environ.Env.db_url_config(_database_url)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast users in tests

IINIIT_AUTH = {
    "SCOPES": {
        "orders:read": "Read orders",
        "orders:write": "Create and change orders",
        "reports:read": "Read reports",
    },
    "DEFAULT_KEY_LIFETIME": timedelta(days=90),
    # The "Try it" line of a new key's page calls the suite's ping view.
    "EXAMPLE_URL": "/api/ping/",
    # The portal's notices and reminders are tested, so this project sends them.
    "PORTAL_EMAILS": True,
}

# Mail goes to django.core.mail.outbox. Django 6.1 names its mailers in MAILERS (and deprecates
# sending without); the test runner's own locmem backend serves older versions.
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "iiniit_auth.authentication.APIKeyAuthentication",
        "iiniit_auth.authentication.OAuth2Authentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["iiniit_auth.permissions.HasScopes"],
    "EXCEPTION_HANDLER": "iiniit_auth.handlers.exception_handler",
}

# The recommended block, as the README's quick start uses it (docs/oauth.md).
from iiniit_auth.oauth import RECOMMENDED_OAUTH2_PROVIDER  # noqa: E402

OAUTH2_PROVIDER = {**RECOMMENDED_OAUTH2_PROVIDER}
