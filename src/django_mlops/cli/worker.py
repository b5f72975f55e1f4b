"""``worker``: take runs from the queue and execute them (see docs/queue.md)."""

from __future__ import annotations

import argparse
import threading

from .base import EXIT_OK, Console

__all__ = ["register"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``worker`` to the subcommand parsers."""
    worker = subparsers.add_parser(
        "worker",
        help="Execute queued runs (started from the API or the website).",
        description="Take queued runs, highest priority first then oldest, and execute them "
        "with each run's executor. Any number of workers may share the database. The first "
        "SIGTERM or Ctrl-C lets running nodes finish, hands the rest back to the queue and "
        "exits 0; a second one hands the runs back at once and exits 1.",
    )
    worker.add_argument(
        "-c",
        "--concurrency",
        type=_positive_int,
        metavar="N",
        help="Runs executed at once (default: MLOPS['WORKER_CONCURRENCY'], 1).",
    )
    worker.add_argument(
        "--poll",
        type=_positive_seconds,
        metavar="SECONDS",
        help="How often an idle worker looks for runs (default: MLOPS['WORKER_POLL_SECONDS']; "
        "0.1 s, or 5 s on PostgreSQL where it is woken by NOTIFY).",
    )
    ending = worker.add_mutually_exclusive_group()
    ending.add_argument(
        "--burst", action="store_true", help="Exit once the queue is empty and its runs done."
    )
    ending.add_argument("--once", action="store_true", help="Execute one run (if any) and exit.")
    worker.add_argument(
        "--name",
        metavar="NAME",
        default="",
        help="How the worker is named in the runs it executes (default: HOST:PID).",
    )
    worker.set_defaults(handler=worker_command)


def worker_command(args: argparse.Namespace, console: Console) -> int:
    """Run a worker until it is stopped (or the queue is empty, with --burst/--once)."""
    from ..conf import mlops_settings
    from ..queue.worker import Worker

    settings = mlops_settings()
    # Run threads and the signal handler print too; reentrant, as a signal may arrive
    # while the main thread holds it.
    lock = threading.RLock()

    def say(text: str) -> None:
        with lock:
            console.line(text)
            console.out.flush()

    worker = Worker(
        concurrency=args.concurrency or settings.WORKER_CONCURRENCY,
        poll=args.poll or settings.WORKER_POLL_SECONDS,
        burst=args.burst,
        once=args.once,
        name=args.name,
        say=say,
    )
    worker.run()
    return EXIT_OK
