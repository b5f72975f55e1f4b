"""Code hashes of node functions: their own code and what they use from the project.

A node's hash must change when anything it runs changes, and only then:

* its own code, normalised through the AST (comments, blank lines, docstrings and
  decorator lines do not count); bytecode when the source is unavailable;
* what it uses from the user's project, followed transitively: global functions
  and classes (with their methods), module constants, closure cells, default
  argument values, attributes of project modules it reads (``helpers.clean``);
* third-party and standard-library objects count only by their package name:
  their versions are recorded per run (``Run.packages``).

The per-code-object part (reading and parsing source) is cached; the walk over
references is redone on every call, because a reloaded helper module changes
what an unchanged function uses.
"""

from __future__ import annotations

import ast
import builtins
import enum
import functools
import hashlib
import inspect
import site
import sys
import sysconfig
import textwrap
import threading
import types
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["code_hash", "is_project_module"]

_MAX_REPR_DEPTH = 6
_LIBRARY = "django_mlops"
_own_cache: dict[int, tuple[Any, str]] = {}  # id(code or class) -> (object kept alive, digest)
_cache_lock = threading.Lock()


@functools.cache
def _library_roots() -> tuple[str, ...]:
    # Install locations only, not sys.prefix: a project may live under /usr/src.
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    roots |= set(site.getsitepackages()) | {site.getusersitepackages()}
    return tuple(sorted(str(Path(r).resolve()) for r in roots))


@functools.lru_cache(maxsize=4096)
def is_project_module(name: str) -> bool:
    """Whether module ``name`` is the user's code (not stdlib, site-packages or this library)."""
    if name == "__main__":
        return True
    if name.split(".")[0] == _LIBRARY or name in sys.builtin_module_names:
        return False
    module = sys.modules.get(name)
    filename = getattr(module, "__file__", None)
    if not filename:
        return False
    path = str(Path(filename).resolve())
    return not any(path.startswith(root + "/") or path == root for root in _library_roots())


def _module_of(obj: Any) -> str:
    return str(getattr(obj, "__module__", None) or "")


def _strip(tree: ast.AST) -> ast.AST:
    """Remove docstrings; decorators of the outermost function are removed by the caller."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _source_digest(obj: Any, *, drop_decorators: bool) -> str | None:
    try:
        lines, _ = inspect.getsourcelines(obj)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    if not tree.body:
        return None
    top = tree.body[0]
    if not isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return None  # a lambda inside a larger statement: the bytecode is more precise
    if drop_decorators:
        top.decorator_list = []
    dumped = ast.dump(_strip(top), annotate_fields=False, include_attributes=False)
    return hashlib.sha256(dumped.encode()).hexdigest()


def _bytecode_digest(code: types.CodeType) -> str:
    digest = hashlib.sha256(sys.version.split()[0].encode())
    digest.update(code.co_code)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            digest.update(_bytecode_digest(const).encode())
        else:
            digest.update(_stable_repr(const).encode())
    for names in (code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars):
        digest.update(repr(names).encode())
    return digest.hexdigest()


def _cached(key_obj: Any, compute: Callable[[], str]) -> str:
    with _cache_lock:
        hit = _own_cache.get(id(key_obj))
    if hit is not None and hit[0] is key_obj:
        return hit[1]
    digest = compute()
    with _cache_lock:
        _own_cache[id(key_obj)] = (key_obj, digest)
    return digest


def _function_digest(func: types.FunctionType) -> str:
    code = func.__code__

    def compute() -> str:
        if func.__name__ != "<lambda>":
            # The code object, not the function: getsource would follow __wrapped__.
            found = _source_digest(code, drop_decorators=True)
            if found is not None:
                return found
        return _bytecode_digest(code)

    return _cached(code, compute)


def _class_digest(cls: type) -> str:
    def compute() -> str:
        found = _source_digest(cls, drop_decorators=False)
        if found is not None:
            return found
        parts = []
        for name, value in sorted(vars(cls).items()):
            func = _underlying_function(value)
            parts.append(f"{name}:{_function_digest(func) if func else _stable_repr(value)}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    return _cached(cls, compute)


def _underlying_function(value: Any) -> types.FunctionType | None:
    if isinstance(value, staticmethod | classmethod):
        value = value.__func__
    if isinstance(value, types.FunctionType):
        return value
    return None


def _code_names(code: types.CodeType) -> set[str]:
    """Global and attribute names used by ``code`` and the functions nested in it."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _stable_repr(value: Any, depth: int = 0) -> str:
    """A repr that is the same across processes (sets sorted, no addresses)."""
    if depth > _MAX_REPR_DEPTH:
        return "…"
    if value is None or isinstance(value, bool | int | float | complex | str | bytes):
        return repr(value)
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, tuple | list):
        inner = ",".join(_stable_repr(v, depth + 1) for v in value)
        return f"{type(value).__name__}({inner})"
    if isinstance(value, set | frozenset):
        inner = ",".join(sorted(_stable_repr(v, depth + 1) for v in value))
        return f"{type(value).__name__}({inner})"
    if isinstance(value, dict):
        items = sorted(
            f"{_stable_repr(k, depth + 1)}:{_stable_repr(v, depth + 1)}" for k, v in value.items()
        )
        return "dict(" + ",".join(items) + ")"
    if isinstance(value, types.CodeType):
        return "code:" + _bytecode_digest(value)
    array_bytes = getattr(value, "tobytes", None)
    if callable(array_bytes) and hasattr(value, "dtype") and hasattr(value, "shape"):
        try:
            digest = hashlib.sha256(array_bytes()).hexdigest()
            return f"array({value.dtype},{value.shape},{digest})"
        except (TypeError, ValueError):
            pass
    return f"<{_module_of(type(value))}.{type(value).__qualname__}>"


