"""How a user appears to the others in a document: the name and colour of their cursor.

Editors put this into their awareness state, so it travels to every other client of
the document as part of the stock y-websocket awareness protocol.
"""

from __future__ import annotations

import colorsys
import zlib
from typing import TYPE_CHECKING, TypedDict

from django.contrib.auth.models import AbstractUser

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

__all__ = ["UserInfo", "display_name", "user_color", "user_info"]

ANONYMOUS_NAME = "Anonymous"
ANONYMOUS_COLOR = "#6e7781"

GOLDEN_ANGLE = 137.508
"""Degrees of hue between consecutive user ids: users created one after the other
(alice, bob, ...) get clearly different colours."""


class UserInfo(TypedDict):
    """The ``user`` field of an editor's awareness state."""

    name: str
    color: str


def display_name(user: AbstractBaseUser | AnonymousUser) -> str:
    """The user's full name, else their username; "Anonymous" when not logged in."""
    if not user.is_authenticated:
        return ANONYMOUS_NAME
    full_name = user.get_full_name() if isinstance(user, AbstractUser) else ""
    return full_name or user.get_username()


def user_color(user: AbstractBaseUser | AnonymousUser) -> str:
    """A colour that identifies the user on every page and visit, as ``#rrggbb``.

    The hue follows from the user's primary key; saturation and lightness keep white
    label text readable. Anonymous users share one grey.
    """
    if not user.is_authenticated or user.pk is None:
        return ANONYMOUS_COLOR
    hue = (_pk_number(user.pk) * GOLDEN_ANGLE) % 360
    red, green, blue = colorsys.hls_to_rgb(hue / 360, 0.42, 0.65)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def _pk_number(pk: object) -> int:
    """An integer for a primary key: the key itself if it is one, else a stable digest."""
    if isinstance(pk, int):
        return pk
    return zlib.crc32(str(pk).encode())


def user_info(user: AbstractBaseUser | AnonymousUser) -> UserInfo:
    """The name and colour the editors show for ``user``."""
    return {"name": display_name(user), "color": user_color(user)}
