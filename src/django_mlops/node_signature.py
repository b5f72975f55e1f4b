"""Checking at definition that a node's function can take its declared inputs.

A node calls its function with one positional argument per input, so the
function's positional parameters must cover the inputs: every parameter without
a default gets an input, no input is left without a parameter (unless the
function takes ``*args``), and no keyword-only parameter lacks a default. A
mismatch is a definition error naming the node and the parameters, rather than
a ``TypeError`` when the run reaches the node.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import PipelineError

__all__ = ["check_inputs", "positional_names"]


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a function's signature accepts, reduced to what a node call needs."""

    required: tuple[str, ...]  # positional, no default
    optional: tuple[str, ...]  # positional, with a default
    var_positional: str | None  # the name of *args
    var_keyword: str | None  # the name of **kwargs
    keyword_only_required: tuple[str, ...]
    text: str  # e.g. "f(x, y=3)", for messages


# One analysis per function: pipelines often add one function as many nodes, and
# inspect.signature costs more than the rest of adding a node. Weak, so notebooks
# that redefine functions do not keep the old ones alive.
_shapes: weakref.WeakKeyDictionary[Any, _Shape | None] = weakref.WeakKeyDictionary()


def _analyse(func: Callable[..., Any]) -> _Shape | None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # some builtins have no signature: nothing to check
        return None
    required: list[str] = []
    optional: list[str] = []
    keyword_only: list[str] = []
    var_positional = var_keyword = None
    for p in signature.parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            var_positional = p.name
        elif p.kind == p.VAR_KEYWORD:
            var_keyword = p.name
        elif p.kind == p.KEYWORD_ONLY:
            if p.default is p.empty:
                keyword_only.append(p.name)
        elif p.default is p.empty:
            required.append(p.name)
        else:
            optional.append(p.name)
    bare = signature.replace(
        parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
        return_annotation=signature.empty,
    )
    name = getattr(func, "__name__", type(func).__name__)
    return _Shape(
        tuple(required),
        tuple(optional),
        var_positional,
        var_keyword,
        tuple(keyword_only),
        f"{name}{bare}",
    )


def _shape(func: Callable[..., Any]) -> _Shape | None:
    try:
        return _shapes[func]
    except KeyError:
        shape = _shapes[func] = _analyse(func)
        return shape
    except TypeError:  # not weakly referenceable (a bound method is made per access)
        return _analyse(func)


def positional_names(func: Callable[..., Any], node: str) -> tuple[str, ...]:
    """The input names a node gets when none are declared: its positional parameter names."""
    shape = _shape(func)
    if shape is None:
        raise PipelineError(f"node '{node}': cannot read the parameters of {func!r}; pass inputs")
    if shape.var_positional is not None or shape.var_keyword is not None:
        star = (
            f"*{shape.var_positional}"
            if shape.var_positional is not None
            else f"**{shape.var_keyword}"
        )
        raise PipelineError(f"node '{node}': cannot infer inputs from {star}; pass inputs=[...]")
    return shape.required + shape.optional


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def check_inputs(func: Callable[..., Any], inputs: Sequence[str], node: str) -> None:
    """Raise :class:`PipelineError` unless ``func(*inputs)`` fits the function's parameters."""
    shape = _shape(func)
    if shape is None:
        return
    if shape.keyword_only_required:
        names = shape.keyword_only_required
        raise PipelineError(
            f"node '{node}': its function {shape.text} has keyword-only parameter"
            f"{'s' if len(names) > 1 else ''} {_quoted(names)} with no default, but a node "
            "passes its inputs by position; give a default or make it positional"
        )
    given = len(inputs)
    low = len(shape.required)
    high = None if shape.var_positional is not None else low + len(shape.optional)
    if low <= given and (high is None or given <= high):
        return
    if high is None:
        takes = f"at least {low} parameter{'s' if low != 1 else ''}"
    elif low == high:
        takes = f"{low} parameter{'s' if low != 1 else ''}"
    else:
        takes = f"{low} to {high} parameters"
    declared = f"{given} input{'s' if given != 1 else ''} {list(inputs)}"
    if given < low:
        missing = shape.required[given:]
        why = f"missing {'inputs' if len(missing) > 1 else 'an input'} for {_quoted(missing)}"
    else:
        why = f"no parameter for input {_quoted(inputs[high or 0 :])}"
    raise PipelineError(
        f"node '{node}' declares {declared} but its function {shape.text} takes {takes}; {why}"
    )
