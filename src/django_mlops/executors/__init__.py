"""Executors run node functions: ``inline``, ``threads``, ``processes`` (``celery`` later).

Executors are found by name in a registry of dotted paths, so a project can add
its own through settings (``MLOPS["EXECUTORS"] = {"gpu": "myproject.executors.GpuExecutor"}``)
and pass that mapping to :func:`get_executor`::

    with get_executor("processes", max_workers=4) as executor:
        executor.submit(TaskSpec(run_id=None, node="fit", attempt=1, func=fit,
                                 args=(train,), timeout=600.0))
        outcomes = executor.wait()

Executor modules are imported only when asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from .base import (
    Executor,
    TaskCancelled,
    TaskOutcome,
    TaskSpec,
    TaskTimeout,
    TrackingEvent,
)

__all__ = [
    "BUILTIN_EXECUTORS",
    "Executor",
    "TaskCancelled",
    "TaskOutcome",
    "TaskSpec",
    "TaskTimeout",
    "TrackingEvent",
    "executor_class",
    "get_executor",
]

#: Executor name -> dotted path of its class.
BUILTIN_EXECUTORS: dict[str, str] = {
    "inline": "django_mlops.executors.inline.InlineExecutor",
    "threads": "django_mlops.executors.threads.ThreadExecutor",
    "processes": "django_mlops.executors.processes.ProcessExecutor",
    "celery": "django_mlops.executors.celery.CeleryExecutor",
}

# Names whose module ships with an optional extra; a missing module means the
# extra is not installed (or, for now, not released).
_EXTRAS = {"celery": "celery"}


def executor_class(
    name: str, executors: Mapping[str, str | type[Executor]] | None = None
) -> type[Executor]:
    """The class registered as ``name`` in ``executors`` over :data:`BUILTIN_EXECUTORS`."""
    registry: dict[str, str | type[Executor]] = {**BUILTIN_EXECUTORS, **(executors or {})}
    try:
        target = registry[name]
    except KeyError:
        known = ", ".join(sorted(registry))
        raise ValueError(f"unknown executor {name!r}; known executors: {known}") from None
    if isinstance(target, type):
        cls = target
    else:
        module_name, _, attr = target.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if name in _EXTRAS and exc.name is not None and module_name.startswith(exc.name):
                extra = _EXTRAS[name]
                raise ImportError(
                    f"the {name!r} executor comes with the {extra} extra "
                    f"(pip install 'django-mlops[{extra}]'), which is not available here"
                ) from exc
            raise ImportError(f"executor {name!r}: cannot import {module_name!r} ({exc})") from exc
        try:
            cls = getattr(module, attr)
        except AttributeError:
            raise ImportError(f"executor {name!r}: {module_name!r} has no {attr!r}") from None
    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        raise TypeError(f"executor {name!r}: {target!r} is not an Executor subclass")
    return cls


def get_executor(
    name: str,
    max_workers: int | None = None,
    executors: Mapping[str, str | type[Executor]] | None = None,
) -> Executor:
    """A new executor of the kind registered as ``name`` (see :func:`executor_class`).

    ``executors`` maps extra names to dotted paths or classes, usually the
    ``MLOPS["EXECUTORS"]`` setting; it overrides the built-in names.
    """
    return executor_class(name, executors)(max_workers)
