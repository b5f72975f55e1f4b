"""``python manage.py mlops ...``: the same subcommands as the ``mlops`` console script.

The parser and the handlers come from :mod:`django_mlops.cli`, shared with
:mod:`django_mlops.cli`; this module only adapts them to ``BaseCommand``: output
through ``self.stdout``/``self.stderr`` and failures as ``CommandError`` carrying
the same exit codes.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from django_mlops.cli import add_subcommands, execute
from django_mlops.cli.base import EXIT_OK, CommandFailed, Console

__all__ = ["Command"]

# Django's own options, which the subcommand handlers do not use.
_DJANGO_OPTIONS = ("verbosity", "settings", "pythonpath", "traceback", "no_color", "force_color")


class _WrapperStream:
    """An ``OutputWrapper`` seen as a plain text stream (no line ending added per write)."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self._wrapper = wrapper

    def write(self, text: str, /) -> None:
        self._wrapper.write(text, ending="")

    def flush(self) -> None:
        self._wrapper.flush()

    def isatty(self) -> bool:
        return bool(self._wrapper.isatty())

    @property
    def encoding(self) -> str | None:
        """The underlying stream's encoding, which decides between Unicode and ASCII progress."""
        return getattr(self._wrapper, "encoding", None)


class Command(BaseCommand):
    """Run, inspect and reproduce pipelines: list, show, run, runs, status, cancel, retry..."""

    help = "Run, inspect and reproduce django-mlops pipelines (same subcommands as `mlops`)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Add the shared subcommands to Django's parser."""
        self._prog = parser.prog
        add_subcommands(parser)

    def _hint_prog(self) -> str:
        """How to type this command again, for hints like "inspect: ... status 12"."""
        prog = getattr(self, "_prog", "").strip()
        # Django names the parser after argv[0]: "manage.py mlops", "__main__.py mlops".
        if prog.startswith("__main__.py"):
            return "python -m django" + prog[len("__main__.py") :]
        if prog.startswith("manage.py"):
            return f"python {prog}"
        return prog or "mlops"

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the chosen subcommand; a non-zero exit code becomes a CommandError."""
        for name in _DJANGO_OPTIONS:
            options.pop(name, None)
        namespace = argparse.Namespace(**options)
        console = Console(
            _WrapperStream(self.stdout), _WrapperStream(self.stderr), prog=self._hint_prog()
        )
        try:
            code = execute(namespace, console)
        except CommandFailed as exc:
            raise CommandError(exc.message, returncode=exc.code) from None
        if code != EXIT_OK:
            raise CommandError(
                f"{namespace.command} ended with exit code {code} (see above)", returncode=code
            )