class _Walk:
    """One breadth-first walk from a function over the project objects it uses."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.queue: deque[Any] = deque()
        self.seen: dict[int, str] = {}

    def reach(self, obj: Any) -> str:
        """A token for ``obj``; project functions and classes are queued for a visit."""
        if id(obj) in self.seen:
            return self.seen[id(obj)]
        token = f"#{len(self.seen)}:{getattr(obj, '__qualname__', '?')}"
        self.seen[id(obj)] = token
        self.queue.append(obj)
        return token

    def describe(self, value: Any, names: set[str], depth: int = 0) -> str:
        """What a referenced value contributes to the hash."""
        if isinstance(value, list | tuple | set | frozenset | dict) and depth < _MAX_REPR_DEPTH:
            # Containers may hold project functions (a dispatch table): follow them.
            if isinstance(value, dict):
                items = sorted(
                    f"{_stable_repr(k)}:{self.describe(v, names, depth + 1)}"
                    for k, v in value.items()
                )
            else:
                items = [self.describe(v, names, depth + 1) for v in value]
                if isinstance(value, set | frozenset):
                    items.sort()
            return f"{type(value).__name__}(" + ",".join(items) + ")"
        if isinstance(value, types.MethodType):
            value = value.__func__
        if isinstance(value, functools.partial):
            return (
                f"partial({self.describe(value.func, names)},"
                f"{_stable_repr(value.args)},{_stable_repr(value.keywords)})"
            )
        if isinstance(value, types.ModuleType):
            if not is_project_module(value.__name__):
                return f"module:{value.__name__.split('.')[0]}"
            # A project module: what this code reads from it (``helpers.clean``).
            used = sorted(n for n in names if n in vars(value))
            attrs = [f"{n}={self.describe(getattr(value, n), names)}" for n in used]
            return "project-module(" + ",".join(attrs) + ")"
        if isinstance(value, types.FunctionType | type):
            if is_project_module(_module_of(value)):
                return self.reach(value)
            return f"lib:{_module_of(value).split('.')[0]}.{getattr(value, '__qualname__', '')}"
        if callable(value) and not is_project_module(_module_of(type(value))):
            return f"lib:{_module_of(value).split('.')[0] or _module_of(type(value))}"
        if is_project_module(_module_of(type(value))):
            # An instance of a project class: the class, and its state if it is plain data.
            state = getattr(value, "__dict__", None)
            return f"instance({self.reach(type(value))},{_stable_repr(state)})"
        return _stable_repr(value)

    def visit_function(self, func: types.FunctionType) -> None:
        code = func.__code__
        names = _code_names(code)
        refs = [f"code={_function_digest(func)}"]
        scope = func.__globals__
        for name in sorted(names):
            if name in scope:
                refs.append(f"{name}={self.describe(scope[name], names)}")
            elif not hasattr(builtins, name):
                refs.append(f"{name}=?")  # not defined yet: defining it later changes the hash
        for name, cell in zip(code.co_freevars, func.__closure__ or (), strict=True):
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell (a name assigned after the inner def)
                refs.append(f"cell:{name}=<empty>")
                continue
            refs.append(f"cell:{name}={self.describe(contents, names)}")
        if func.__defaults__:
            refs.append(f"defaults={[self.describe(v, names) for v in func.__defaults__]}")
        if func.__kwdefaults__:
            kw = sorted((k, self.describe(v, names)) for k, v in func.__kwdefaults__.items())
            refs.append(f"kwdefaults={kw}")
        wrapped = getattr(func, "__wrapped__", None)
        if wrapped is not None:
            refs.append(f"wraps={self.describe(wrapped, names)}")
        self.lines.append(f"{self.seen[id(func)]} " + ";".join(refs))

    def visit_class(self, cls: type) -> None:
        refs = [f"code={_class_digest(cls)}"]
        for base in cls.__bases__:
            refs.append(f"base={self.describe(base, set())}")
        for name, value in sorted(vars(cls).items()):
            for func in self._methods(value):
                refs.append(f"{name}={self.reach(func)}")
        self.lines.append(f"{self.seen[id(cls)]} " + ";".join(refs))

    @staticmethod
    def _methods(value: Any) -> Iterator[types.FunctionType]:
        if isinstance(value, property):
            candidates = [value.fget, value.fset, value.fdel]
        else:
            candidates = [_underlying_function(value)]
        yield from (f for f in candidates if isinstance(f, types.FunctionType))

    def run(self, root: types.FunctionType) -> str:
        self.reach(root)
        while self.queue:
            obj = self.queue.popleft()
            if isinstance(obj, type):
                self.visit_class(obj)
            else:
                self.visit_function(obj)
        return hashlib.sha256("\n".join(self.lines).encode()).hexdigest()


def code_hash(func: Callable[..., Any]) -> str:
    """SHA-256 hex of ``func``'s code and of the project code it uses, transitively.

    Methods and ``functools.partial`` objects hash their underlying function; other
    callables hash their class's ``__call__``.
    """
    if isinstance(func, types.MethodType):
        func = func.__func__
    if isinstance(func, functools.partial):
        inner = code_hash(func.func)
        extra = _stable_repr(func.args) + _stable_repr(func.keywords)
        return hashlib.sha256(f"{inner}|{extra}".encode()).hexdigest()
    if not isinstance(func, types.FunctionType):
        call = vars(type(func)).get("__call__")
        if isinstance(call, types.FunctionType):
            return code_hash(call)
        return hashlib.sha256(f"lib:{_module_of(func)}".encode()).hexdigest()
    return _Walk().run(func)
