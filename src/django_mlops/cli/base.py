"""What every subcommand shares: the console it writes to, its failure type, argument types.

Subcommands never print with ``print()`` nor exit the process: they write through a
:class:`Console` and return an exit code, or raise :class:`CommandFailed`. The console
script turns that into a message on stderr and ``sys.exit``; the management command
into ``CommandError``. So both ways in behave the same.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..params import ParamText

__all__ = [
    "EXIT_CANCELLED",
    "EXIT_DEFINITION",
    "EXIT_FAILED",
    "EXIT_OK",
    "CommandFailed",
    "Console",
    "Handler",
    "TextStream",
    "param_assignment",
    "run_id",
]

EXIT_OK = 0
EXIT_FAILED = 1  # the run failed, the outputs differ, or the request cannot be done
EXIT_DEFINITION = 2  # a usage or pipeline definition error (argparse uses 2 as well)
EXIT_CANCELLED = 130  # 128 + SIGINT, what shells report for Ctrl-C


class TextStream(Protocol):
    """The part of a text stream the console needs."""

    def write(self, text: str, /) -> Any:
        """Write ``text`` as is."""

    def flush(self) -> Any:
        """Push buffered text out."""

    def isatty(self) -> bool:
        """Whether the stream is a terminal."""


class CommandFailed(Exception):
    """A subcommand cannot do what was asked; ``message`` says why, without a traceback."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class Console:
    """Where a subcommand writes, and how to name the command in hints.

    ``prog`` is how the user invoked us (``mlops`` or ``python manage.py mlops``),
    so a hint such as "inspect: mlops status 12" can be typed back as printed.
    """

    def __init__(self, out: TextStream, err: TextStream, prog: str = "mlops") -> None:
        self.out = out
        self.err = err
        self.prog = prog

    def line(self, text: str = "") -> None:
        """Write one line to stdout."""
        self.out.write(text + "\n")

    def warn(self, text: str) -> None:
        """Write one line to stderr."""
        self.err.write(text + "\n")
        self.err.flush()

    @property
    def is_terminal(self) -> bool:
        """Whether stdout is a terminal that understands cursor movement (not TERM=dumb)."""
        try:
            tty = self.out.isatty()
        except (AttributeError, ValueError):  # a closed or exotic stream
            return False
        return tty and os.environ.get("TERM", "") != "dumb"

    @property
    def colour(self) -> bool:
        """Whether to colour output: on a terminal, unless NO_COLOR is set (no-color.org)."""
        return self.is_terminal and not os.environ.get("NO_COLOR")


#: A subcommand's entry: parsed arguments and a console in, exit code out.
Handler = Callable[[argparse.Namespace, Console], int]


def param_assignment(text: str) -> tuple[str, ParamText]:
    """Parse ``K=V`` for ``--param``; V stays text, read later by the param's type.

    The pipeline is not known yet when arguments are parsed, so ``V`` is kept as a
    :class:`~django_mlops.params.ParamText`: the run reads ``C=1`` as the float 1.0
    when C is a float, ``name=007`` as the string "007" when name is a string.

    >>> param_assignment("C=0.5")
    ('C', '0.5')
    """
    from ..params import ParamText

    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, ParamText(raw)


def run_id(text: str) -> int:
    """A run id as typed on the command line: a positive integer (``#12`` is accepted too)."""
    try:
        value = int(text.lstrip("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a run id is a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"a run id is positive, got {value}")
    return value
