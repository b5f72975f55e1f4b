"""django-mlops: ML Ops without the bloat, as a Django app.

The public API. Names are imported on first use, so ``import django_mlops`` (and
defining pipelines) works without configured Django settings.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import (
        CycleError,
        DuplicateNodeError,
        DuplicateOutputError,
        MissingInputError,
        ParamValidationError,
        PipelineError,
        RunError,
        SelectionError,
    )
    from .lookups import get_run, runs
    from .params import Param
    from .pipeline import Node, Pipeline
    from .registry.register import register_model
    from .tracking import log_artifact, log_metric, log_metrics, log_param

__all__ = [
    "CycleError",
    "DuplicateNodeError",
    "DuplicateOutputError",
    "MissingInputError",
    "Node",
    "Param",
    "ParamValidationError",
    "Pipeline",
    "PipelineError",
    "RunError",
    "SelectionError",
    "get_run",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_param",
    "register_model",
    "runs",
]

# Public name -> the module that defines it.
_LAZY = {
    "Pipeline": "pipeline",
    "Node": "pipeline",
    "Param": "params",
    "ParamValidationError": "errors",
    "log_param": "tracking",
    "log_metric": "tracking",
    "log_metrics": "tracking",
    "log_artifact": "tracking",
    "register_model": "registry.register",
    "PipelineError": "errors",
    "CycleError": "errors",
    "MissingInputError": "errors",
    "DuplicateOutputError": "errors",
    "DuplicateNodeError": "errors",
    "SelectionError": "errors",
    "RunError": "errors",
    "runs": "lookups",
    "get_run": "lookups",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'django_mlops' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
