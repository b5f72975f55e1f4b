"""Content-addressed artifacts: serializers, previews and the store.

``serialize`` works without a database (the runner's hot path); ``ArtifactStore``
writes and reads ``Artifact`` rows and the configured Storage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ArtifactError, ArtifactIntegrityError, SerializationError
from .previews import make_preview
from .serializers import Serialized, deserialize, serialize

if TYPE_CHECKING:
    from .store import ArtifactStore, artifact_storage

__all__ = [
    "ArtifactError",
    "ArtifactIntegrityError",
    "ArtifactStore",
    "SerializationError",
    "Serialized",
    "artifact_storage",
    "deserialize",
    "make_preview",
    "serialize",
]


def __getattr__(name: str) -> Any:
    # The store needs the models (an app registry); serializers must not.
    if name in {"ArtifactStore", "artifact_storage"}:
        from . import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
