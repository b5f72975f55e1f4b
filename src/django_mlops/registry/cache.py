"""The per-process cache of loaded models, swapped without restart when an alias moves.

Each request resolves its alias (or version number) to a version id with one
indexed query, then takes that version's loaded model from the cache, loading it
once if needed. When an alias moves, the next request resolves to the new id and
loads it; requests already holding the old one finish with it. Every answer thus
comes from exactly one version, and says which (``LoadedModel.version``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from .errors import ModelNotFoundError
from .loading import LoadedModel, load_version
from .lookups import DEFAULT_ALIAS, get_registered_model

__all__ = ["ModelCache", "model_cache"]


class ModelCache:
    """Loaded model versions by id, least recently used dropped beyond ``size``."""

    def __init__(self, size: int | None = None) -> None:
        self._size = size
        self._loaded: OrderedDict[int, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[int, threading.Lock] = {}

    @property
    def size(self) -> int:
        """How many versions are kept (``MLOPS["MODEL_CACHE_SIZE"]`` unless given)."""
        if self._size is not None:
            return self._size
        from ..conf import mlops_settings

        return mlops_settings().MODEL_CACHE_SIZE

    def resolve(self, name: str, *, alias: str | None = None, version: int | None = None) -> int:
        """The id of the version that ``alias`` (default ``production``) or ``version`` names."""
        from ..models import ModelAlias, ModelVersion

        if alias is not None and version is not None:
            raise ValueError("name a version or an alias, not both")
        if version is not None:
            found = (
                ModelVersion.objects.filter(model__name=name, version=version)
                .values_list("id", flat=True)
                .first()
            )
            what = f"version {version}"
        else:
            alias = alias or DEFAULT_ALIAS
            found = (
                ModelAlias.objects.filter(model__name=name, name=alias)
                .values_list("version_id", flat=True)
                .first()
            )
            what = f"alias '{alias}'"
        if found is None:
            get_registered_model(name)
            raise ModelNotFoundError(f"model '{name}' has no {what}")
        return int(found)

    def get(
        self, name: str, *, alias: str | None = None, version: int | None = None
    ) -> LoadedModel:
        """The loaded version ``alias``/``version`` names now (one query when already loaded)."""
        version_id = self.resolve(name, alias=alias, version=version)
        return self.get_by_id(version_id)

    def get_by_id(self, version_id: int) -> LoadedModel:
        """The loaded version with this id, loading (and verifying) it once per process."""
        with self._lock:
            loaded = self._loaded.get(version_id)
            if loaded is not None:
                self._loaded.move_to_end(version_id)
                return loaded
            gate = self._loading.setdefault(version_id, threading.Lock())
        # One thread loads a version; the others asking for it wait for that load.
        with gate:
            with self._lock:
                loaded = self._loaded.get(version_id)
            if loaded is None:
                loaded = self._load(version_id)
                with self._lock:
                    self._loaded[version_id] = loaded
                    while len(self._loaded) > max(1, self.size):
                        self._loaded.popitem(last=False)
                    self._loading.pop(version_id, None)
        return loaded

    @staticmethod
    def _load(version_id: int) -> LoadedModel:
        from ..models import ModelVersion

        row = ModelVersion.objects.select_related("model", "artifact").filter(pk=version_id).first()
        if row is None:
            raise ModelNotFoundError(f"model version id {version_id} is gone")
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
