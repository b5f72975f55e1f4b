"""The content-addressed artifact store over Django's Storage API.

Values are serialized, addressed by the SHA-256 of their bytes and stored once:
small payloads in the ``Artifact`` row, the rest in the configured Storage under
a name made only from the hash (``ab/cd/<sha>.<ext>``), so no user input ever
reaches a path. Loading re-hashes the bytes and refuses a mismatch.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils.module_loading import import_string

from ..conf import mlops_settings
from ..models import Artifact
from .errors import ArtifactIntegrityError
from .rows import find_artifacts, insert_artifacts
from .serializers import EXTENSIONS, Serialized, deserialize, serialize

__all__ = ["ArtifactStore", "artifact_storage", "reset_storage", "storage_name_for"]

_READ_CHUNK = 1 << 20


@functools.cache
def artifact_storage() -> Storage:
    """The Storage named by ``MLOPS["ARTIFACT_STORAGE"]`` (cached; reset with settings)."""
    config = mlops_settings()
    name = config.ARTIFACT_STORAGE
    if not name:
        return FileSystemStorage(location=config.artifacts_dir)
    if name in storages.backends:
        return storages[name]
    storage: Storage = import_string(name)()
    return storage


def reset_storage() -> None:
    """Forget the cached Storage (called when settings change)."""
    artifact_storage.cache_clear()


def storage_name_for(sha256: str, serializer: str) -> str:
    """The storage name of an artifact: derived from its hash only."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{EXTENSIONS[serializer]}"


class ArtifactStore:
    """Stores and loads values by content.

    >>> store = ArtifactStore()
    >>> artifact = store.put({"accuracy": 0.93})       # doctest: +SKIP
    >>> store.get(artifact.sha256)                      # doctest: +SKIP
    {'accuracy': 0.93}
    """

    def __init__(self, storage: Storage | None = None) -> None:
        self.storage = storage if storage is not None else artifact_storage()
        self.inline_max = mlops_settings().INLINE_ARTIFACT_MAX_BYTES

    # Writing ----------------------------------------------------------------------------

    def put(self, value: Any) -> Artifact:
        """Store ``value`` (once per content) and return its ``Artifact`` row."""
        return self.save_many([serialize(value)])[0]

    def save_many(self, items: Sequence[Serialized], using: str | None = None) -> list[Artifact]:
        """Write the rows of serialized values: one read, then one batched insert of new ones.

        Returns one ``Artifact`` per item, in order; content already stored is not
        written again (same SHA-256, same row). Rows come back with ``data`` and
        ``preview`` deferred (loaded from the database on access).
        """
        unique = {item.sha256: item for item in items}
        found = find_artifacts(list(unique), using)
        new = [item for sha, item in unique.items() if sha not in found]
        if new:
            found.update(insert_artifacts([self._row_for(item) for item in new], using))
        return [found[item.sha256] for item in items]

    def put_file(self, path: str | Path) -> Artifact:
        """Store a file's bytes (loaded back as ``bytes``); big files are streamed."""
        path = Path(path)
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as handle:
            while chunk := handle.read(_READ_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        sha = digest.hexdigest()
        existing = find_artifacts([sha]).get(sha)
        if existing is not None:
            return existing
        if size <= self.inline_max:
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != sha:
                raise ArtifactIntegrityError(sha, "", f"file {path} changed while being stored")
            return self.save_many([self._file_serialized(path.name, data, sha)])[0]
        with path.open("rb") as handle:
            name = self._write(sha, "bytes", File(handle, name=path.name))
        preview = {"kind": "file", "name": path.name[:200], "size": size}
        row = Artifact(
            sha256=sha,
            size=size,
            serializer="bytes",
            type_name="file",
            storage_name=name,
            data=None,
            preview=preview,
        )
        return insert_artifacts([row])[sha]

    # Reading ----------------------------------------------------------------------------

    def get(self, artifact: Artifact | str) -> Any:
        """The value of an artifact (a row or a SHA-256), verified against its hash.

        Raises ``ArtifactIntegrityError`` naming the artifact when its bytes are
        missing or do not hash to its SHA-256, and ``Artifact.DoesNotExist`` for an
        unknown hash.
        """
        row = Artifact.objects.get(sha256=artifact) if isinstance(artifact, str) else artifact
        return deserialize(self.read_bytes(row), row.serializer, row.type_name)

    def read_bytes(self, row: Artifact) -> bytes:
        """The verified bytes of an artifact."""
        if row.data is not None:
            data = bytes(row.data)
        else:
            try:
                with self.storage.open(row.storage_name, "rb") as handle:
                    data = handle.read()
            except (FileNotFoundError, OSError) as exc:
                raise ArtifactIntegrityError(
                    row.sha256, row.storage_name, f"bytes missing ({exc.__class__.__name__})"
                ) from None
        if hashlib.sha256(data).hexdigest() != row.sha256:
            raise ArtifactIntegrityError(
                row.sha256, row.storage_name, "bytes do not match the SHA-256 (tampered?)"
            )
        return data

    # Internals --------------------------------------------------------------------------

    def _row_for(self, item: Serialized) -> Artifact:
        inline = item.size <= self.inline_max
        name = "" if inline else self._write(item.sha256, item.serializer, ContentFile(item.data))
        return Artifact(
            sha256=item.sha256,
            size=item.size,
            serializer=item.serializer,
            type_name=item.type_name[:255],
            storage_name=name,
            data=item.data if inline else None,
            preview=item.preview,
        )

    def _write(self, sha: str, serializer: str, content: File[Any]) -> str:
        """Save bytes under their hash name; keep an existing copy only if it verifies."""
        name = storage_name_for(sha, serializer)
        if self.storage.exists(name):
            with self.storage.open(name, "rb") as handle:
                digest = hashlib.sha256()
                while chunk := handle.read(_READ_CHUNK):
                    digest.update(chunk)
            if digest.hexdigest() == sha:
                return name
            # A leftover that no longer matches (a crash mid-write, tampering): replace it.
            self.storage.delete(name)
        return self.storage.save(name, content)

    @staticmethod
    def _file_serialized(name: str, data: bytes, sha: str) -> Serialized:
        preview: dict[str, Any] = {"kind": "file", "name": name[:200], "size": len(data)}
        # Text files show their start; binary ones show as replacement characters.
        preview["head"] = data[:400].decode("utf-8", errors="replace")[:200]
        return Serialized(data, "bytes", "file", sha, preview)
