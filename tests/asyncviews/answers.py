"""Ask a view, through Django's sync or async test client, and keep what it answered."""

import json

from asgiref.sync import async_to_sync
from django.db import connection
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext


def answer(path, method, query, headers, *, asynchronous):
    """Return (status, body, headers, SQL statements) of one request to ``path``.

    The async client runs Django's ASGI handler; its sync parts run back on this thread
    (async_to_sync from it), on the connection that holds the test's transaction.
    """
    url = path + query
    with CaptureQueriesContext(connection) as queries:
        if asynchronous:
            client = AsyncClient()
            response = async_to_sync(getattr(client, method.lower()))(url, headers=headers)
        else:
            response = getattr(Client(), method.lower())(url, headers=headers)
    body = json.loads(response.content) if response.content else None
    return (
        response.status_code,
        body,
        dict(response.headers),
        [each["sql"] for each in queries.captured_queries],
    )
