"""Django's database connections in pool threads and worker processes.

Nodes may use the ORM on every executor. Django keeps one connection per thread,
so a pool thread closes the ones it opened when it stops. A forked worker
inherits the parent's open connections, sockets included: using or closing one
there would talk over the parent's socket (closing a PostgreSQL connection sends
a Terminate message that ends the parent's session), so the child forgets them
without touching the socket and opens its own on first use. A spawned worker
starts without Django: :class:`DjangoSetup` carries what it needs to set Django
up with the parent's settings module and databases.

Nothing here imports Django unless the process already uses it.
"""

from __future__ import annotations

import os
import pickle
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["DjangoSetup", "close_thread_connections", "forget_inherited_connections"]

# The inherited connection objects, kept referenced so that no finalizer ever
# closes them: a forked worker leaves by os._exit, without collecting them.
_INHERITED: list[Any] = []


def _django_in_use() -> bool:
    if "django.db" not in sys.modules:
        return False
    from django.conf import settings

    return bool(settings.configured)


def close_thread_connections() -> None:
    """Close the database connections this thread opened (Django keeps them per thread)."""
    if not _django_in_use():
        return
    from django.db import connections

    connections.close_all()


def forget_inherited_connections() -> None:
    """In a forked child: drop the parent's connections without closing their sockets.

    The next query in this process opens a connection of its own; ``connect()``
    also resets the transaction state copied from the parent.
    """
    if not _django_in_use():
        return
    from django.db import connections

    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None:
            _INHERITED.append(wrapper.connection)
            wrapper.connection = None


def _settings_module() -> str | None:
    """The module the settings came from, also under ``override_settings``.

    An override wraps the settings in ``UserSettingsHolder`` objects whose
    ``SETTINGS_MODULE`` reads ``None``; the module is on the innermost one.
    """
    from django.conf import UserSettingsHolder, settings

    wrapped: Any = getattr(settings, "_wrapped", None)
    while isinstance(wrapped, UserSettingsHolder):
        wrapped = wrapped.default_settings
    return getattr(wrapped, "SETTINGS_MODULE", None) or os.environ.get("DJANGO_SETTINGS_MODULE")


@dataclass(frozen=True, slots=True)
class DjangoSetup:
    """How a spawned worker sets Django up as its parent did.

    ``databases`` is the parent's ``DATABASES`` as it is now: a test runner renames
    databases at run time (``test_<name>``), and the child must use the same ones.
    """

    settings_module: str
    databases: dict[str, Any]

    @classmethod
    def of_this_process(cls) -> DjangoSetup | None:
        """The setup to repeat, or ``None`` when Django is not set up from a settings module.

        Settings made with ``settings.configure()`` cannot be rebuilt in another
        process; a node there that uses the ORM fails with Django's own error.
        Values changed at run time (``override_settings``) other than the
        databases are not carried over.
        """
        if "django.apps" not in sys.modules:
            return None
        from django.apps import apps
        from django.conf import settings

        module = _settings_module()
        if not (apps.ready and settings.configured and module):
            return None
        databases = dict(settings.DATABASES)
        try:
            pickle.dumps(databases)
        except Exception:  # an OPTIONS value that cannot travel: let the child read its own
            databases = {}
        return cls(module, databases)

    def apply(self) -> None:
        """Set Django up in this (fresh) process with the parent's settings and databases."""
        import django
        from django.apps import apps
        from django.conf import settings

        if apps.ready:
            return
        os.environ["DJANGO_SETTINGS_MODULE"] = self.settings_module
        if self.databases:
            settings.DATABASES = self.databases
        django.setup()
