"""Seed the production test database: ``python -m tests.production.seed N`` prints JSON.

A superuser (root / root-password), and N owners each with one key; one DRF token. Run in the
server's environment (harness.py), on the database the server uses.
"""

import json
import sys

import django


def main(count):
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from iiniit_auth.models import APIKey

    User = get_user_model()
    if not User.objects.filter(username="root").exists():
        User.objects.create_superuser("root", "root@example.com", "root-password")
    start = User.objects.count()
    owners = []
    for number in range(start, start + count):
        owner = User.objects.create_user(f"owner{number}", f"owner{number}@example.com")
        key, plaintext = APIKey.objects.issue(owner=owner, name="load", scopes=[])
        owners.append(
            {
                "owner": owner.username,
                "owner_pk": owner.pk,
                "key_pk": key.pk,
                "public_id": key.public_id,
                "key": plaintext,
            }
        )
    token, _created = Token.objects.get_or_create(user=User.objects.get(username="root"))
    return {"owners": owners, "token": token.key}


if __name__ == "__main__":
    django.setup()
    print(json.dumps(main(int(sys.argv[1]))))
