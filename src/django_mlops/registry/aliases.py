"""Pointing aliases (``production``, ``staging``, any name) at versions, with an audit trail.

Every change writes an :class:`~django_mlops.models.AliasChange` row (who, when,
from which version to which, the comment) in the same transaction as the alias,
so the trail can never miss a move. With a ``user``, the change needs the
``django_mlops.promote_model`` permission; without one (the CLI, a script with
database access) it is recorded as made by nobody in particular.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import DatabaseError, router, transaction
from django.utils import timezone

from .errors import AliasPermissionError
from .lookups import get_version

if TYPE_CHECKING:
    from ..models import ModelAlias, ModelVersion, RegisteredModel

__all__ = ["PROMOTE_PERMISSION", "check_alias_name", "remove_alias", "set_alias"]

PROMOTE_PERMISSION = "django_mlops.promote_model"
_RETRY_SECONDS = 10.0
T = TypeVar("T")
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")


def check_alias_name(alias: object) -> str:
    """``alias`` if it is a valid alias name (letters first; no digits only: those are versions)."""
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise ValueError(
            f"an alias is 1-100 letters, digits, '_' or '-', starting with a letter; not {alias!r}"
        )
    return alias


def _check_permission(user: Any, name: str) -> None:
    if user is not None and not user.has_perm(PROMOTE_PERMISSION):
        raise AliasPermissionError(
            f"user '{user}' may not move aliases of model '{name}' (needs {PROMOTE_PERMISSION})"
        )


def _retrying(write: Callable[[], T]) -> T:
    """``write()`` (a transaction), tried again while it fails for a passing reason.

    Serving processes read the alias on every request; on SQLite a move can meet
    their read locks, and on PostgreSQL a lock timeout. Neither should lose the move.
    """
    from ..records.retrying import is_passing_error

    deadline = time.monotonic() + _RETRY_SECONDS
    delay = 0.01
    while True:
        try:
            return write()
        except DatabaseError as exc:
            if not is_passing_error(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def set_alias(
    name: str, alias: str, version: int, user: Any = None, comment: str = ""
) -> ModelAlias:
    """Point ``alias`` of model ``name`` at ``version``; returns the alias row.

    Setting an alias to the version it already points at changes nothing and
    records nothing.
    """
    check_alias_name(alias)
    _check_permission(user, name)
    target = get_version(name, version=version)
    return _retrying(lambda: _move(target, alias, getattr(user, "pk", None), comment))


def _locked_alias(using: str, model: RegisteredModel, alias: str) -> ModelAlias | None:
    """The alias row, locked to the end of the transaction (PostgreSQL), or None."""
    from ..models import ModelAlias

    return (
        ModelAlias.objects.using(using)
        .select_for_update()
        .select_related("version")
        .filter(model=model, name=alias)
        .first()
    )


def _move(target: ModelVersion, alias: str, user_id: Any, comment: str) -> ModelAlias:
    from ..models import AliasChange, ModelAlias

    using = router.db_for_write(ModelAlias) or "default"
    with transaction.atomic(using=using):
        current = _locked_alias(using, target.model, alias)
        if current is not None and current.version_id == target.pk:
            return current
        previous = current.version if current is not None else None
        now = timezone.now()
        if current is None:
            current = ModelAlias.objects.using(using).create(
                model=target.model,
                name=alias,
                version=target,
                updated_at=now,
                updated_by_id=user_id,
            )
        else:
            current.version, current.updated_at, current.updated_by_id = target, now, user_id
            current.save(using=using, update_fields=["version", "updated_at", "updated_by"])
        AliasChange.objects.using(using).create(
            model=target.model,
            alias=alias,
            from_version=previous,
            to_version=target,
            from_number=None if previous is None else previous.version,
            to_number=target.version,
            user_id=user_id,
            comment=comment,
            changed_at=now,
        )
    return current


def remove_alias(name: str, alias: str, user: Any = None, comment: str = "") -> None:
    """Delete ``alias`` of model ``name`` (recorded in the trail as a move to no version)."""
    from .lookups import get_registered_model

    _check_permission(user, name)
    registered = get_registered_model(name)
    _retrying(lambda: _remove(registered, name, alias, getattr(user, "pk", None), comment))


def _remove(registered: RegisteredModel, name: str, alias: str, user_id: Any, comment: str) -> None:
    from ..models import AliasChange, ModelAlias

    using = router.db_for_write(ModelAlias) or "default"
    with transaction.atomic(using=using):
        current = _locked_alias(using, registered, alias)
        if current is None:
            from .errors import ModelNotFoundError

            raise ModelNotFoundError(f"model '{name}' has no alias '{alias}'")
        AliasChange.objects.using(using).create(
            model=registered,
            alias=alias,
            from_version=current.version,
            from_number=current.version.version,
            user_id=user_id,
            comment=comment,
            changed_at=timezone.now(),
        )
        current.delete()
