"""One worker process of the load test (tests/limits/test_load.py): run as
``python -m tests.limits.load <redis url> <key prefix> <limit> <requests per client>``.

It configures Django on a shared Redis, says ``ready``, waits for ``go`` on stdin, then runs
two client threads; each sends its requests, one to a view limited by CredentialRateThrottle
and one to a view limited by DRF's UserRateThrottle, in turn. It prints one JSON line: the
requests our throttle accepted, by window, and those DRF's accepted. No database is used:
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
    values["IINIIT_AUTH"] = {**base.IINIIT_AUTH, "DEFAULT_RATE": f"{limit}/min"}
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

    from iiniit_auth.models import APIKey
    from iiniit_auth.throttling import CredentialRateThrottle

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

    ours, theirs = Ours.as_view(), Theirs.as_view()
    factory = APIRequestFactory()
    accepted = Counter()
    drf_accepted = [0]
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

    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    threads = [threading.Thread(target=client) for _ in range(2)]
    for each in threads:
        each.start()
    for each in threads:
        each.join()
    print(json.dumps({"ours": dict(accepted), "drf": drf_accepted[0]}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
