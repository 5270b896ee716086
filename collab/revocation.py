"""Signal receivers that check open connections again when a user's access may have changed.

They notice what Django itself records: a logout, a deleted session, a user saved
(a new password, ``is_active``) or deleted, and changes of users' groups, users'
permissions and groups' permissions. Each asks :mod:`collab.access` to recheck the
connections of the users concerned, in every process, once the change is committed.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_out
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from collab.access import recheck_users

USER_MODEL = settings.AUTH_USER_MODEL

_GROUP_MEMBERS = "_collab_group_members"
"""Attribute keeping the members of a group about to be deleted or emptied."""


@receiver(user_logged_out, dispatch_uid="collab.recheck_logout")
def recheck_logout(sender: Any, user: Model | None, **kwargs: Any) -> None:
    """A user logged out: the connections made with that session lose its access."""
    if user is not None:
        recheck_users([user.pk])


@receiver(post_save, sender=USER_MODEL, dispatch_uid="collab.recheck_saved_user")
def recheck_saved_user(
    sender: type[Model], instance: Model, update_fields: frozenset[str] | None, **kwargs: Any
) -> None:
    """A user was saved (maybe a new password, or deactivated); not for a login's timestamp."""
    if update_fields != frozenset({"last_login"}):
        recheck_users([instance.pk])


@receiver(post_delete, sender=USER_MODEL, dispatch_uid="collab.recheck_deleted_user")
def recheck_deleted_user(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    """A user was deleted: their connections become anonymous."""
    recheck_users([instance.pk])


@receiver(pre_delete, sender=Group, dispatch_uid="collab.remember_group_members")
def remember_group_members(sender: type[Group], instance: Group, **kwargs: Any) -> None:
    """Note who is in a group about to be deleted (its memberships go without a signal)."""
    setattr(instance, _GROUP_MEMBERS, members([instance.pk]))


@receiver(post_delete, sender=Group, dispatch_uid="collab.recheck_deleted_group")
def recheck_deleted_group(sender: type[Group], instance: Group, **kwargs: Any) -> None:
    """A group was deleted: its members lost its permissions."""
    recheck_users(getattr(instance, _GROUP_MEMBERS, None))


@receiver(m2m_changed, dispatch_uid="collab.recheck_permissions")
def recheck_permissions(
    sender: type[Model],
    instance: Model,
    action: str,
    reverse: bool,
    model: type[Model],
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    """Users' groups, users' permissions or groups' permissions changed, either way round."""
    if sender not in _permission_tables(get_user_model()):
        return
    if action == "pre_clear":
        setattr(instance, _GROUP_MEMBERS, _affected(sender, instance, None))
    elif action == "post_clear":
        recheck_users(getattr(instance, _GROUP_MEMBERS, None))
    elif action in ("post_add", "post_remove"):
        recheck_users(_affected(sender, instance, pk_set))


def _permission_tables(user_model: type[Model]) -> list[type[Model]]:
    tables: list[type[Model]] = [Group.permissions.through]
    for field in ("groups", "user_permissions"):
        descriptor = getattr(user_model, field, None)
        if descriptor is not None:
            tables.append(descriptor.through)
    return tables


def _affected(table: type[Model], instance: Model, pk_set: set[Any] | None) -> list[Any]:
    """The users whose permissions a change in ``table`` of ``instance``'s relations touches.

    ``pk_set`` holds the other side's keys; ``None`` stands for all of them (a clear).
    """
    users = get_user_model()._default_manager
    if isinstance(instance, get_user_model()):
        return [instance.pk]
    by_group = table is Group.permissions.through
    if isinstance(instance, Group):
        return members([instance.pk]) if by_group or pk_set is None else list(pk_set)
    if isinstance(instance, Permission):
        if by_group:
            groups = Group.objects.filter(permissions=instance) if pk_set is None else pk_set
            return members(groups)
        if pk_set is None:
            return list(users.filter(user_permissions=instance).values_list("pk", flat=True))
        return list(pk_set)
    return []


def members(groups: Any) -> list[Any]:
    """The primary keys of the users in any of ``groups`` (groups or their keys)."""
    users = get_user_model()._default_manager
    return list(users.filter(groups__in=groups).distinct().values_list("pk", flat=True))


if apps.is_installed("django.contrib.sessions"):
    from django.contrib.sessions.models import Session

    @receiver(post_delete, sender=Session, dispatch_uid="collab.recheck_deleted_session")
    def recheck_deleted_session(sender: type[Session], instance: Session, **kwargs: Any) -> None:
        """A stored session was deleted (a logout, or by hand): its user's connections."""
        user_id = instance.get_decoded().get(SESSION_KEY)
        if user_id is not None:
            recheck_users([get_user_model()._meta.pk.to_python(user_id)])
