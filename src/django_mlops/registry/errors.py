"""Errors and warnings of the model registry.

Each one maps to one HTTP answer for the endpoints built on top: not found (404),
input invalid (422 with per-field messages), integrity (a refused artifact: 500
is wrong, the operator must act, so the endpoints answer 409/503 and log it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

__all__ = [
    "AliasPermissionError",
    "FieldError",
    "InputValidationError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "ModelVersionWarning",
    "RegistryError",
]


class RegistryError(Exception):
    """Base class of the registry's errors."""


class ModelNotFoundError(RegistryError, LookupError):
    """No registered model, version or alias by that name."""


class ModelIntegrityError(RegistryError):
    """A model's stored bytes are missing or do not match its recorded SHA-256: refused."""


class AliasPermissionError(PermissionDenied):
    """The user may not point this model's aliases (``django_mlops.promote_model``)."""


class ModelVersionWarning(UserWarning):
    """The serving process has other library versions than the model was trained with."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of one input record (``record`` is None for the batch)."""

    record: int | None
    field: str | None
    message: str
    code: str
    #: The request body's field the problem is in: the records, or an option (``proba``).
    body_field: str = "inputs"

    @property
    def loc(self) -> list[str | int]:
        """Where the problem is, as a path into the request body (``["inputs", 0, "x"]``)."""
        path: list[str | int] = [self.body_field]
        if self.record is not None:
            path.append(self.record)
        if self.field is not None:
            path.append(self.field)
        return path

    def as_dict(self) -> dict[str, object]:
        """The problem in the shape of a 422 body's ``detail`` item."""
        return {"loc": self.loc, "msg": self.message, "type": self.code}


class InputValidationError(RegistryError, ValueError):
    """A batch of inputs that does not match the model's signature; ``errors`` says where.

    >>> error = InputValidationError([FieldError(0, "x", "field required", "missing")])
    >>> error.by_field()
    {'inputs.0.x': ['field required']}
    """

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        shown = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.message}" for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"the inputs do not match the model's signature: {shown}{more}")

    def by_field(self) -> dict[str, list[str]]:
        """The messages grouped by dotted location (``inputs.3.petal_width``)."""
        grouped: dict[str, list[str]] = {}
        for error in self.errors:
            grouped.setdefault(".".join(map(str, error.loc)), []).append(error.message)
        return grouped

    def as_dicts(self) -> list[dict[str, object]]:
        """Every problem as a 422 ``detail`` item (``loc``, ``msg``, ``type``)."""
        return [error.as_dict() for error in self.errors]
