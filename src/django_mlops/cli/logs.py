"""``logs``: what a run's nodes printed (stdout, stderr) and logged, after the fact or live.

Each task's captured texts are kept on its row (``stdout``, ``stderr``, ``log``);
a task running now shows what it printed so far (``records.live``, the same
reading as the website's). With a NODE, that task's texts are printed; without,
every task that printed something, in pipeline order, each under a header.
``--follow`` keeps polling a running run and prints what is new until the run ends.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from .base import EXIT_OK, CommandFailed, Console, run_id
from .formatting import STATE_COLOURS, paint
from .order import tasks_in_order

if TYPE_CHECKING:
    from ..models import Run, TaskRun

__all__ = ["STREAMS", "has_output", "register"]

#: The captured texts of a task, in the order they are printed.
STREAMS = ("stdout", "stderr", "log")

# Statuses of a run that is not over yet.
_LIVE = frozenset({"queued", "running"})

#: Seconds between two looks at a followed run.
FOLLOW_INTERVAL = 0.5


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``logs`` to the subcommand parsers."""
    logs = subparsers.add_parser(
        "logs",
        help="Print what a run's nodes printed and logged.",
        description="Print the captured stdout, stderr and log records of one task of a run, "
        "or of every task in pipeline order when NODE is omitted.",
    )
    logs.add_argument("run", type=run_id, metavar="RUN", help="The run id.")
    logs.add_argument("node", nargs="?", metavar="NODE", help="Only this node's output.")
    logs.add_argument(
        "-f",
        "--follow",
        action="store_true",
        help="Keep printing new output of a running run until it ends.",
    )
    logs.set_defaults(handler=logs_command)


def has_output(task: TaskRun) -> bool:
    """Whether the task printed or logged anything."""
    return any(getattr(task, stream) for stream in STREAMS)


class _Printer:
    """Prints tasks' texts, remembering how much of each was printed (for ``--follow``)."""

    def __init__(self, console: Console, headers: bool) -> None:
        self.console = console
        self.headers = headers
        self.printed: dict[tuple[str, str], str] = {}
        self.announced: set[str] = set()

    def header(self, task: TaskRun) -> None:
        if not self.headers or task.node in self.announced:
            return
        if self.announced:
            self.console.line("")
        self.announced.add(task.node)
        state = paint(task.state, STATE_COLOURS.get(task.state), self.console.colour)
        self.console.line(f"== {task.node} ({state}) ==")

    def show(self, task: TaskRun) -> bool:
        """Print what is new in ``task``'s texts; return whether anything was."""
        shown = False
        for stream in STREAMS:
            text: str = getattr(task, stream)
            before = self.printed.get((task.node, stream), "")
            if text == before:
                continue
            # A bounded buffer keeps head and tail: if the old text is no longer a
            # prefix, print the whole text again rather than a wrong remainder.
            new = text[len(before) :] if text.startswith(before) else text
            self.printed[(task.node, stream)] = text
            self.header(task)
            if stream != "stdout" and not before:
                self.console.line(f"--- {stream} ---")
            self.console.out.write(new if new.endswith("\n") else new + "\n")
            shown = True
        self.console.out.flush()
        return shown


def _tasks(run: Run, node: str | None) -> list[TaskRun]:
    from ..records.live import current_task, running_tasks

    tasks = tasks_in_order(run)
    running = running_tasks(run)
    if running:  # their output so far, and those running before their rows were written
        present = {t.node for t in tasks}
        now = [current_task(run, t.node)[0] if t.node in running else t for t in tasks]
        now += [current_task(run, name)[0] for name in running if name not in present]
        tasks = [t for t in now if t is not None]
    if node is None:
        return tasks
    chosen = [t for t in tasks if t.node == node]
    if not chosen:
        names = ", ".join(t.node for t in tasks) or "none"
        raise CommandFailed(f"run {run.pk} has no node '{node}' (nodes: {names})")
    return chosen


def logs_command(args: argparse.Namespace, console: Console) -> int:
    """Print the texts; with --follow, poll until the run is over."""
    from ..records.liveness import settle_stale_runs
    from .runs import load_run

    run = load_run(args.run)
    tasks = _tasks(run, args.node)
    printer = _Printer(console, headers=args.node is None)
    shown = [printer.show(task) for task in tasks]
    if args.follow:
        while run.status in _LIVE:
            time.sleep(FOLLOW_INTERVAL)
            settle_stale_runs(run_ids=[run.pk])  # a killed runner's run ends the follow
            run.refresh_from_db()
            shown.extend(printer.show(task) for task in _tasks(run, args.node))
        status = paint(run.status, STATE_COLOURS.get(run.status), console.colour)
        console.line(f"-- run {run.pk} {status}")
    if not any(shown):
        what = f"node '{args.node}'" if args.node else "no node"
        verb = "printed nothing" if args.node else "printed anything"
        console.warn(f"run {run.pk}: {what} {verb}")
    return EXIT_OK
