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
import types
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


# inspect.signature costs more than the rest of adding a node (~100 us): a plain
# function is read from its code object instead, and anything else is analysed
# once per callable. Weak, so notebooks that redefine functions do not keep the
# old ones alive.
_shapes: weakref.WeakKeyDictionary[Any, _Shape | None] = weakref.WeakKeyDictionary()


_STAR_FLAGS = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS


def _code_shape(func: types.FunctionType) -> _Shape:
    """The shape of a plain function, from its code object and defaults."""
    code = func.__code__
    names = code.co_varnames
    count = code.co_argcount  # positional-only included
    defaults = len(func.__defaults__ or ())
    end = count + code.co_kwonlyargcount
    keyword_defaults = func.__kwdefaults__ or {}
    var_positional = var_keyword = None
    if code.co_flags & inspect.CO_VARARGS:
        var_positional = names[end]
        end += 1
    if code.co_flags & inspect.CO_VARKEYWORDS:
        var_keyword = names[end]
    return _Shape(
        names[: count - defaults],
        names[count - defaults : count],
        var_positional,
        var_keyword,
        tuple(
            n for n in names[count : count + code.co_kwonlyargcount] if n not in keyword_defaults
        ),
    )


def _signature_text(func: Callable[..., Any]) -> str:
    """``f(x, y=3)``: the signature without annotations, for messages."""
    name = getattr(func, "__name__", type(func).__name__)
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return f"{name}(...)"
    bare = signature.replace(
        parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
        return_annotation=signature.empty,
    )
    return f"{name}{bare}"


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
    return _Shape(
        tuple(required), tuple(optional), var_positional, var_keyword, tuple(keyword_only)
    )


def _analyse_any(func: Callable[..., Any]) -> _Shape | None:
    # A decorated function (functools.wraps) is called through its wrapper, but
    # what it accepts is the wrapped signature, which inspect follows.
    if type(func) is types.FunctionType and not hasattr(func, "__wrapped__"):
        return _code_shape(func)
    return _analyse(func)


def _shape(func: Callable[..., Any]) -> _Shape | None:
    try:
        return _shapes[func]
    except KeyError:
        shape = _shapes[func] = _analyse_any(func)
        return shape
    except TypeError:  # not weakly referenceable (a bound method is made per access)
        return _analyse_any(func)


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
    if type(func) is types.FunctionType and "__wrapped__" not in func.__dict__:
        # The common case in a few attribute reads: a plain function with only
        # positional parameters (adding 10k nodes should not cost 10k analyses).
        code = func.__code__
        if not code.co_kwonlyargcount and not code.co_flags & _STAR_FLAGS:
            count = code.co_argcount
            if count - len(func.__defaults__ or ()) <= len(inputs) <= count:
                return
    shape = _shape(func)
    if shape is None:
        return
    if shape.keyword_only_required:
        names = shape.keyword_only_required
        raise PipelineError(
            f"node '{node}': its function {_signature_text(func)} has keyword-only parameter"
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
    text = _signature_text(func)
    raise PipelineError(
        f"node '{node}' declares {declared} but its function {text} takes {takes}; {why}"
    )
