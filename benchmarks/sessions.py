"""Log in benchmark users, each with a session of its own: ``python -m benchmarks.sessions``.

Usage: ``python -m benchmarks.sessions PREFIX COUNT`` (with the benchmark settings)
creates users ``PREFIX-0`` … who may edit every collab document (through a group, as a
project would grant it), logs each in once, and prints their ``Cookie`` header values as
a JSON list.
"""

from __future__ import annotations

import json
import sys

import django


def logged_in(prefix: str, count: int) -> list[str]:
    """Create ``count`` editors and return one session cookie per user."""
    from django.conf import settings
    from django.contrib.auth.models import Group, Permission, User
    from django.test import Client

    editors, _ = Group.objects.get_or_create(name="benchmark editors")
    editors.permissions.add(
        Permission.objects.get(codename="change_document", content_type__app_label="collab")
    )
    users = User.objects.bulk_create(User(username=f"{prefix}-{n}") for n in range(count))
    editors.user_set.add(*users)
    cookies = []
    for user in users:
        browser = Client()
        browser.force_login(user)
        session = browser.cookies[settings.SESSION_COOKIE_NAME].value
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session}")
    return cookies


if __name__ == "__main__":
    django.setup()
    print(json.dumps(logged_in(sys.argv[1], int(sys.argv[2]))))
