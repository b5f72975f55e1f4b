"""A run's outputs, serialized once and saved to the artifact store before each flush.

Saving happens outside the flush's transaction, in autocommit: an Artifact id is
remembered only once its row is committed, so a rolled-back flush leaves no
stale id. A storage failure (disk full, a backend that raises) fails only the
task whose outputs could not be stored; every other task is still recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError

from ..artifacts import ArtifactStore, Serialized, serialize

if TYPE_CHECKING:
    from ..registry.register import ModelRegistration
    from .rows import TaskRow

__all__ = ["OutputStorage", "StorageOutcome"]

logger = logging.getLogger("django_mlops.records")

_SCALARS = (type(None), bool, int, str)
_SCALAR_TEXT_MAX = 256

Logged = tuple[int | None, str, Serialized]
Registered = tuple[int, "ModelRegistration"]


class StorageOutcome:
    """What could be stored: the logged artifacts and models kept, and the first failure."""

    __slots__ = ("error", "logged", "models")

    def __init__(self, logged: list[Logged], models: list[Registered], error: str) -> None:
        self.logged, self.models, self.error = logged, models, error


class OutputStorage:
    """Serializes outputs and saves them, remembering the Artifact id of each hash saved."""

    def __init__(self, using: str) -> None:
        self.using = using
        self.store = ArtifactStore()
        #: sha256 -> Artifact id, saved (and committed) this run.
        self.artifact_ids: dict[str, int] = {}
        self._scalars: dict[tuple[type, Any], Serialized] = {}

    def serialize(self, values: Sequence[Any]) -> list[Serialized]:
        """Serialize a node's outputs now, so an unserializable output fails that node."""
        return [self._serialize_one(value) for value in values]

    def _serialize_one(self, value: Any) -> Serialized:
        # Many nodes return the same small scalar (None, True, a short string): equal
        # scalars have equal bytes, so each is serialized once per run. Floats are
        # left out because 0.0 == -0.0 while their bytes differ.
        kind = type(value)
        if kind in _SCALARS and (kind is not str or len(value) <= _SCALAR_TEXT_MAX):
            cached = self._scalars.get((kind, value))
            if cached is None:
                cached = self._scalars[(kind, value)] = serialize(value)
            return cached
        return serialize(value)

    def save(
        self,
        rows: Sequence[TaskRow],
        logged: list[Logged],
        models: list[Registered],
        node_names: Sequence[str],
    ) -> StorageOutcome:
        """Save the outputs of ``rows``, the logged artifacts and the models' artifacts.

        All at once; when that fails, item by item, so one unstorable output fails
        its own task (its row is marked failed) and every other is still recorded.
        A database error (the Artifact rows could not be written) is not a storage
        failure: it propagates, for the flush to retry.
        """
        pending = [s for row in rows for _, s in row.outputs] + [s for _, _, s in logged]
        pending += [registration.artifact for _, registration in models]
        if not pending:
            return StorageOutcome(logged, models, "")
        try:
            self._save_many(pending)
            return StorageOutcome(logged, models, "")
        except DatabaseError:
            raise
        except Exception:  # storage backends raise anything; retried per item below
            logger.debug("saving %d artifacts at once failed; retrying one by one", len(pending))
        error = ""
        for row in rows:
            try:
                self._save_many([s for _, s in row.outputs])
            except DatabaseError:
                raise
            except Exception as exc:  # any storage failure fails this task only
                name = node_names[row.node_id]
                message = f"could not store the outputs of '{name}': {type(exc).__name__}: {exc}"
                row.state, row.outputs, row.error = "failed", (), message
                error = error or message
        kept_logged = []
        for item in logged:
            try:
                self._save_many([item[2]])
                kept_logged.append(item)
            except DatabaseError:
                raise
            except Exception as exc:  # as above
                error = error or f"could not store logged artifact '{item[1]}': {exc}"
        kept_models = []
        for node_id, registration in models:
            try:
                self._save_many([registration.artifact])
                kept_models.append((node_id, registration))
            except DatabaseError:
                raise
            except Exception as exc:  # as above
                error = error or f"could not store model '{registration.name}': {exc}"
        return StorageOutcome(kept_logged, kept_models, error)

    def _save_many(self, items: Sequence[Serialized]) -> None:
        new = {s.sha256: s for s in items if s.sha256 not in self.artifact_ids}
        if new:
            saved = self.store.save_many(list(new.values()), using=self.using)
            self.artifact_ids.update({a.sha256: a.pk for a in saved})
