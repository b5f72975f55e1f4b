"""Typed pipeline params: their declarations, and the one check every way in goes through.

A param's type comes from its default (``{"C": 1.0}`` is a float) or from a
:class:`Param` declaration, which can also give choices, bounds and help text::

    Pipeline("iris", params={"C": Param(1.0, minimum=0.0), "solver": Param("lbfgs",
             choices=["lbfgs", "saga"]), "seed": 0})

:func:`validate_params` coerces given values to those types and refuses the rest
with one error per field. Values come as JSON (the API, ``pipeline.run(params=...)``)
or as text a user typed (``--param C=1``, a form field): a text is read the way
the param's type reads it, so ``C=1`` is the float ``1.0`` and caches as the default.
"""

from __future__ import annotations

import builtins
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from .errors import ParamFieldError, ParamValidationError, PipelineError

if TYPE_CHECKING:
    from .pipeline import Pipeline

__all__ = ["REQUIRED", "Param", "ParamText", "declare_params", "validate_params"]


class _Required:
    """The default of a param that has none: a run must give it."""

    def __repr__(self) -> str:
        return "REQUIRED"


#: The ``default`` of a :class:`Param` that every run must give.
REQUIRED: Final = _Required()

# The types a param can have, by the word used in messages.
_TYPE_WORDS: dict[builtins.type, str] = {
    bool: "a boolean (true/false)",
    int: "an integer",
    float: "a float",
    str: "a string",
    list: "a JSON list",
    dict: "a JSON object",
}
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


class ParamText(str):
    """A param value as a user typed it (``--param K=V``): read by the param's type."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Param:
    """A param declaration: a default (or none: required) and what values are allowed.

    ``type`` is taken from the default when not given (then from the choices or
    bounds); one of int, float, bool, str, list, dict, or None for any JSON value.
    ``minimum``/``maximum`` are inclusive bounds for numbers. ``help`` is shown by
    the website's run form.

    >>> Param(1.0, minimum=0.0, help="inverse regularisation strength").type
    <class 'float'>
    """

    default: Any = REQUIRED
    choices: Sequence[Any] | None = field(default=None, kw_only=True)
    minimum: float | None = field(default=None, kw_only=True)
    maximum: float | None = field(default=None, kw_only=True)
    help: str = field(default="", kw_only=True)
    type: builtins.type | None = field(default=None, kw_only=True)

    @property
    def required(self) -> bool:
        """Whether a run must give this param (it has no default)."""
        return self.default is REQUIRED

    @property
    def type_name(self) -> str:
        """The type as a word for forms and schemas: ``"float"``, ``"list"``, ... or ``"any"``."""
        return self.type.__name__ if self.type is not None else "any"

    def as_json(self) -> dict[str, Any]:
        """The declaration as JSON values (what an API schema or a form needs)."""
        return {
            "type": self.type_name,
            "required": self.required,
            "default": None if self.required else self.default,
            "choices": list(self.choices) if self.choices is not None else None,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "help": self.help,
        }


def _type_of(value: Any) -> builtins.type | None:
    for candidate in _TYPE_WORDS:  # bool first: True is an int to isinstance
        if isinstance(value, candidate):
            return candidate
    return list if isinstance(value, tuple) else None


def _infer_type(spec: Param) -> builtins.type | None:
    samples = [] if spec.required or spec.default is None else [spec.default]
    samples += [*(spec.choices or ()), spec.minimum, spec.maximum]
    kinds = [kind for kind in map(_type_of, samples) if kind is not None]
    if not kinds:
        return None  # a None default or a value of another type: taken as given
    # Param(1, maximum=10.0) is a float param: an int among floats is a float.
    if kinds[0] is int and float in kinds:
        return float
    return kinds[0]


def _declare(pipeline: str, name: str, declared: Any) -> Param:
    spec = declared if isinstance(declared, Param) else Param(declared)
    where = f"pipeline '{pipeline}': param '{name}'"
    if spec.type is not None and spec.type not in _TYPE_WORDS:
        raise PipelineError(
            f"{where}: type must be int, float, bool, str, list or dict, got {spec.type!r}"
        )
    kind = spec.type or _infer_type(spec)
    if (spec.minimum is not None or spec.maximum is not None) and kind not in (int, float):
        raise PipelineError(f"{where}: minimum/maximum need a number type, not {kind!r}")
    if spec.minimum is not None and spec.maximum is not None and spec.minimum > spec.maximum:
        raise PipelineError(f"{where}: minimum {spec.minimum} is above maximum {spec.maximum}")
    typed = replace(spec, type=kind)
    try:
        if spec.choices is not None:
            choices = tuple(_coerce(name, typed, c) for c in spec.choices)
            if not choices:
                raise PipelineError(f"{where}: choices must not be empty")
            typed = replace(typed, choices=choices)
        if not typed.required:
            typed = replace(typed, default=_checked(name, typed, typed.default))
    except _FieldError as exc:
        raise PipelineError(f"pipeline '{pipeline}': {exc.message} (in its declaration)") from None
    return typed


def declare_params(pipeline: str, params: Mapping[str, Any] | None) -> dict[str, Param]:
    """Each param of a pipeline as a typed :class:`Param`; a bad declaration is an error."""
    specs = {}
    for name, declared in (params or {}).items():
        if not isinstance(name, str) or not name:
            raise PipelineError(f"pipeline '{pipeline}': param names are strings, got {name!r}")
        specs[name] = _declare(pipeline, name, declared)
    return specs


class _FieldError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _wrong(name: str, kind: builtins.type, value: Any) -> _FieldError:
    return _FieldError(f"param '{name}' must be {_TYPE_WORDS[kind]}, got {value!r}")


def _from_text(name: str, kind: builtins.type | None, text: str) -> Any:
    """A typed text read as the param's type reads it."""
    if kind is None:  # no type to go by: JSON when it parses (1, 0.5, [1, 2]), else the text
        try:
            return json.loads(text)
        except ValueError:
            return str(text)
    if kind is str:
        return str(text)
    word = text.strip()
    if kind is bool:
        if word.lower() in _TRUE:
            return True
        if word.lower() in _FALSE:
            return False
        raise _wrong(name, kind, str(text))
    try:
        if kind is int:
            return int(word)
        if kind is float:
            return float(word)
        value = json.loads(word)
    except ValueError:
        raise _wrong(name, kind, str(text)) from None
    if not isinstance(value, kind):
        raise _wrong(name, kind, str(text))
    return value


