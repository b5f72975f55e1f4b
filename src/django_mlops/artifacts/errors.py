"""Errors of the artifact store."""

from __future__ import annotations

__all__ = ["ArtifactError", "ArtifactIntegrityError", "SerializationError"]


class ArtifactError(Exception):
    """Base class of artifact store errors."""


class ArtifactIntegrityError(ArtifactError):
    """Stored bytes are missing or no longer match their SHA-256: the value is refused."""

    def __init__(self, sha256: str, storage_name: str, problem: str) -> None:
        self.sha256 = sha256
        self.storage_name = storage_name
        where = f"storage name '{storage_name}'" if storage_name else "stored inline"
        super().__init__(f"artifact {sha256} ({where}): {problem}")


class SerializationError(ArtifactError):
    """A value no serializer can store."""
