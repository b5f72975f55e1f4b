"""The current run and task, and the ``log_*`` functions nodes call.

Inside a node the executor sets a :class:`TaskContext` in a context variable;
``log_param``, ``log_metric``, ``log_metrics`` and ``log_artifact`` append
:class:`~django_mlops.executors.base.TrackingEvent` objects to it, and the Runner
records them with the task's outcome. Outside a run they validate their
arguments, write a debug log line and do nothing else, so node functions stay
plain functions that unit tests can call directly::

    from django_mlops import log_metrics

    def evaluate(model, test):
        scores = {"accuracy": 0.97, "f1": 0.96}
        log_metrics(scores)
        return scores
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .executors.base import TrackingEvent

__all__ = [
    "TaskContext",
    "current_attempt",
    "current_node",
    "current_run_id",
    "current_task",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_param",
]

logger = logging.getLogger("django_mlops.tracking")


@dataclass(slots=True)
class TaskContext:
    """The node attempt running in this context, and what it has logged so far."""

    run_id: int | None
    node: str
    attempt: int
    events: list[TrackingEvent] = field(default_factory=list)


_current: ContextVar[TaskContext | None] = ContextVar("django_mlops_task", default=None)


def enter_task(context: TaskContext) -> Token[TaskContext | None]:
    """Make ``context`` the current task; give the token to :func:`leave_task` afterwards."""
    return _current.set(context)


def leave_task(token: Token[TaskContext | None]) -> None:
    """Restore the task that was current before :func:`enter_task`."""
    _current.reset(token)


# The bare context-variable calls, for a loop that enters thousands of tasks
# (``fastloop``): the same as enter_task/leave_task without a Python frame each.
set_current = _current.set
reset_current = _current.reset


def current_task() -> TaskContext | None:
    """The running node attempt, or ``None`` outside a run."""
    return _current.get()


def current_run_id() -> int | None:
    """The id of the recorded run this code runs in (``None`` outside a run or unrecorded)."""
    context = _current.get()
    return None if context is None else context.run_id


def current_node() -> str | None:
    """The name of the node this code runs in, or ``None`` outside a run."""
    context = _current.get()
    return None if context is None else context.node


def current_attempt() -> int | None:
    """The attempt number (1 for the first try) of the running node, or ``None``."""
    context = _current.get()
    return None if context is None else context.attempt


def _check_key(what: str, key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise TypeError(f"a {what} key must be a non-empty string, not {key!r}")
    return key


def _metric_value(key: str, value: object) -> float:
    # bool is an int subclass, but logging True as a metric is nearly always a mistake.
    if isinstance(value, str | bytes | bool) or not hasattr(type(value), "__float__"):
        raise TypeError(
            f"metric '{key}' must be a number (int, float or a NumPy scalar), "
            f"not {type(value).__name__}: {value!r}"
        )
    number = float(value)  # type: ignore[arg-type]
    # Stored as a float column: SQLite turns NaN into NULL and charts cannot draw it.
    if not math.isfinite(number):
        raise ValueError(f"metric '{key}' must be a finite number, not {number}")
    return number


def _step(step: object) -> int | None:
    if step is None:
        return None
    if isinstance(step, bool) or not hasattr(type(step), "__index__"):
        raise TypeError(f"a metric step must be an integer or None, not {step!r}")
    return int(step)  # type: ignore[call-overload]


def _outside(function: str, key: str) -> None:
    logger.debug("%s(%r) called outside a run: nothing recorded", function, key)


def log_param(key: str, value: Any) -> None:
    """Record a parameter of the current run (e.g. a value the node chose or derived).

    The value should be JSON-serializable; it is stored with the run's params.
    """
    _check_key("param", key)
    context = _current.get()
    if context is None:
        _outside("log_param", key)
        return
    context.events.append(TrackingEvent("param", key, value, None, time.time()))


def log_metric(key: str, value: float, step: int | None = None) -> None:
    """Record a metric of the current run, optionally at a ``step`` (epoch, iteration).

    Raises ``TypeError`` when ``value`` is not a number and ``ValueError`` when it
    is NaN or infinite.
    """
    _check_key("metric", key)
    number = _metric_value(key, value)
    at = _step(step)
    context = _current.get()
    if context is None:
        _outside("log_metric", key)
        return
    context.events.append(TrackingEvent("metric", key, number, at, time.time()))


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Record several metrics at once: ``log_metrics({"accuracy": 0.97, "f1": 0.96})``.

    Every value is checked before any is recorded, so a bad one records nothing.
    """
    if not isinstance(metrics, Mapping):
        raise TypeError(f"log_metrics takes a mapping of name to number, not {metrics!r}")
    checked = [(_check_key("metric", k), _metric_value(k, v)) for k, v in metrics.items()]
    at = _step(step)
    context = _current.get()
    if context is None:
        _outside("log_metrics", ", ".join(k for k, _ in checked))
        return
    now = time.time()
    context.events.extend(TrackingEvent("metric", k, v, at, now) for k, v in checked)


def _artifact_value(name: str, obj_or_path: Any) -> Any:
    # A file is read now: it may be a temporary file gone by the time the run is
    # recorded, or live on a worker the Runner cannot see.
    if isinstance(obj_or_path, os.PathLike):
        path = Path(obj_or_path)
        if not path.is_file():
            raise FileNotFoundError(f"artifact '{name}': no file at {path}")
        return path.read_bytes()
    # A string naming an existing file means the file, as in MLflow's log_artifact.
    if isinstance(obj_or_path, str) and "\n" not in obj_or_path and len(obj_or_path) < 4096:
        try:
            path = Path(obj_or_path)
            if path.is_file():
                return path.read_bytes()
        except (OSError, ValueError):  # not a usable path: the string is the value
            pass
    return obj_or_path


def log_artifact(name: str, obj_or_path: Any) -> None:
    """Store an object (or a file's content) as a named artifact of the current run.

    ``obj_or_path`` is any value the artifact store can serialize (a DataFrame, an
    array, a dict, a fitted model...) or a path to a file: a ``pathlib.Path``, or a
    string naming an existing file. A file's bytes are read when this is called.
    """
    _check_key("artifact", name)
    context = _current.get()
    if context is None:
        _outside("log_artifact", name)
        return
    value = _artifact_value(name, obj_or_path)
    context.events.append(TrackingEvent("artifact", name, value, None, time.time()))
