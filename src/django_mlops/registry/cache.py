"""The per-process cache of loaded models, swapped without restart when an alias moves.

Each request resolves its alias (or version number) to a version with one
indexed query, then takes that version's loaded model from the cache, loading it
once if needed. The cache key is the version's id, number and SHA-256 together,
so a reused id (SQLite hands out a deleted row's id again) never answers with
another version's model. When an alias moves, the next request resolves to the new id and
loads it; requests already holding the old one finish with it. Every answer thus
comes from exactly one version, and says which (``LoadedModel.version``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.db.models import QuerySet

from ..models import ModelAlias, ModelVersion
from .errors import ModelNotFoundError
from .loading import LoadedModel, load_version
from .lookups import DEFAULT_ALIAS, get_registered_model
from .resolving import CompiledLookup

__all__ = ["ModelCache", "VersionKey", "model_cache"]

#: (model name, version id, version number, SHA-256): what a request resolved to.
VersionKey = tuple[str, int, int, str]


def _alias_rows(name: str, alias: str) -> QuerySet[Any]:
    rows = ModelAlias.objects.filter(model__name=name, name=alias).order_by()
    return rows.values_list("version_id", "version__version", "version__sha256")[:1]


def _version_rows(name: str, version: int) -> QuerySet[Any]:
    rows = ModelVersion.objects.filter(model__name=name, version=version).order_by()
    return rows.values_list("id", "version", "sha256")[:1]


_by_alias = CompiledLookup(ModelAlias, _alias_rows)
_by_version = CompiledLookup(ModelVersion, _version_rows)


class ModelCache:
    """Loaded model versions by id, least recently used dropped beyond ``size``."""

    def __init__(self, size: int | None = None) -> None:
        self._size = size
        self._loaded: OrderedDict[VersionKey, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[VersionKey, threading.Lock] = {}

    @property
    def size(self) -> int:
        """How many versions are kept (``MLOPS["MODEL_CACHE_SIZE"]`` unless given)."""
        if self._size is not None:
            return self._size
        from ..conf import mlops_settings

        return mlops_settings().MODEL_CACHE_SIZE

    def resolve(
        self, name: str, *, alias: str | None = None, version: int | None = None
    ) -> VersionKey:
        """The version that ``alias`` (default ``production``) or ``version`` names (one query)."""
        if alias is not None and version is not None:
            raise ValueError("name a version or an alias, not both")
        if version is not None:
            found = _by_version.fetch_one(name=name, version=version)
            what = f"version {version}"
        else:
            alias = alias or DEFAULT_ALIAS
            found = _by_alias.fetch_one(name=name, alias=alias)
            what = f"alias '{alias}'"
        if found is None:
            get_registered_model(name)
            hint = (
                ""
                if version is not None
                else (f"; point it at a version: mlops models promote {name} {alias} --version V")
            )
            raise ModelNotFoundError(f"model '{name}' has no {what}{hint}")
        version_id, number, sha256 = found
        return (name, int(version_id), int(number), str(sha256))

    def get(
        self, name: str, *, alias: str | None = None, version: int | None = None
    ) -> LoadedModel:
        """The loaded version ``alias``/``version`` names now (one query when already loaded)."""
        return self.get_resolved(self.resolve(name, alias=alias, version=version))

    def get_resolved(self, key: VersionKey) -> LoadedModel:
        """The loaded version ``key`` names, loading (and verifying) it once per process."""
        with self._lock:
            loaded = self._loaded.get(key)
            if loaded is not None:
                self._loaded.move_to_end(key)
                return loaded
            gate = self._loading.setdefault(key, threading.Lock())
        # One thread loads a version; the others asking for it wait for that load.
        with gate:
            with self._lock:
                loaded = self._loaded.get(key)
            if loaded is None:
                loaded = self._load(key)
                with self._lock:
                    self._loaded[key] = loaded
                    while len(self._loaded) > max(1, self.size):
                        self._loaded.popitem(last=False)
                    self._loading.pop(key, None)
        return loaded

    @staticmethod
    def _load(key: VersionKey) -> LoadedModel:
        name, version_id, number, sha256 = key
        row = (
            ModelVersion.objects.select_related("model", "artifact")
            .filter(pk=version_id, version=number, sha256=sha256)
            .first()
        )
        if row is None:
            raise ModelNotFoundError(f"model '{name}' version {number} is gone")
        return load_version(row)

    def loaded_versions(self) -> list[tuple[str, int]]:
        """(model name, version) of what is loaded now, least recently used first."""
        with self._lock:
            return [(m.name, m.version) for m in self._loaded.values()]

    def clear(self) -> None:
        """Forget every loaded model."""
        with self._lock:
            self._loaded.clear()


#: The process's cache, shared by every endpoint and ``predict``.
model_cache = ModelCache()
