"""Acting on past runs: reproduce, retry and cancel.

``reproduce_run`` re-executes a run with its params and selection, caching off,
and reports what differs now (code hashes, package versions, input keys) and
whether every output came out byte-identical (same SHA-256).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import router
from django.utils import timezone

from ..discovery import pipeline_of_run
from ..errors import RunError
from ..records.results import InMemoryRun
from .runner import run_pipeline

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..executors import Executor
    from ..models import Run
    from .events import RunEvent

__all__ = [
    "OutputComparison",
    "ReproduceReport",
    "Selection",
    "cancel_run",
    "queue_retry",
    "reproduce_run",
    "retry_run",
    "run_selection",
]


@dataclass(frozen=True, slots=True)
class OutputComparison:
    """One dataset's output in the original run and in the reproduction."""

    dataset: str
    original_sha256: str | None
    new_sha256: str | None

    @property
    def identical(self) -> bool:
        """Both runs produced the dataset, byte for byte the same."""
        return self.original_sha256 is not None and self.original_sha256 == self.new_sha256


@dataclass(slots=True)
class ReproduceReport:
    """What a reproduction found: what changed since the original run and how outputs compare."""

    original: Run
    run: Run
    code_changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    package_changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    input_key_changes: dict[str, list[str]] = field(default_factory=dict)
    outputs: list[OutputComparison] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """The reproduction succeeded and every output is byte-identical."""
        return self.run.status == "succeeded" and all(o.identical for o in self.outputs)

    def differences(self) -> list[str]:
        """One line per difference found, empty when the runs agree completely."""
        lines = [f"code of node '{n}' changed" for n in self.code_changes]
        for name, (old, new) in self.package_changes.items():
            lines.append(f"package {name}: {old or 'absent'} -> {new or 'absent'}")
        for node, datasets in self.input_key_changes.items():
            lines.append(f"node '{node}': inputs changed: {', '.join(datasets)}")
        for output in self.outputs:
            if not output.identical:
                lines.append(f"output '{output.dataset}' differs")
        if self.run.status != "succeeded":
            lines.append(f"the reproduction {self.run.status}: {self.run.error}")
        return lines

    def __str__(self) -> str:
        head = f"run {self.run.pk} reproduces run {self.original.pk}: " + (
            "all outputs identical" if self.identical else "differences found"
        )
        return "\n".join([head, *("  " + line for line in self.differences())])


def _load(run_id: int | Run) -> Run:
    from ..models import Run

    if isinstance(run_id, Run):
        return run_id
    try:
        return Run.objects.get(pk=run_id)
    except Run.DoesNotExist:
        raise RunError(f"no run with id {run_id}") from None


class Selection(TypedDict):
    """A run's selection, as ``run_pipeline`` and ``enqueue_run`` take it."""

    only: list[str]
    from_nodes: list[str]
    to_nodes: list[str]
    tags: list[str]


def run_selection(run: Run) -> Selection:
    """The run's selection as the keywords ``only``, ``from_nodes``, ``to_nodes``, ``tags``."""
    selection: dict[str, Any] = run.selection or {}
    return {
        "only": list(selection.get("only", ())),
        "from_nodes": list(selection.get("from", ())),
        "to_nodes": list(selection.get("to", ())),
        "tags": list(selection.get("tags", ())),
    }


def _rerun(run: Run, executor: str | Executor | None, **options: Any) -> Run:
    """Run ``run``'s pipeline again with its params and selection."""
    new = run_pipeline(
        pipeline_of_run(run),
        params=run.params,
        executor=executor or run.executor or None,
        **run_selection(run),
        **options,
    )
    assert not isinstance(new, InMemoryRun)
    return new


