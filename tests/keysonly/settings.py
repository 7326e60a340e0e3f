"""The suite's settings without the OAuth 2.0 server's apps, but with ``OAuth2Authentication``
still listed: the mistake ``iiniit_auth.E010`` reports."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [
    app for app in INSTALLED_APPS if app not in {"oauth2_provider", "iiniit_auth.oauth"}
]
ROOT_URLCONF = "tests.keysonly.urls"
