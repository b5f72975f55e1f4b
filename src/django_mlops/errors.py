"""Exceptions raised by django-mlops.

The definition errors come from the C++ engine (re-exported here so users can
catch them without importing ``_engine``); the rest belong to running and
reproducing pipelines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    "ParamFieldError",
    "ParamValidationError",
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


@dataclass(frozen=True, slots=True)
class ParamFieldError:
    """One param's problem: its name and a message that names it."""

    param: str
    message: str


class ParamValidationError(UnknownParamError):
    """Params given to a run were refused; ``errors`` has one entry per field.

    Its text is one line per field, so a command line prints it as is and an
    API answers 422 from ``errors``.
    """

    def __init__(self, errors: Sequence[ParamFieldError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(e.message for e in self.errors))

    def __reduce__(self) -> tuple[type[ParamValidationError], tuple[list[ParamFieldError]]]:
        # Exceptions pickle their str args by default; this one is rebuilt from its fields.
        return type(self), (self.errors,)


class ReadFileError(PipelineError):
    """A file a node declares in ``reads=`` is missing (or matches nothing) or cannot be read."""


class PipelineNotFound(LookupError):
    """No pipeline is registered (or importable) under the requested reference."""


class RunError(RuntimeError):
    """A run cannot be started, retried, reproduced or cancelled as asked."""


class NodeOutputError(TypeError):
    """A node function returned something that does not match its declared outputs."""
