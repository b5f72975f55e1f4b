"""The contract between the Runner and the executors: tasks in, outcomes out.

The Runner hands an :class:`Executor` one :class:`TaskSpec` per node attempt and
collects :class:`TaskOutcome` objects with :meth:`Executor.wait`. Executors never
touch Django or the database; everything a node produced (its return value, its
captured output, what it logged through :mod:`django_mlops.tracking`) comes back
inside the outcome for the Runner to record.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Literal

__all__ = [
    "Executor",
    "TaskCancelled",
    "TaskOutcome",
    "TaskSpec",
    "TaskTimeout",
    "TrackingEvent",
]


class TaskTimeout(BaseException):
    """Raised inside a node function that ran past its timeout.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that a node's own
    ``except Exception`` does not swallow it.
    """


class TaskCancelled(BaseException):
    """Raised inside a node function whose run was cancelled."""


@dataclass(slots=True)
class TaskSpec:
    """One attempt of one node, as the Runner hands it to an executor.

    ``args`` are the node's input values in declaration order; ``timeout`` is in
    seconds (``None``: no limit). With ``capture`` the node's stdout, stderr and
    logging records are kept in the outcome instead of reaching the terminal.
    ``node_id`` is the engine's id of the node, passed back in the outcome.
    Not frozen: a frozen dataclass's ``__init__`` costs ~1 us more per attempt.
    """

    run_id: int | None
    node: str
    attempt: int
    func: Callable[..., Any]
    args: Sequence[Any]
    timeout: float | None
    capture: bool = True
    node_id: int = -1


@dataclass(slots=True)
class TrackingEvent:
    """Something a node logged while it ran (``log_param``, ``log_metric``, ``log_artifact``,
    ``register_model``).

    ``timestamp`` is wall-clock time (``time.time()``); ``step`` is only set for metrics.
    """

    kind: Literal["param", "metric", "artifact", "model"]
    key: str
    value: Any
    step: int | None
    timestamp: float


@dataclass(slots=True)
class TaskOutcome:
    """How one attempt ended.

    ``value`` is the function's return value when ``ok``; otherwise ``error`` is one
    line ("ValueError: bad input") and ``traceback`` the full text. ``stdout``,
    ``stderr`` and ``log`` (formatted logging records) are the captured output.
    Times are wall-clock (``time.time()``); ``host`` and ``pid`` say where it ran.
    ``timed_out`` and ``crashed`` tell a stopped or dead attempt from an exception.
    """

    node: str
    attempt: int
    ok: bool
    value: Any
    error: str
    traceback: str
    stdout: str
    stderr: str
    log: str
    started_at: float
    finished_at: float
    host: str
    pid: int
    events: list[TrackingEvent] = field(default_factory=list)
    timed_out: bool = False
    crashed: bool = False
    node_id: int = -1


class Executor(ABC):
    """Runs node functions; the Runner's loop is ``submit`` while ``capacity`` allows, ``wait``.

    Example::

        with get_executor("threads", max_workers=2) as executor:
            executor.submit(TaskSpec(None, "fit", 1, fit, (train,), timeout=60.0))
            [outcome] = executor.wait()

    An executor can be used for many runs; after :meth:`cancel` it drops the
    outcomes of the tasks it stopped and accepts new tasks.
    """

    name: ClassVar[str]
    #: How many tasks may run at once; the Runner submits no more than this.
    capacity: int
    #: Whether the Runner may call node functions itself, in its own thread and
    #: order, instead of going through ``submit``/``wait`` (only the inline executor).
    runs_in_caller: ClassVar[bool] = False

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers}")
        self.capacity = max_workers or 1

    @abstractmethod
    def submit(self, task: TaskSpec) -> None:
        """Start (or queue) one task; its outcome comes back from :meth:`wait`."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> list[TaskOutcome]:
        """Outcomes of finished tasks: at least one, or ``[]`` once ``timeout`` seconds passed.

        Returns ``[]`` at once when no task is pending.
        """

    @abstractmethod
    def cancel(self) -> None:
        """Stop the running and queued tasks as soon as possible; their outcomes are dropped."""

    @abstractmethod
    def shutdown(self) -> None:
        """Release workers; the executor cannot be used afterwards."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.cancel()
        self.shutdown()
