"""Settings of the example project, the one place in this repository that reads the environment.

Every value that differs between a laptop and a server comes from an environment variable,
through django-environ:

=================  ======================================================================
``DATABASE_URL``   default ``sqlite:///<repository>/demo.sqlite3``; e.g. ``postgres://…``
``CACHE_URL``      default ``locmemcache://``; e.g. ``redis://127.0.0.1:6379/1``
``SECRET_KEY``     required when ``DEBUG`` is off; the built-in one is for local use only
``DEBUG``          default ``true``, for the demo; set ``DEBUG=false`` anywhere else
``ALLOWED_HOSTS``  default ``localhost,127.0.0.1``; comma-separated
=================  ======================================================================
"""

from __future__ import annotations

from pathlib import Path

import django
import environ
from django.core.exceptions import ImproperlyConfigured

from iiniit_auth.oauth import RECOMMENDED_OAUTH2_PROVIDER

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

# Anyone can read this key in the repository, so it may only sign the cookies of a local demo.
_DEMO_SECRET_KEY = "django-insecure-iiniit-auth-demo-only-never-use-this-outside-localhost"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the example project refuses the built-in "
            "demo key: set the SECRET_KEY environment variable to a long random value, e.g. "
            'python -c "import secrets; print(secrets.token_urlsafe(50))".'
        )
    SECRET_KEY = _DEMO_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'demo.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has one writer at a time. A transaction that reads before it writes (a refresh,
    # a revocation) cannot wait for another writer and fails with "database is locked"; one
    # that takes the write lock as it begins waits, here up to 20 seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

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
    "project.example",
    # The OpenAPI schema at /api/schema/, Swagger UI at /api/docs/, ReDoc at /api/redoc/;
    # the sidecar serves their JavaScript from here, so the pages work offline.
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Right after SecurityMiddleware: a request that sends ?api_key= gets Cache-Control:
    # no-store and Referrer-Policy: no-referrer on whatever answers it (RFC 6750 section 2.3).
    "iiniit_auth.middleware.QueryParamKeyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's own templates come first, so they can restyle django-oauth-toolkit's.
        "DIRS": [BASE_DIR / "templates"],
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

# Error pages and reports (DEBUG pages, admin emails) would show ?api_key= values raw.
DEFAULT_EXCEPTION_REPORTER = "iiniit_auth.redaction.ExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "iiniit_auth.redaction.SafeExceptionReporterFilter"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The one scope registry: API keys and OAuth 2.0 tokens both draw from it.
IINIIT_AUTH = {
    "SCOPES": {
        "orders:read": "Read orders",
        "orders:write": "Create and change orders",
        "profile:read": "Read your profile",
    },
    # The developer portal (/developer/): signed-in users may give their own keys and
    # applications any of these scopes; its pages wear this site's look (templates/base.html).
    "PORTAL_SCOPES": ["orders:read", "orders:write", "profile:read"],
    "PORTAL_BASE_TEMPLATE": "base.html",
    # A new key's page (admin, portal) offers a curl line that calls the example API's ping.
    "EXAMPLE_URL": "/api/ping/",
    # Key owners hear of changes made by others and of coming expiry (printed, below).
    "PORTAL_EMAILS": True,
}
# The portal's e-mails to key owners (and Django's own) are printed by runserver. Django 6.1
# names its mailers in MAILERS and deprecates EMAIL_BACKEND.
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "iiniit_auth.authentication.APIKeyAuthentication",
        "iiniit_auth.authentication.OAuth2Authentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["iiniit_auth.permissions.HasScopes"],
    # Adds RFC 6750's insufficient_scope challenge to 403s for missing scopes.
    "EXCEPTION_HANDLER": "iiniit_auth.handlers.exception_handler",
    # The schema's security schemes and scopes, and the 400/401/403 answers (docs/openapi.md).
    "DEFAULT_SCHEMA_CLASS": "iiniit_auth.contrib.spectacular.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "iiniit_auth example API",
    "DESCRIPTION": "Orders, with an API key or an OAuth 2.0 token: Authorize, then Try it out.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Read-only fields (an order's id) only in answers, so request bodies ask for what is sent.
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI's Authorize dialog: the authorization-code flow with PKCE (S256), as a public
    # client that manage.py demo_setup registers with the redirect URI
    # /api/docs/oauth2-redirect.html (project/urls.py).
    "SWAGGER_UI_OAUTH2_CONFIG": {
        "clientId": "iiniit-swagger-ui",
        "usePkceWithAuthorizationCodeGrant": True,
    },
}

# django-oauth-toolkit as RFC 9700 recommends (docs/oauth.md): one-hour access tokens, refresh
# tokens that rotate, expire and revoke their grant when replayed, PKCE with S256, exact https
# redirect URIs (http only on loopback), tokens stored as checksums, and iiniit_auth's validator,
# which gives each application only its allowed scopes.
OAUTH2_PROVIDER = {**RECOMMENDED_OAUTH2_PROVIDER}