def _outputs(run: Run, datasets: set[str]) -> dict[str, str]:
    """Dataset -> SHA-256 of every output of the run, its cached tasks' included."""
    from ..models import Artifact
    from ..records.results import run_output_ids

    ids = {d: pk for d, pk in run_output_ids(run).items() if d in datasets}
    shas = dict(Artifact.objects.filter(pk__in=set(ids.values())).values_list("pk", "sha256"))
    return {d: shas[pk] for d, pk in ids.items() if pk in shas}


def reproduce_run(run_id: int | Run, executor: str | Executor | None = None) -> ReproduceReport:
    """Run ``run_id`` again with its params and selection (no cache) and compare."""
    # Imported here: it reads the models, and this module loads before Django is set up.
    from ..experiments.changes import run_changes

    original = _load(run_id)
    run = _rerun(original, executor, no_cache=True, reproduces=original)
    report = ReproduceReport(original=original, run=run)
    changes = run_changes(original, run)
    for node in changes.nodes:
        if node.code is not None:
            report.code_changes[node.node] = (node.code.before, node.code.after)
        if node.inputs:
            report.input_key_changes[node.node] = [d.name for d in node.inputs]
    for package in changes.packages:
        report.package_changes[package.name] = (package.before, package.after)
    datasets = {d for node in pipeline_of_run(original).nodes for d in node.outputs}
    old_outputs, new_outputs = _outputs(original, datasets), _outputs(run, datasets)
    for dataset in sorted(set(old_outputs) | set(new_outputs)):
        report.outputs.append(
            OutputComparison(dataset, old_outputs.get(dataset), new_outputs.get(dataset))
        )
    return report


def retry_run(
    run_id: int | Run,
    executor: str | Executor | None = None,
    on_event: Callable[[RunEvent], None] | None = None,
) -> Run:
    """Run a past run again with its params and selection, reusing finished work (cache on).

    ``on_event`` receives the new run's progress, as for ``run_pipeline``.
    """
    original = _load(run_id)
    return _rerun(original, executor, retry_of=original, on_event=on_event)


def queue_retry(run_id: int | Run, *, created_by: User | None = None) -> Run:
    """Queue a retry of a finished run (its params, selection and executor) for a worker.

    What :func:`retry_run` does in this process, left to the queue instead: the
    website and the API never execute a pipeline in the web process. A run that
    is still queued or running is an error (cancel it first).
    """
    from ..queue import enqueue_run

    original = _load(run_id)
    if original.status in ("queued", "running"):
        raise RunError(f"run {original.pk} is {original.status}: wait for it or cancel it first")
    return enqueue_run(
        pipeline_of_run(original),
        params=original.params,
        executor=original.executor,
        created_by=created_by,
        retry_of=original,
        **run_selection(original),
    )


def cancel_run(run_id: int | Run) -> Run:
    """Ask a running run to stop (its runner sees the request at its next flush).

    A queued run is cancelled at once, and so is a running run whose runner is
    gone (killed, or no heartbeat for ``RUN_STALE_SECONDS``); a finished run is
    an error.
    """
    from ..records.liveness import settle_stale_runs

    run = _load(run_id)
    if run.status == "running" and settle_stale_runs(run_ids=[run.pk], status="cancelled"):
        run.refresh_from_db()
        return run  # its runner was gone: cancelled now, with the reason
    if run.status == "queued":
        # Conditional, like a worker's claim: whichever commits first wins.
        if (
            type(run)
            .objects.filter(pk=run.pk, status="queued")
            .update(status="cancelled", finished_at=timezone.now())
        ):
            from ..records.liveness import settle_tasks

            # A run handed back to the queue has task rows: none stays pending.
            settle_tasks(router.db_for_write(type(run)) or "default", run.pk, "cancelled")
            run.refresh_from_db()
            return run
        run.refresh_from_db()  # a worker claimed it meanwhile: ask its runner to stop
    if run.status != "running":
        raise RunError(f"run {run.pk} is {run.status}, not running: nothing to cancel")
    type(run).objects.filter(pk=run.pk).update(cancel_requested=True)
    run.refresh_from_db()
    return run
