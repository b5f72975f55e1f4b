"""The inline executor's fast loop records exactly what the executor path records.

The same small pipelines run with ``executor="inline"`` (nodes called by the
Runner's loop itself) and ``executor="threads"`` (TaskSpec/TaskOutcome through a
pool); their task records must agree field by field.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest

from django_mlops import Pipeline, log_metric
from django_mlops.models import Metric, Run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tmp_mlops_home")]


def _chatty_pipeline() -> Pipeline:
    p = Pipeline("fastloop-chatty", params={"n": 3})

    @p.node(inputs=["params:n"], outputs="numbers")
    def make(n: int) -> list[int]:
        print("made", n)
        logging.getLogger("tests.fastloop").warning("careful")
        log_metric("made", n)
        return list(range(n))

    @p.node(inputs=["numbers"], outputs="total")
    def add(numbers: list[int]) -> int:
        return sum(numbers)  # prints nothing: must not inherit make's output

    @p.node(inputs=["total"], outputs=["half", "double"])
    def split(total: int) -> tuple[float, int]:
        sys.stderr.write("splitting\n")
        return total / 2, total * 2

    @p.node(inputs=["double"], outputs="broken")
    def fail(double: int) -> None:
        raise ValueError(f"bad value {double}")

    @p.node(inputs=["half"], outputs="late", timeout=30)
    def guarded(half: float) -> float:
        return half + 1

    return p


def _record(run: Run) -> dict[str, tuple[Any, ...]]:
    return {
        name: (
            t.state,
            t.attempts,
            t.stdout,
            t.stderr,
            t.log.split(" ", 2)[-1],  # without the timestamp
            t.error,
            t.traceback.splitlines()[1:3],  # the first frames: the user's function
            t.duration is not None and t.duration >= 0,
        )
        for name, t in run.tasks.by_node().items()
    }


def test_inline_records_what_threads_record() -> None:
    inline = _chatty_pipeline().run(executor="inline", no_cache=True)
    threads = _chatty_pipeline().run(executor="threads", max_workers=1, no_cache=True)
    assert inline.status == threads.status == "failed"
    assert _record(inline) == _record(threads)
    tasks = inline.tasks
    assert tasks["make"].stdout == "made 3\n" and "careful" in tasks["make"].log
    assert tasks["add"].stdout == "" and tasks["add"].log == ""
    assert tasks["split"].stderr == "splitting\n"
    assert tasks["fail"].error == "ValueError: bad value 6"
    assert "django_mlops/fastloop.py" not in tasks["fail"].traceback
    assert 'in fail\n    raise ValueError(f"bad value {double}")' in tasks["fail"].traceback
    assert tasks["guarded"].state == "succeeded"


def test_inline_outputs_and_metrics_are_stored() -> None:
    run = _chatty_pipeline().run(executor="inline")
    assert run.output("half") == 1.5 and run.output("double") == 6
    datasets = {d for task in run.task_runs.all() for d in task.output_ids()}
    assert datasets == {"numbers", "total", "half", "double", "late"}
    metric = Metric.objects.get(run=run, key="made")
    assert metric.value == 3.0 and metric.task is not None and metric.task.node == "make"
    # Read back from the database, not from the run's in-memory values.
    assert Run.objects.get(pk=run.pk).output("late") == 2.5


def test_unrecorded_inline_keeps_metrics_and_failures(capsys: pytest.CaptureFixture[str]) -> None:
    run = _chatty_pipeline().run(executor="inline", record=False)
    assert run.status == "failed"
    assert run.metrics == {"made": 3.0}
    assert run.tasks["fail"].error == "ValueError: bad value 6"
    assert "in fail" in run.tasks["fail"].traceback
    assert run.output("late") == 2.5
    assert "made 3" in capsys.readouterr().out  # unrecorded runs do not capture
