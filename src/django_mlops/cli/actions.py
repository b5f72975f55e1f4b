"""``cancel``, ``retry`` and ``reproduce``: acting on a past or running run."""

from __future__ import annotations

import argparse

from .base import EXIT_FAILED, EXIT_OK, Console, run_id
from .runs import load_run

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``cancel``, ``retry`` and ``reproduce`` to the subcommand parsers."""
    cancel = subparsers.add_parser(
        "cancel",
        help="Stop a queued or running run.",
        description="Cancel a run: a queued run at once, a running one at its runner's next "
        "check (finished work is kept).",
    )
    cancel.add_argument("run", type=run_id, metavar="RUN", help="The run id.")
    cancel.set_defaults(handler=cancel_command)

    retry = subparsers.add_parser(
        "retry",
        help="Run a past run again, reusing its finished work.",
        description="Run a past run's pipeline again with its params and selection; nodes "
        "whose outputs are stored are reused. Exit code: 0 succeeded, 1 failed.",
    )
    retry.add_argument("run", type=run_id, metavar="RUN", help="The run id.")
    retry.add_argument("-e", "--executor", metavar="NAME", help="Executor (default: the run's).")
    retry.set_defaults(handler=retry_command)

    reproduce = subparsers.add_parser(
        "reproduce",
        help="Re-run a past run from scratch and compare.",
        description="Re-run a past run with its params, caching off; report what differs now "
        "(code, packages, inputs) and whether every output is byte-identical. "
        "Exit code: 0 identical, 1 different.",
    )
    reproduce.add_argument("run", type=run_id, metavar="RUN", help="The run id.")
    reproduce.add_argument(
        "-e", "--executor", metavar="NAME", help="Executor (default: the run's)."
    )
    reproduce.set_defaults(handler=reproduce_command)


def cancel_command(args: argparse.Namespace, console: Console) -> int:
    """Ask the run to stop; say what happens next."""
    from ..run.reproduce import cancel_run

    run = cancel_run(args.run)
    if run.status == "cancelled":
        why = f" ({run.error})" if run.error else ""
        console.line(f"Run {run.pk} cancelled{why}.")
    else:
        console.line(f"Run {run.pk}: cancel requested; its runner stops at its next check.")
    return EXIT_OK


def retry_command(args: argparse.Namespace, console: Console) -> int:
    """Run it again with cache on; print the new run's summary."""
    from ..run.reproduce import retry_run
    from .run import check_executor, run_with_progress

    check_executor(args.executor)
    original = load_run(args.run)  # a one-line error for an unknown run
    console.line(f"Retry of run {args.run}:")
    return run_with_progress(
        console,
        original.pipeline,
        lambda on_event: retry_run(original, executor=args.executor, on_event=on_event),
    )


def reproduce_command(args: argparse.Namespace, console: Console) -> int:
    """Re-run from scratch; print the differences; exit 0 only when outputs are identical."""
    from ..run.reproduce import reproduce_run
    from .run import check_executor

    check_executor(args.executor)
    load_run(args.run)  # a one-line error for an unknown run
    report = reproduce_run(args.run, executor=args.executor)
    run = report.run
    console.line(f"Run {run.pk} reproduces run {report.original.pk} ({run.status}).")
    compared = len(report.outputs)
    same = sum(1 for o in report.outputs if o.identical)
    differences = report.differences()
    if report.identical:
        console.line(f"  outputs: all {compared} identical, byte for byte")
    else:
        console.line(f"  outputs: {same} of {compared} identical")
    if differences:
        console.line("  differences:")
        for line in differences:
            console.line(f"    {line}")
    else:
        console.line("  nothing differs: same code, packages and inputs")
    console.line(f"  inspect: {console.prog} status {run.pk}")
    return EXIT_OK if report.identical else EXIT_FAILED
