"""The model registry: versions, aliases, verified loading, the model cache, prediction.

Names are imported on first use, so importing the package (Django does, to find
the models in ``records``) costs nothing.

- ``register_model`` (``register``): a new version from a node or a given run.
- ``set_alias``/``remove_alias`` (``aliases``): moves with an audit trail.
- ``load_model`` (``loading``): hash-verified loading.
- ``model_cache``/``ModelCache`` (``cache``): loaded models per process.
- ``predict`` (``prediction``): signature-checked predictions.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "FieldError",
    "InputValidationError",
    "LoadedModel",
    "ModelCache",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "ModelVersionWarning",
    "Prediction",
    "RegistryError",
    "get_version",
    "load_model",
    "model_cache",
    "predict",
    "register_model",
    "remove_alias",
    "set_alias",
]

_LAZY = {
    "FieldError": "errors",
    "InputValidationError": "errors",
    "ModelIntegrityError": "errors",
    "ModelNotFoundError": "errors",
    "ModelVersionWarning": "errors",
    "RegistryError": "errors",
    "LoadedModel": "loading",
    "load_model": "loading",
    "ModelCache": "cache",
    "model_cache": "cache",
    "Prediction": "prediction",
    "predict": "prediction",
    "get_version": "lookups",
    "register_model": "register",
    "set_alias": "aliases",
    "remove_alias": "aliases",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
