"""ASGI entry of the production test project (uvicorn)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.production.settings")
application = get_asgi_application()
