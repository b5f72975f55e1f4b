"""The ``mlops`` console script: the subcommands of ``manage.py mlops``, with or without a project.

Without ``DJANGO_SETTINGS_MODULE`` it runs standalone (SQLite and artifacts under
``MLOPS_HOME``, default ``./.mlops``; see :mod:`django_mlops.standalone.bootstrap`). With it,
it works on that project's database. Also runnable as ``python -m django_mlops.cli``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import add_subcommands, execute
from .base import EXIT_CANCELLED, EXIT_DEFINITION, CommandFailed, Console

__all__ = ["EXIT_BROKEN_PIPE", "build_parser", "main"]

#: What a shell reports for a tool stopped by SIGPIPE (128 + 13).
EXIT_BROKEN_PIPE = 141

_EPILOG = """\
PIPELINE is a registered name (iris), MODULE:NAME (myproject.pipelines:iris)
or FILE.py[:NAME] (my_pipelines.py:iris).

Standalone, data lives in $MLOPS_HOME (default ./.mlops). With DJANGO_SETTINGS_MODULE
set, the project's settings and database are used, as with `manage.py mlops`.
"""


def build_parser(prog: str = "mlops") -> argparse.ArgumentParser:
    """The full argument parser of the console script."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run, inspect and reproduce django-mlops pipelines.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    add_subcommands(parser)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("django-mlops")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console(sys.stdout, sys.stderr, prog=parser.prog)
    try:
        try:
            _setup()
            return execute(args, console)
        except CommandFailed as exc:
            sys.stdout.flush()
            console.warn(f"{parser.prog}: error: {exc.message}")
            return exc.code
        except KeyboardInterrupt:
            # Outside a run (a run handles its own Ctrl-C): stop quietly, as shells expect.
            console.warn("interrupted")
            return EXIT_CANCELLED
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """The reader of our stdout closed it (``mlops status 3 | head -3``): stop quietly.

    Unix tools die of SIGPIPE there; Python ignores the signal and raises instead.
    Python's own flush of stdout at exit would raise once more, so stdout is
    pointed at /dev/null first (the recipe of the ``signal`` module's docs).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no real file: nothing will flush into a pipe
        pass
    finally:
        os.close(devnull)
    return EXIT_BROKEN_PIPE


def _setup() -> None:
    """Configure Django; a definition error or unimportable settings are usage errors."""
    from ..errors import PipelineError
    from ..standalone.bootstrap import SettingsImportError, setup

    try:
        setup()
    except (PipelineError, SettingsImportError) as exc:
        raise CommandFailed(str(exc), EXIT_DEFINITION) from None
