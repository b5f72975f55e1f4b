"""Pipelines by name, so the CLI, the site and worker processes find them again.

A module that is imported again (tests reload modules, autoreload) redefines its
pipelines: the newer definition wins. Two modules claiming one name is a bug,
except inside :func:`replacing_registrations`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .errors import PipelineError

if TYPE_CHECKING:
    from .pipeline import Pipeline

__all__ = ["all_registered", "register", "registered", "replacing_registrations"]

_registry: dict[str, Pipeline] = {}
_registry_lock = threading.Lock()


def registered(name: str) -> Pipeline | None:
    """The pipeline registered under ``name``, or None."""
    return _registry.get(name)


def all_registered() -> list[Pipeline]:
    """Every registered pipeline, sorted by name."""
    return sorted(_registry.values(), key=lambda p: p.name)


_replacing = threading.local()


@contextlib.contextmanager
def replacing_registrations() -> Iterator[None]:
    """Within the block, a pipeline replaces another module's pipeline of the same name.

    For a file loaded by its path (``mlops retry`` of a run from ``a/p.py`` while
    ``b/p.py`` defined a pipeline of the same name): the file asked for wins.
    """
    before = getattr(_replacing, "active", False)
    _replacing.active = True
    try:
        yield
    finally:
        _replacing.active = before


def register(pipeline: Pipeline) -> None:
    """Register ``pipeline`` under its name (a newer definition of one module wins)."""
    with _registry_lock:
        existing = _registry.get(pipeline.name)
        # A module that is imported again (tests reload modules, autoreload) redefines
        # its pipelines: the newer definition wins. Two modules claiming one name is a bug.
        replacing = getattr(_replacing, "active", False)
        if existing is not None and existing.module != pipeline.module and not replacing:
            raise PipelineError(
                f"pipeline name '{pipeline.name}' is already defined in module "
                f"'{existing.module}' (redefined in '{pipeline.module}')"
            )
        _registry[pipeline.name] = pipeline
