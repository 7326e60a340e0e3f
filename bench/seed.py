"""Seeding: N credentials per contender, the measured one made through each library's own API.

The measured credentials belong to one user, ``alice``, who holds exactly one credential of
each kind (django-rest-knox reads every token of the user on each request, so a user holding
thousands would measure that instead). The filler rows, N - 1 per contender, belong to filler
users and are bulk-inserted: they are there to make the indexes as deep as N credentials make
them, and are never presented. Growing from one N to a larger one only adds rows.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone

from iiniit_auth import keys
from iiniit_auth.conf import auth_settings
from iiniit_auth.models import APIKey

BATCH = 5000
_BASE62 = keys.ALPHABET
_ALNUM = string.ascii_letters + string.digits


@dataclass
class Credentials:
    """The ``Authorization`` header value that presents each measured credential."""

    headers: dict[str, str] = field(default_factory=dict)


def _chunks(count: int) -> Iterator[range]:
    for start in range(0, count, BATCH):
        yield range(start, min(start + BATCH, count))


class Seeder:
    """Creates the measured credentials once, then grows every contender to N credentials."""

    def __init__(self, rng_seed: int = 20240501) -> None:
        self.rng = random.Random(rng_seed)
        self.size = 0
        self.filler_users: list[int] = []
        self.credentials = Credentials()
        self.installed = set(settings.INSTALLED_APPS)
        self._public_ids: set[str] = set()
        self._application: Any = None

    # -- the measured credentials, through each library's API ------------------------------

    def create_measured(self) -> Credentials:
        """Create alice and her one credential per contender; return their headers."""
        user_model = get_user_model()
        alice = user_model.objects.create_user("alice", "alice@example.com", "alice-password")
        headers = self.credentials.headers
        if "rest_framework.authtoken" in self.installed:
            from rest_framework.authtoken.models import Token

            headers["drf_token"] = f"Token {Token.objects.create(user=alice).key}"
        if "rest_framework_api_key" in self.installed:
            from rest_framework_api_key.models import APIKey as PeerAPIKey

            _peer_key, peer_plaintext = PeerAPIKey.objects.create_key(name="bench")
            headers["drf_api_key"] = f"Api-Key {peer_plaintext}"
        if "knox" in self.installed:
            from knox.models import AuthToken

            _token, knox_plaintext = AuthToken.objects.create(alice)
            headers["knox"] = f"Token {knox_plaintext}"

        from oauth2_provider.models import (
            get_access_token_model,
            get_application_model,
            set_token_value,
        )

        application_model = get_application_model()
        self._application = application_model.objects.create(
            name="bench",
            user=alice,
            client_type=application_model.CLIENT_CONFIDENTIAL,
            authorization_grant_type=application_model.GRANT_AUTHORIZATION_CODE,
            redirect_uris="https://client.example.com/callback",
        )
        bearer = self.rng.randbytes(30).hex()
        token = get_access_token_model()(
            user=alice,
            application=self._application,
            expires=timezone.now() + timedelta(days=1),
            scope="bench:read",
        )
        set_token_value(token, bearer)  # hashed at rest: only the checksum is stored
        token.save()
        headers["dot"] = headers["ours_bearer"] = headers["floor_bearer"] = f"Bearer {bearer}"

        key, plaintext = APIKey.objects.issue(owner=alice, name="bench", scopes=["bench:read"])
        self._public_ids.add(key.public_id)
        scheme = auth_settings().HEADER_SCHEME
        headers["ours_key"] = headers["ours_key_cached"] = f"{scheme} {plaintext}"
        headers["ours_key_async"] = headers["ours_key"]  # bare_async sends none
        headers["floor"] = f"{scheme} {plaintext}"
        # Well-formed, right prefix and length, wrong checksum: refused before any query.
        last = "0" if plaintext[-1] != "0" else "1"
        headers["ours_malformed"] = f"{scheme} {plaintext[:-1]}{last}"
        self.size = 1
        return self.credentials

    # -- the filler rows ----------------------------------------------------------------------

    def grow(self, size: int, progress: Callable[[str], None] = lambda _m: None) -> None:
        """Add filler rows until every contender has ``size`` credentials."""
        missing = size - self.size
        if missing <= 0:
            return
        self._grow_users(missing, progress)
        owners = self.filler_users[self.size - 1 : size - 1]
        future = timezone.now() + timedelta(days=365)
        self._fill("users' DRF tokens", self._drf_tokens, owners, future, progress)
        self._fill("djangorestframework-api-key keys", self._peer_keys, owners, future, progress)
        self._fill("knox tokens", self._knox_tokens, owners, future, progress)
        self._fill("OAuth access tokens", self._access_tokens, owners, future, progress)
        self._fill("iiniit_auth keys", self._our_keys, owners, future, progress)
        self.size = size
        with connection.cursor() as cursor:
            # Fresh planner statistics after a bulk load, for every table alike.
            cursor.execute("ANALYZE")

    def _grow_users(self, missing: int, progress: Callable[[str], None]) -> None:
        user_model = get_user_model()
        first = len(self.filler_users)
        progress(f"  {missing:,} users")
        now = timezone.now()
        with transaction.atomic():
            for chunk in _chunks(missing):
                user_model.objects.bulk_create(
                    # "!" is Django's unusable password: the filler users never sign in.
                    user_model(username=f"u{first + i:08d}", password="!", date_joined=now)  # noqa: S106
                    for i in chunk
                )
        self.filler_users = list(
            user_model.objects.filter(username__startswith="u")
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    def _fill(
        self,
        label: str,
        make: Callable[[list[int], Any], tuple[type[models.Model], list[models.Model]] | None],
        owners: list[int],
        future: Any,
        progress: Callable[[str], None],
    ) -> None:
        progress(f"  {len(owners):,} {label}")
        with transaction.atomic():
            for chunk in _chunks(len(owners)):
                made = make([owners[i] for i in chunk], future)
                if made is None:
                    return
                model, rows = made
                model._default_manager.bulk_create(rows)

    def _drf_tokens(self, owners: list[int], future: Any) -> Any:
        if "rest_framework.authtoken" not in self.installed:
            return None
        from rest_framework.authtoken.models import Token

        return Token, [Token(key=self.rng.randbytes(20).hex(), user_id=pk) for pk in owners]

    def _peer_keys(self, owners: list[int], future: Any) -> Any:
        if "rest_framework_api_key" not in self.installed:
            return None
        from rest_framework_api_key.models import APIKey as PeerAPIKey

        rows = []
        for _pk in owners:
            prefix = "".join(self.rng.choices(_ALNUM, k=8))
            hashed = "sha512$$" + self.rng.randbytes(64).hex()
            rows.append(
                PeerAPIKey(id=f"{prefix}.{hashed}", prefix=prefix, hashed_key=hashed, name="filler")
            )
        return PeerAPIKey, rows

    def _knox_tokens(self, owners: list[int], future: Any) -> Any:
        if "knox" not in self.installed:
            return None
        from knox.models import AuthToken

        return AuthToken, [
            AuthToken(
                digest=self.rng.randbytes(64).hex(),
                token_key=self.rng.randbytes(8).hex()[:15],
                user_id=pk,
                expiry=future,
            )
            for pk in owners
        ]

    def _access_tokens(self, owners: list[int], future: Any) -> Any:
        from oauth2_provider.models import get_access_token_model

        model = get_access_token_model()
        return model, [
            model(
                user_id=pk,
                application=self._application,
                token="",
                token_checksum=self.rng.randbytes(32).hex(),
                expires=future,
                scope="bench:read",
            )
            for pk in owners
        ]

    def _our_keys(self, owners: list[int], future: Any) -> Any:
        rows = []
        for pk in owners:
            public_id = "".join(self.rng.choices(_BASE62, k=keys.PUBLIC_ID_LENGTH))
            while public_id in self._public_ids:
                public_id = "".join(self.rng.choices(_BASE62, k=keys.PUBLIC_ID_LENGTH))
            self._public_ids.add(public_id)
            rows.append(
                APIKey(
                    public_id=public_id,
                    digest=self.rng.randbytes(32).hex(),
                    name="filler",
                    owner_id=pk,
                    scopes="bench:read",
                    expires_at=future,
                )
            )
        return APIKey, rows
