"""WSGI entry of the production test project (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.production.settings")
application = get_wsgi_application()
