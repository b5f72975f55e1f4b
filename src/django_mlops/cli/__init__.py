"""The subcommands of ``mlops`` and ``manage.py mlops``, defined once for both.

Each module in :data:`SUBCOMMAND_MODULES` has a ``register(subparsers)`` that adds its
parsers and sets ``handler`` on them (see :data:`~.base.Handler`). The console script
(:mod:`django_mlops.cli`) and the management command both call
:func:`add_subcommands` on their own parser and :func:`execute` on the result, so the
two ways in can never drift apart. A later subcommand (``ui``, ``worker``,
``models``, ``token``, ``createuser``) is one more module in the list.
"""

from __future__ import annotations

import argparse
import importlib

from .base import EXIT_DEFINITION, EXIT_FAILED, CommandFailed, Console

__all__ = ["SUBCOMMAND_MODULES", "CommandFailed", "Console", "add_subcommands", "execute"]

#: Modules that register subcommands, in the order their commands are listed in --help.
SUBCOMMAND_MODULES = (
    "django_mlops.cli.pipelines",
    "django_mlops.cli.run",
    "django_mlops.cli.runs",
    "django_mlops.cli.logs",
    "django_mlops.cli.actions",
    "django_mlops.cli.ui",
    "django_mlops.cli.accounts",
    "django_mlops.cli.models",
    "django_mlops.cli.worker",
)


def add_subcommands(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Add every subcommand to ``parser`` (its subparsers are of ``parser``'s class)."""
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    subparsers.required = True
    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return subparsers


def _definition_error_types() -> tuple[type[BaseException], ...]:
    from ..errors import PipelineError, PipelineNotFound

    return (PipelineError, PipelineNotFound)


def execute(args: argparse.Namespace, console: Console) -> int:
    """Run the chosen subcommand; return its exit code.

    Errors a user can act on become :class:`CommandFailed` with a message and no
    traceback: definition errors and unknown pipelines exit 2, a request that
    cannot be done (cancel a finished run) exits 1. Bugs keep their traceback.
    """
    from ..errors import RunError

    try:
        return int(args.handler(args, console))
    except _definition_error_types() as exc:
        raise CommandFailed(str(exc), EXIT_DEFINITION) from None
    except RunError as exc:
        raise CommandFailed(str(exc), EXIT_FAILED) from None
