"""The suite's ASGI application, served by uvicorn in test_uvicorn.py."""

from django.core.asgi import get_asgi_application

application = get_asgi_application()
