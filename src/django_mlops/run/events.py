"""What a run tells live progress displays (``on_event``): one ``RunEvent`` per step."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RunEvent"]


@dataclass(frozen=True, slots=True)
class RunEvent:
    """A step of a run, for live progress displays (``on_event``)."""

    kind: str  # run_started, task_started, task_finished, run_finished
    run_id: int | None
    node: str | None
    state: str | None  # a NodeState name for task events, the run status for run_finished
    done: int  # nodes in a final state
    total: int  # nodes in the pipeline
    elapsed: float  # seconds since the run started
    running: tuple[str, ...]  # nodes running now
    error: str = ""  # the error line of a failed or retrying attempt
