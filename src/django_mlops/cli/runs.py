"""``runs`` and ``status``: the recorded runs, and one run task by task."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .base import EXIT_OK, CommandFailed, Console, run_id
from .formatting import (
    STATE_COLOURS,
    format_duration,
    format_mapping,
    format_time,
    format_value,
    paint,
    table,
)
from .logs import has_output
from .order import tasks_in_order
from .summary import state_counts

if TYPE_CHECKING:
    from ..models import Run, TaskRun

__all__ = ["load_run", "register"]

_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``runs`` and ``status`` to the subcommand parsers."""
    runs = subparsers.add_parser(
        "runs", help="List recorded runs, newest first.", description="List recorded runs."
    )
    runs.add_argument("--pipeline", metavar="NAME", help="Only runs of this pipeline.")
    runs.add_argument("--status", choices=_STATUSES, help="Only runs with this status.")
    runs.add_argument(
        "-n", "--limit", type=int, default=20, metavar="N", help="Show at most N runs (20)."
    )
    runs.set_defaults(handler=list_runs)

    status = subparsers.add_parser(
        "status",
        help="Show one run: tasks, errors, metrics.",
        description="Show a run: params, each task's state, attempts, duration and why it "
        "ran or was reused, failed tasks' errors, and metrics.",
    )
    status.add_argument("run", type=run_id, metavar="RUN", help="The run id.")
    status.set_defaults(handler=run_status)


def load_run(pk: int) -> Run:
    """The run with id ``pk``, or a CommandFailed naming it."""
    from ..models import Run
    from ..records.liveness import settle_stale_runs

    settle_stale_runs(run_ids=[pk])  # a run whose runner is gone is not shown running
    run = Run.objects.filter(pk=pk).first()
    if run is None:
        raise CommandFailed(f"no run with id {pk}")
    return run


def list_runs(args: argparse.Namespace, console: Console) -> int:
    """Print the newest runs as a table."""
    from ..models import Run
    from ..records.liveness import settle_stale_runs

    if args.limit < 1:
        raise CommandFailed("--limit must be at least 1", 2)
    settle_stale_runs()  # runs whose runner is gone are not listed as running
    runs = Run.objects.all()
    if args.pipeline:
        runs = runs.filter(pipeline=args.pipeline)
    if args.status:
        runs = runs.filter(status=args.status)
    selected = list(runs.order_by("-created_at", "-id")[: args.limit])
    if not selected:
        console.line("No runs recorded yet." if not (args.pipeline or args.status) else "No runs.")
        return EXIT_OK
    rows = [
        [
            str(r.pk),
            r.pipeline,
            r.status,
            format_time(r.started_at or r.created_at),
            format_duration(r.duration),
            format_mapping(r.params or {}),
        ]
        for r in selected
    ]
    colours = [STATE_COLOURS.get(r.status) if console.colour else None for r in selected]
    header = ["ID", "PIPELINE", "STATUS", "STARTED", "DURATION", "PARAMS"]
    for line in table(header, rows, colours):
        console.line(line)
    return EXIT_OK


def _reason(task: TaskRun) -> str:
    return task.reason_detail or task.reason.replace("_", " ") or "-"


def _where(traceback: str) -> str:
    """The innermost ``File "...", line N, in f`` line of a traceback, stripped."""
    frames = [line.strip() for line in traceback.splitlines() if line.strip().startswith("File ")]
    return frames[-1] if frames else ""


def run_status(args: argparse.Namespace, console: Console) -> int:
    """Print the run's header, its tasks as a table, failures and metrics."""
    run = load_run(args.run)
    status = paint(run.status, STATE_COLOURS.get(run.status), console.colour)
    console.line(f"Run {run.pk} of {run.pipeline}: {status}")
    console.line(
        f"  started {format_time(run.started_at or run.created_at)}, "
        f"took {format_duration(run.duration)}, executor {run.executor or '-'}"
        + (", no cache" if run.no_cache else "")
    )
    console.line(f"  params: {format_mapping(run.params or {})}")
    selection = {k: v for k, v in (run.selection or {}).items() if v}
    if selection:
        console.line(
            "  selection: " + "; ".join(f"{k} {', '.join(v)}" for k, v in selection.items())
        )
    if run.git_commit:
        dirty = " (uncommitted changes)" if run.git_dirty else ""
        console.line(f"  git: {run.git_commit[:12]}{dirty}")
    if run.claims:
        resumed = f", resumed from {run.resumed_from}" if run.resumed_from else ""
        console.line(f"  from the queue: worker {run.worker}, claim {run.claims}{resumed}")
    if run.reproduces_id:
        console.line(f"  reproduces run {run.reproduces_id}")
    if run.retry_of_id:
        console.line(f"  retry of run {run.retry_of_id}")
    if run.error:
        console.line(f"  error: {run.error}")
    tasks = tasks_in_order(run)
    console.line(f"  tasks: {state_counts(run)}")
    console.line("")
    rows = [
        [t.node, t.state, str(t.attempts), format_duration(t.duration), _reason(t)] for t in tasks
    ]
    colours = [STATE_COLOURS.get(t.state) if console.colour else None for t in tasks]
    for line in table(["NODE", "STATE", "ATTEMPTS", "DURATION", "REASON"], rows, colours):
        console.line("  " + line)
    failed = [t for t in tasks if t.state == "failed"]
    if failed:
        console.line("")
        console.line("Errors:")
        for task in failed:
            console.line(f"  {task.node}: {task.error or 'no error recorded'}")
            where = _where(task.traceback)
            if where:
                console.line(f"    at {where}")
    metrics = run.metrics
    if metrics:
        console.line("")
        console.line("Metrics:")
        for line in table(["KEY", "VALUE"], [[k, format_value(v)] for k, v in metrics.items()]):
            console.line("  " + line)
    printed = [t.node for t in tasks if has_output(t)]
    if printed:
        console.line("")
        more = f" and {len(printed) - 5} more" if len(printed) > 5 else ""
        shown = ", ".join(printed[:5]) + more
        console.line(f"Output of {shown}: {console.prog} logs {run.pk} [NODE]")
    return EXIT_OK
