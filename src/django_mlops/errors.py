"""Exceptions raised by django-mlops.

The definition errors come from the C++ engine (re-exported here so users can
catch them without importing ``_engine``); the rest belong to running and
reproducing pipelines.
"""

from __future__ import annotations

from ._engine import (
    CycleError,
    DuplicateNodeError,
    DuplicateOutputError,
    MissingInputError,
    PipelineError,
    SelectionError,
    StateError,
)

__all__ = [
    "CycleError",
    "DuplicateNodeError",
    "DuplicateOutputError",
    "MissingInputError",
    "NodeOutputError",
    "PipelineError",
    "PipelineNotFound",
    "ReadFileError",
    "RunError",
    "SelectionError",
    "StateError",
    "UnknownParamError",
]


class UnknownParamError(PipelineError):
    """A run was given a parameter the pipeline does not declare, or a node reads one."""


class ReadFileError(PipelineError):
    """A file a node declares in ``reads=`` is missing (or matches nothing) or cannot be read."""


class PipelineNotFound(LookupError):
    """No pipeline is registered (or importable) under the requested reference."""


class RunError(RuntimeError):
    """A run cannot be started, retried, reproduced or cancelled as asked."""


class NodeOutputError(TypeError):
    """A node function returned something that does not match its declared outputs."""
