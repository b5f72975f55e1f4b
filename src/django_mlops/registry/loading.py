"""Loading a registered version safely: hash verified, trusted types from the settings.

The bytes must hash to the SHA-256 recorded on the version (and on its
artifact): a modified or missing file is refused with an error naming it. A
skops artifact is loaded trusting only the configured types. When this
process has other library versions than the model was trained with, a
:class:`ModelVersionWarning` says which.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..artifacts.errors import ArtifactIntegrityError
from .errors import ModelIntegrityError, ModelVersionWarning
from .formats import load_model_bytes
from .inputs import InputBuilder, input_builder
from .libraries import version_mismatches
from .lookups import get_version

if TYPE_CHECKING:
    from ..models import ModelVersion

__all__ = ["LoadedModel", "load_model", "load_version", "verified_bytes"]

logger = logging.getLogger("django_mlops.registry")


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A loaded, verified model version and what serving it needs to know."""

    name: str
    version: int
    version_id: int
    sha256: str
    model: Any
    signature: dict[str, Any]
    libraries: dict[str, str] = field(default_factory=dict)
    #: Library -> (trained with, installed here), for the libraries that differ.
    mismatches: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    #: How an all-float batch is handed to the model (None: other signatures).
    inputs: InputBuilder | None = None


def _where(version: ModelVersion) -> str:
    """The artifact's file as the operator can find it (a path when the storage has one)."""
    from ..artifacts.store import ArtifactStore

    name = version.artifact.storage_name
    if not name:
        return f"the Artifact row {version.artifact.pk} (stored inline)"
    try:
        return f"the file {ArtifactStore().storage.path(name)}"
    except NotImplementedError:  # remote storages have names, not paths
        return f"the stored file '{name}'"


def verified_bytes(version: ModelVersion) -> bytes:
    """The version's artifact bytes, checked against the SHA-256 the version recorded."""
    from ..artifacts.store import ArtifactStore

    label = f"model '{version.model.name}' version {version.version}"
    if version.artifact.sha256 != version.sha256:
        raise ModelIntegrityError(
            f"{label}: its artifact row names SHA-256 {version.artifact.sha256}, but the version "
            f"recorded {version.sha256}: refused"
        )
    try:
        return ArtifactStore().read_bytes(version.artifact)
    except ArtifactIntegrityError as exc:
        raise ModelIntegrityError(
            f"{label}: {_where(version)} does not match the recorded SHA-256 {version.sha256} "
            f"({exc}); refused to load it"
        ) from None


def load_version(version: ModelVersion) -> LoadedModel:
    """Verify and load one version (no cache); warns when library versions differ."""
    label = f"model '{version.model.name}' version {version.version}"
    data = verified_bytes(version)
    model = load_model_bytes(data, version.format, label)
    mismatches = version_mismatches(dict(version.libraries or {}))
    if mismatches:
        listed = ", ".join(
            f"{lib} {trained} (installed: {now or 'absent'})"
            for lib, (trained, now) in sorted(mismatches.items())
        )
        message = f"{label} was trained with {listed}; predictions may differ or fail"
        logger.warning(message)
        warnings.warn(message, ModelVersionWarning, stacklevel=3)
    signature = dict(version.signature or {})
    return LoadedModel(
        name=version.model.name,
        version=version.version,
        version_id=version.pk,
        sha256=version.sha256,
        model=model,
        signature=signature,
        libraries=dict(version.libraries or {}),
        mismatches=mismatches,
        inputs=input_builder(model, signature, label),
    )


def load_model(name: str, *, alias: str | None = None, version: int | None = None) -> Any:
    """The model object of a registered version (by ``alias`` or ``version``; else the latest).

    Verified against its recorded SHA-256 every time (no cache: serving uses
    :class:`~django_mlops.registry.cache.ModelCache`).

    >>> model = load_model("iris-classifier", alias="production")  # doctest: +SKIP
    """
    return load_version(get_version(name, alias=alias, version=version)).model