def _coerce(name: str, spec: Param, value: Any, *, text: bool = False) -> Any:
    """``value`` as the param's type, or a :class:`_FieldError` saying what was expected."""
    kind = spec.type
    if isinstance(value, ParamText) or (text and isinstance(value, str)):
        value = _from_text(name, kind, value)
    elif kind is not None and kind is not str and isinstance(value, str):
        # A JSON client or a form may send every value as a string: read it as typed text.
        value = _from_text(name, kind, value)
    if kind is None:
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)  # 1 and 1.0 are one float param value (one cache key)
    elif kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON numbers: a client may send 3.0 for 3
    elif kind is list and isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        raise _wrong(name, kind, value)
    if isinstance(value, float) and not math.isfinite(value):
        raise _FieldError(f"param '{name}' must be a finite float, got {value!r}")
    return value


def _checked(name: str, spec: Param, value: Any, *, text: bool = False) -> Any:
    """Coerced, then held to the declaration's choices and bounds."""
    value = _coerce(name, spec, value, text=text)
    if spec.choices is not None and value not in spec.choices:
        allowed = ", ".join(repr(c) for c in spec.choices)
        raise _FieldError(f"param '{name}' must be one of {allowed}, got {value!r}")
    if spec.minimum is not None and value < spec.minimum:
        raise _FieldError(f"param '{name}' must be >= {spec.minimum}, got {value!r}")
    if spec.maximum is not None and value > spec.maximum:
        raise _FieldError(f"param '{name}' must be <= {spec.maximum}, got {value!r}")
    return value


def validate_params(
    pipeline: Pipeline, given: Mapping[str, Any] | None, *, from_text: bool = False
) -> dict[str, Any]:
    """The run's params: defaults overlaid by ``given``, each coerced to its type.

    Every problem is collected (an unknown name, a wrong type, a value outside
    the choices or bounds, a required param left out) and raised together as
    :class:`~django_mlops.errors.ParamValidationError`, one field per problem.
    With ``from_text`` every str value is text a user typed (a form's fields),
    as :class:`ParamText` values always are.

    >>> validate_params(Pipeline("p", params={"C": 1.0}), {"C": ParamText("1")})
    {'C': 1.0}
    """
    specs = pipeline.param_specs
    resolved: dict[str, Any] = {}
    errors: list[ParamFieldError] = []
    given = given or {}
    for key, value in given.items():
        spec = specs.get(key)
        if spec is None:
            known = ", ".join(sorted(specs)) or "none"
            errors.append(
                ParamFieldError(
                    key, f"pipeline '{pipeline.name}' has no param '{key}' (known: {known})"
                )
            )
            continue
        try:
            resolved[key] = _checked(key, spec, value, text=from_text)
        except _FieldError as exc:
            errors.append(ParamFieldError(key, exc.message))
    for key, spec in specs.items():
        if key in given:
            continue
        if spec.required:
            errors.append(
                ParamFieldError(
                    key,
                    f"param '{key}' is required: pipeline '{pipeline.name}' gives it no default",
                )
            )
        else:
            resolved[key] = spec.default
    if errors:
        raise ParamValidationError(errors)
    # Declaration order, whatever order the values came in: records and digests read alike.
    return {key: resolved[key] for key in specs if key in resolved}
