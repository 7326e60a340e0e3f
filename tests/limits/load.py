"""One worker process of the load test (tests/limits/test_load.py): run as
``python -m tests.limits.load <redis url> <key prefix> <limit> <requests per client>``.

It configures Django on a shared Redis, says ``ready``, waits for ``go`` on stdin, then runs
two client threads; each sends its requests in turn to a view limited by
CredentialRateThrottle, to one limited by DRF's UserRateThrottle, and, with a key whose
checksum is wrong, to one behind APIKeyAuthentication (the failed-authentication limiter). It
prints one JSON line: the requests our throttle accepted, by window; those DRF's accepted; the
refusals (401) the limiter let through before answering 429, by window. No database is used:
the credential is an unsaved key of an unsaved user, as the throttles only read them.
"""

import json
import sys
import threading
from collections import Counter


def configure(redis_url, prefix, limit):
    import django
    from django.conf import settings

    from tests import settings as base

    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    values["DATABASES"] = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    values["CACHES"] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    values["IINIIT_AUTH"] = {
        **base.IINIIT_AUTH,
        "DEFAULT_RATE": f"{limit}/min",
        "FAILED_AUTH_LIMIT": f"{limit}/min",
    }
    values["REST_FRAMEWORK"] = {
        **base.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": f"{limit}/min"},
    }
    settings.configure(**values)
    django.setup()


def main(redis_url, prefix, limit, per_client):
    configure(redis_url, prefix, int(limit))
    from django.contrib.auth import get_user_model
    from rest_framework.authentication import BaseAuthentication
    from rest_framework.permissions import AllowAny
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory
    from rest_framework.throttling import UserRateThrottle
    from rest_framework.views import APIView

    from iiniit_auth import keys
    from iiniit_auth.authentication import APIKeyAuthentication
    from iiniit_auth.models import APIKey
    from iiniit_auth.throttling import CredentialRateThrottle, Window

    user = get_user_model()(pk=1, username="load")
    key = APIKey(public_id="loadtest", name="load", owner=user)

    class Fixed(BaseAuthentication):
        def authenticate(self, request):
            return user, key

    class Recording(CredentialRateThrottle):
        """Tells the view which window it counted the request in."""

        def allow_request(self, request, view):
            try:
                return super().allow_request(request, view)
            finally:
                view.counted_in = self.window

    class Ours(APIView):
        authentication_classes = [Fixed]
        permission_classes = [AllowAny]
        throttle_classes = [Recording]

        def get(self, request):
            return Response({"window": self.counted_in.start})

    class Theirs(APIView):
        authentication_classes = [Fixed]
        permission_classes = [AllowAny]
        throttle_classes = [UserRateThrottle]

        def get(self, request):
            return Response({})

    class Guarded(APIView):
        authentication_classes = [APIKeyAuthentication]
        permission_classes = [AllowAny]

        def get(self, request):
            return Response({})

    # A key whose checksum is wrong: refused (401) with no query, counted by the limiter.
    good = keys.generate("iik").plaintext
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")

    ours, theirs, guarded = Ours.as_view(), Theirs.as_view(), Guarded.as_view()
    factory = APIRequestFactory()
    accepted = Counter()
    drf_accepted = [0]
    refused = Counter()
    lock = threading.Lock()

    def client():
        for _ in range(int(per_client)):
            response = ours(factory.get("/ours/"))
            if response.status_code == 200:
                with lock:
                    accepted[str(response.data["window"])] += 1
            elif response.status_code != 429:
                raise AssertionError(response.status_code)
            if theirs(factory.get("/theirs/")).status_code == 200:
                with lock:
                    drf_accepted[0] += 1
            status = guarded(
                factory.get("/guarded/", HTTP_AUTHORIZATION=f"ApiKey {bad}")
            ).status_code
            if status == 401:
                with lock:
                    refused[str(Window.at(60).start)] += 1
            elif status != 429:
                raise AssertionError(status)

    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    threads = [threading.Thread(target=client) for _ in range(2)]
    for each in threads:
        each.start()
    for each in threads:
        each.join()
    result = {"ours": dict(accepted), "drf": drf_accepted[0], "refused": dict(refused)}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
