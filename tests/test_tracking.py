"""Tracking functions and output capture, without executors' pools and without Django."""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from django_mlops import capture
from django_mlops.capture import BoundedText
from django_mlops.tracking import (
    TaskContext,
    current_node,
    current_run_id,
    enter_task,
    leave_task,
    log_artifact,
    log_metric,
    log_metrics,
    log_param,
)


@pytest.fixture
def context() -> TaskContext:
    ctx = TaskContext(run_id=11, node="fit", attempt=1)
    token = enter_task(ctx)
    yield ctx
    leave_task(token)


def test_outside_a_run_nothing_is_recorded(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="django_mlops.tracking")
    log_metric("loss", 0.5)
    log_param("C", 1.0)
    assert current_run_id() is None and current_node() is None
    assert "log_metric('loss') called outside a run" in caplog.text


def test_inside_a_task_events_are_appended(context: TaskContext) -> None:
    assert current_run_id() == 11 and current_node() == "fit"
    log_param("C", 0.5)
    log_metric("loss", np.float32(0.25), step=np.int64(3))
    log_metrics({"accuracy": 0.9, "f1": np.float64(0.8)})
    events = [(e.kind, e.key, e.value, e.step) for e in context.events]
    assert events == [
        ("param", "C", 0.5, None),
        ("metric", "loss", 0.25, 3),
        ("metric", "accuracy", 0.9, None),
        ("metric", "f1", 0.8, None),
    ]
    assert all(isinstance(e.value, float) for e in context.events if e.kind == "metric")


@pytest.mark.parametrize("bad", ["0.5", None, True, [1.0], b"1"])
def test_metric_values_must_be_numbers(bad: object) -> None:
    with pytest.raises(TypeError, match="metric 'loss' must be a number"):
        log_metric("loss", bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_metric_values_must_be_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="metric 'loss' must be a finite number"):
        log_metric("loss", bad)


@pytest.mark.parametrize("key", ["", "   ", None, 3])
def test_keys_must_be_non_empty_strings(key: object) -> None:
    with pytest.raises(TypeError, match="key must be a non-empty string"):
        log_metric(key, 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key must be a non-empty string"):
        log_param(key, 1)  # type: ignore[arg-type]


def test_bad_step_is_refused() -> None:
    with pytest.raises(TypeError, match="step must be an integer"):
        log_metric("loss", 1.0, step=1.5)  # type: ignore[arg-type]


def test_log_metrics_records_nothing_when_one_value_is_bad(context: TaskContext) -> None:
    with pytest.raises(TypeError, match="metric 'b'"):
        log_metrics({"a": 1.0, "b": "x"})  # type: ignore[dict-item]
    assert context.events == []


def test_log_artifact_reads_files_now(context: TaskContext, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("hello")
    log_artifact("as-path", report)
    log_artifact("as-string-path", str(report))
    log_artifact("object", {"a": 1})
    log_artifact("text", "not a file")
    values = {e.key: e.value for e in context.events}
    assert values == {
        "as-path": b"hello",
        "as-string-path": b"hello",
        "object": {"a": 1},
        "text": "not a file",
    }
    with pytest.raises(FileNotFoundError, match="artifact 'gone'"):
        log_artifact("gone", tmp_path / "missing.bin")


def test_bounded_text_keeps_head_and_tail() -> None:
    buffer = BoundedText(limit=20)
    for i in range(100):
        buffer.write(f"{i:03d}\n")  # 4 characters each, 400 in all
    text = buffer.getvalue()
    assert text.startswith("000\n001\n")
    assert text.endswith("098\n099\n")
    assert "[... 380 characters dropped ...]" in text
    assert buffer.dropped == 380


def test_bounded_text_under_the_limit_is_unchanged() -> None:
    buffer = BoundedText(limit=100)
    assert buffer.write("abc") == 3
    buffer.write("def")
    assert buffer.getvalue() == "abcdef" and buffer.dropped == 0


def test_capture_routes_to_the_task_and_back() -> None:
    captured, token = capture.start(limit=1000)
    try:
        print("inside")
        sys.stderr.write("oops\n")
        logging.getLogger("tests.tracking").error("broken %s", 1)
    finally:
        capture.stop(token)
    stdout, stderr, log = captured.values()
    assert stdout == "inside\n" and stderr == "oops\n"
    assert "ERROR tests.tracking: broken 1" in log
    assert isinstance(sys.stdout, capture.StreamRouter)
    assert not sys.stdout.isatty() or sys.stdout.original.isatty()
