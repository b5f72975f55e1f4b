"""Which library versions a model was trained with, and how the serving process differs.

The libraries are the distributions of the model's own classes (walked through
scikit-learn's ``get_params`` for pipelines and ensembles) plus the numeric stack
every pickled estimator depends on. The versions come from the process's
installed distributions, read once (``records.environment.installed_packages``).
"""

from __future__ import annotations

import functools
import sys
from importlib import metadata
from typing import Any

from ..records.environment import installed_packages

__all__ = ["model_libraries", "version_mismatches"]

# Always relevant to a pickled numeric model, when installed.
_BASE = ("numpy", "scipy", "scikit-learn", "joblib", "pandas")
_MAX_OBJECTS = 2000  # a bound on the walk through nested estimators


def _normal(name: str) -> str:
    return name.lower().replace("_", "-")


@functools.cache
def _distributions_of_module() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def _modules(model: Any) -> set[str]:
    """Top-level modules of the model's class and of the estimators nested in it."""
    found: set[str] = set()
    pending, seen = [model], 0
    while pending and seen < _MAX_OBJECTS:
        value = pending.pop()
        seen += 1
        module = type(value).__module__.split(".")[0]
        if module != "builtins":
            found.add(module)
        get_params = getattr(value, "get_params", None)
        if callable(get_params) and not isinstance(value, type):
            try:
                params = get_params(deep=False)
            except Exception:  # a duck-typed object whose get_params wants arguments
                continue
            for item in params.values():
                if isinstance(item, list | tuple):
                    pending.extend(x[-1] if isinstance(x, tuple) else x for x in item)
                elif hasattr(item, "get_params"):
                    pending.append(item)
    return found


def model_libraries(model: Any, extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Distribution -> version for the libraries ``model`` (and ``extra``) need, plus ``python``."""
    installed = installed_packages()
    names = {_normal(n) for n in (*_BASE, *extra)}
    mapping = _distributions_of_module()
    for module in _modules(model):
        names.update(_normal(d) for d in mapping.get(module, ()))
    found = {name: installed[name] for name in sorted(names) if name in installed}
    found["python"] = sys.version.split()[0]
    return found


def version_mismatches(libraries: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """Library -> (trained with, installed now) for every library whose version differs.

    Python counts by minor version only (3.11.4 and 3.11.9 read the same pickles).
    """
    installed = installed_packages()
    current_python = ".".join(sys.version.split()[0].split(".")[:2])
    differences: dict[str, tuple[str, str | None]] = {}
    for name, trained in libraries.items():
        if name == "python":
            if ".".join(trained.split(".")[:2]) != current_python:
                differences[name] = (trained, sys.version.split()[0])
            continue
        now = installed.get(name)
        if now != trained:
            differences[name] = (trained, now)
    return differences
