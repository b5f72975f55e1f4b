"""A model's bytes: joblib by default, skops where the model's types allow.

``MLOPS["MODEL_FORMAT"]`` chooses. With ``"skops"`` a model is written with
skops when skops can write it and every type it needs on loading is trusted
(skops' defaults plus ``MLOPS["SKOPS_TRUSTED_TYPES"]``); otherwise it falls back
to joblib with a warning saying which types to review. Loading a skops artifact
trusts exactly those types: the list comes from this installation's settings,
never from the artifact itself (asking the file which types it wants and
trusting them would let any file load anything).
"""

from __future__ import annotations

import hashlib
import io
import logging
from typing import Any

import joblib

from ..artifacts.serializers import Serialized, type_name
from .errors import ModelIntegrityError

__all__ = ["dump_model", "load_model_bytes", "load_skops", "trusted_types"]

logger = logging.getLogger("django_mlops.registry")


def trusted_types() -> list[str]:
    """The skops types this installation trusts beyond skops' defaults (from the settings)."""
    from ..conf import mlops_settings

    return list(mlops_settings().SKOPS_TRUSTED_TYPES)


def _skops_io() -> Any:
    try:
        import skops.io  # type: ignore[import-untyped]
    except ImportError:
        return None
    return skops.io


def _skops_bytes(model: Any) -> bytes | None:
    """The model in skops format, or None when skops cannot take it or would not load it."""
    sio = _skops_io()
    if sio is None:
        logger.warning("MODEL_FORMAT is 'skops' but skops is not installed: using joblib")
        return None
    try:
        data: bytes = sio.dumps(model)
    except Exception as exc:  # a type skops cannot express
        logger.warning("skops cannot store a %s (%s): using joblib", type_name(model), exc)
        return None
    untrusted = sorted(set(sio.get_untrusted_types(data=data)) - set(trusted_types()))
    if untrusted:
        # Stored this way it would be refused on loading: joblib (hash-checked) instead.
        logger.warning(
            "a %s needs skops types that are not trusted (%s); using joblib. Review them and "
            "add them to MLOPS['SKOPS_TRUSTED_TYPES'] to store such models with skops.",
            type_name(model),
            ", ".join(untrusted),
        )
        return None
    return data


def dump_model(model: Any, model_format: str | None = None) -> Serialized:
    """The model's bytes in the configured format, with their SHA-256 and a preview."""
    from ..artifacts.previews import make_preview
    from ..conf import mlops_settings

    wanted = model_format or mlops_settings().MODEL_FORMAT
    data = _skops_bytes(model) if wanted == "skops" else None
    serializer = "skops"
    if data is None:
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        data, serializer = buffer.getvalue(), "joblib"
    digest = hashlib.sha256(data).hexdigest()
    return Serialized(data, serializer, type_name(model), digest, make_preview(model))


def load_skops(data: bytes, what: str = "artifact") -> Any:
    """A skops payload, loaded trusting only skops' defaults and the configured types."""
    sio = _skops_io()
    if sio is None:
        raise ModelIntegrityError(f"{what} is stored with skops, which is not installed")
    try:
        return sio.loads(data, trusted=trusted_types() or None)
    except sio.exceptions.UntrustedTypesFoundException as exc:
        types = ", ".join(sorted(set(sio.get_untrusted_types(data=data)) - set(trusted_types())))
        raise ModelIntegrityError(
            f"{what} needs skops types this installation does not trust: {types}. Review them "
            "and add them to MLOPS['SKOPS_TRUSTED_TYPES'] if you trust where the model came from"
        ) from exc


def load_model_bytes(data: bytes, model_format: str, what: str) -> Any:
    """The model in ``data`` (whose SHA-256 the caller checked), in its recorded format."""
    if model_format == "skops":
        return load_skops(data, what)
    if model_format == "joblib":
        # Pickle: acceptable only because the bytes hash to what this installation recorded.
        return joblib.load(io.BytesIO(data))
    raise ModelIntegrityError(f"{what} has an unknown format {model_format!r}")
