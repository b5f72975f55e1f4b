"""``run``: run a pipeline here, with live progress, and summarise the result."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from .base import EXIT_CANCELLED, EXIT_DEFINITION, CommandFailed, Console, param_assignment
from .summary import exit_code, print_summary

if TYPE_CHECKING:
    from ..models import Run
    from ..run.events import RunEvent
    from ..run.runner import AnyRun

__all__ = ["register", "run_with_progress"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run`` to the subcommand parsers."""
    run = subparsers.add_parser(
        "run",
        help="Run a pipeline and record it.",
        description="Run a pipeline in this process (or on the chosen executor), record it, "
        "and show progress. Exit code: 0 succeeded, 1 failed, 130 interrupted.",
    )
    run.add_argument("pipeline", metavar="PIPELINE", help="NAME, MODULE:NAME or FILE.py[:NAME].")
    run.add_argument(
        "-p",
        "--param",
        dest="params",
        action="append",
        type=param_assignment,
        default=[],
        metavar="KEY=VALUE",
        help="Override a param; VALUE is read by the param's type (C=1 is 1.0 for a float "
        "param, flag=yes a bool, sizes=[1,2] a list). Repeatable.",
    )
    run.add_argument(
        "-e",
        "--executor",
        metavar="NAME",
        help="inline, threads, processes, celery, or a name in MLOPS['EXECUTORS'] "
        "(default: MLOPS['DEFAULT_EXECUTOR']).",
    )
    run.add_argument(
        "-w",
        "--workers",
        type=int,
        metavar="N",
        help="Parallel workers for threads/processes (default: MLOPS['MAX_WORKERS']).",
    )
    for flag, dest, metavar, words in (
        ("--only", "only", "NODE", "Run only these nodes."),
        ("--from", "from_nodes", "NODE", "Run these nodes and everything downstream of them."),
        ("--to", "to_nodes", "NODE", "Run these nodes and everything they depend on."),
        ("--tag", "tags", "TAG", "Run nodes with a tag."),
    ):
        run.add_argument(
            flag, dest=dest, action="extend", nargs="+", default=[], metavar=metavar, help=words
        )
    run.add_argument(
        "--no-cache", action="store_true", help="Run every node, even those with stored outputs."
    )
    run.set_defaults(handler=run_command)


def check_executor(name: str | None) -> None:
    """Fail early, as a usage error, on an executor that does not exist or cannot load."""
    if name is None:
        return
    from ..conf import mlops_settings
    from ..executors import executor_class

    try:
        executor_class(name, mlops_settings().EXECUTORS)
    except (ValueError, ImportError, TypeError) as exc:
        raise CommandFailed(str(exc), EXIT_DEFINITION) from None


def run_command(args: argparse.Namespace, console: Console) -> int:
    """Run the pipeline with progress; print the summary; exit by the run's status."""
    from ..run.runner import run_pipeline
    from .sources import resolve

    if args.workers is not None and args.workers < 1:
        raise CommandFailed("--workers must be at least 1", EXIT_DEFINITION)
    pipeline = resolve(args.pipeline)
    check_executor(args.executor)

    def start(on_event: Callable[[RunEvent], None]) -> AnyRun:
        return run_pipeline(
            pipeline,
            params=dict(args.params),
            executor=args.executor,
            max_workers=args.workers,
            only=args.only,
            from_nodes=args.from_nodes,
            to_nodes=args.to_nodes,
            tags=args.tags,
            no_cache=args.no_cache,
            on_event=on_event,
        )

    return run_with_progress(console, pipeline.name, start)


def run_with_progress(
    console: Console, pipeline: str, start: Callable[[Callable[[RunEvent], None]], AnyRun]
) -> int:
    """Call ``start(on_event)`` with live progress; print the summary; exit by the run's status.

    Shared by ``run`` and ``retry``, so both show the same progress. Ctrl-C
    leaves the run cancelled (finished work kept) and exits 130.
    """
    from .progress import make_progress

    progress = make_progress(console, pipeline)
    try:
        run = start(progress.on_event)
    except KeyboardInterrupt:
        progress.close()
        interrupted = _load(progress.run_id)
        if interrupted is None:
            console.line("Interrupted before the run started.")
        else:
            console.line("Interrupted: the run is recorded as cancelled, finished work is kept.")
            print_summary(interrupted, console)
        return EXIT_CANCELLED
    finally:
        progress.close()
    from ..models import Run

    assert isinstance(run, Run), "a recorded run returns a Run row"
    run.refresh_from_db()
    print_summary(run, console)
    return exit_code(run)


def _load(run_id: int | None) -> Run | None:
    from ..models import Run

    if run_id is None:
        return None
    return Run.objects.filter(pk=run_id).first()
