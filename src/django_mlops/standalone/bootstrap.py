"""Standalone mode: Django configured by django-mlops itself, for the ``mlops`` script.

When ``DJANGO_SETTINGS_MODULE`` names a project's settings, the script behaves like
``manage.py mlops`` in that project (the project migrates its own database). When it
is unset, :func:`setup` uses :mod:`django_mlops.standalone.settings` (SQLite and
artifacts under ``MLOPS_HOME``, default ``./.mlops``) and brings the database up to
date itself, so ``mlops run file.py:name`` works in an empty folder.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "STANDALONE_SETTINGS",
    "SettingsImportError",
    "ensure_configured",
    "migrate_if_needed",
    "setup",
]

STANDALONE_SETTINGS = "django_mlops.standalone.settings"


class SettingsImportError(ImportError):
    """``DJANGO_SETTINGS_MODULE`` names a module that cannot be imported; the message says so."""


def _import_settings(name: str) -> None:
    """Import the settings module first: a wrong name is one clear line, not a traceback."""
    try:
        importlib.import_module(name)
    except (ImportError, SyntaxError) as exc:
        raise SettingsImportError(
            f"DJANGO_SETTINGS_MODULE={name!r} cannot be imported: {exc}"
        ) from None


def _allow_orm_in_notebook_cells() -> None:
    """In an IPython shell or Jupyter kernel, let cells use the ORM directly.

    Kernels run cells inside an event loop, where Django refuses ORM calls unless
    ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set; Django's documentation names notebooks
    as the case for it. Only an interactive IPython session gets it, never a
    server or script (a user's own setting is left as it is).
    """
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if callable(get_ipython) and get_ipython() is not None:
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def ensure_configured() -> None:
    """Make the ORM usable from a plain script, ``python -c`` or a notebook.

    Where Django is already configured (a project, ``manage.py shell``,
    ``settings.configure()``, ``DJANGO_SETTINGS_MODULE``), that configuration is
    used and ``django.setup()`` is called if the apps are not loaded yet. With
    nothing configured, standalone mode is set up as for the ``mlops`` script
    (SQLite and artifacts under ``MLOPS_HOME``, migrations applied).
    """
    from django.apps import apps
    from django.conf import settings

    _allow_orm_in_notebook_cells()
    if apps.ready:
        return
    if settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        import django  # settings.configure() was called: a project set up by hand

        django.setup()
        return
    from ..run.outside_loop import call_outside_event_loop, event_loop_running

    if event_loop_running():  # migrating uses the ORM, which a loop's thread may not
        call_outside_event_loop(setup)
    else:
        setup()


def setup() -> bool:
    """Configure Django for the console script; return True in standalone mode.

    Safe to call twice. Definition errors in discovered ``pipelines`` modules
    propagate (``django.setup()`` runs the app's autodiscovery).
    """
    import django
    from django.apps import apps

    standalone = not os.environ.get("DJANGO_SETTINGS_MODULE")
    if standalone:
        os.environ["DJANGO_SETTINGS_MODULE"] = STANDALONE_SETTINGS
    else:
        standalone = os.environ["DJANGO_SETTINGS_MODULE"] == STANDALONE_SETTINGS
    if not apps.ready:
        _import_settings(os.environ["DJANGO_SETTINGS_MODULE"])
        django.setup()
    if standalone:
        from ..conf import mlops_settings

        home = mlops_settings().HOME
        home.mkdir(parents=True, exist_ok=True)
        migrate_if_needed(home)
    return standalone


def _pending_migrations() -> bool:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return bool(executor.migration_plan(targets))


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` where the platform has ``fcntl``.

    Two ``mlops`` commands started at once in a fresh home would otherwise both
    try to create the tables, and the second would fail.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; a race there is rare and retried by hand
        yield
        return
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate_if_needed(home: Path) -> bool:
    """Apply unapplied migrations quietly; return whether any were applied.

    Reading the migration plan costs a query and no writes, so an up-to-date
    database pays nearly nothing; the lock is taken only when there is work.
    """
    if not _pending_migrations():
        return False
    from django.core.management import call_command

    with _exclusive(home / ".migrate.lock"):
        if not _pending_migrations():  # another process did it while we waited
            return False
        call_command("migrate", verbosity=0, interactive=False)
    return True
