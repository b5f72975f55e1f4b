"""A staticfiles finder that serves plotly.js from the installed ``plotly`` package.

The experiments pages draw their charts with Plotly. Its JavaScript ships inside the
Python package (``plotly/package_data/plotly.min.js``); this finder exposes that one file
as the static path ``mlops/vendor/plotly.min.js``, so ``runserver`` serves it and
``collectstatic`` copies it, and nothing is copied into this repository or fetched from a
CDN. Add it to ``STATICFILES_FINDERS`` (system check ``django_mlops.W040`` says so)::

    STATICFILES_FINDERS = [
        "django.contrib.staticfiles.finders.FileSystemFinder",
        "django.contrib.staticfiles.finders.AppDirectoriesFinder",
        "django_mlops.staticfinders.PlotlyFinder",
    ]
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

__all__ = ["PLOTLY_STATIC_PATH", "PlotlyFinder", "plotly_js_file"]

#: Where the pages find plotly.js: ``{% static "mlops/vendor/plotly.min.js" %}``.
PLOTLY_STATIC_PATH = "mlops/vendor/plotly.min.js"
_PREFIX = "mlops/vendor"


def plotly_js_file() -> Path | None:
    """The installed ``plotly.min.js``, or None when the plotly package is missing."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return candidate if candidate.is_file() else None


class PlotlyFinder(BaseFinder):
    """Finds exactly one file, ``mlops/vendor/plotly.min.js``, in the plotly package."""

    def _storage(self) -> FileSystemStorage | None:
        found = plotly_js_file()
        if found is None:
            return None
        storage = FileSystemStorage(location=str(found.parent))
        # collectstatic reads the prefix to place the file under mlops/vendor/.
        storage.prefix = _PREFIX  # type: ignore[attr-defined]
        return storage

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        """The file's absolute path for ``mlops/vendor/plotly.min.js`` (else no match).

        ``find_all`` asks for a list (Django 5.2 renamed ``all``; both are accepted).
        """
        found = plotly_js_file() if path == PLOTLY_STATIC_PATH else None
        as_list = find_all or kwargs.get("all", False)
        if found is None:
            return [] if as_list else None
        return [str(found)] if as_list else str(found)

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        """The one file for collectstatic, with a storage whose prefix places it."""
        storage = self._storage()
        if storage is not None:
            yield "plotly.min.js", storage
