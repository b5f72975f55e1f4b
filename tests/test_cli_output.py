"""What ``mlops`` prints reads well: counts, durations, order, progress of retries, errors."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from django_mlops import capture
from django_mlops.cli.progress import LiveProgress, PlainProgress
from django_mlops.run.loop import RunEvent

REPO = Path(__file__).resolve().parent.parent

PIPELINES = """
from pathlib import Path
from django_mlops import Pipeline

planned = Pipeline("out_planned", description="One node and a planned step")

@planned.node(outputs="frame")
def load():
    return [1, 2, 3]

planned.concept("explain", inputs=["frame"], outputs="report", description="later")

flaky = Pipeline("out_flaky")

@flaky.node(outputs="x", retries=1)
def wobble():
    marker = Path("wobbled")
    if not marker.exists():
        marker.write_text("once")
        raise ValueError("first attempt fails")
    return 1

broken = Pipeline("out_broken")

@broken.node(outputs="y")
def fragile():
    if not Path("fixed").exists():
        raise RuntimeError("not fixed yet")
    return 2
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("output")
    (path / "out_pipes.py").write_text(PIPELINES)
    return path


def mlops(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(MLOPS_HOME=str(folder / "home"), PYTHONPATH=str(REPO / "src"))
    return subprocess.run(
        [sys.executable, "-m", "django_mlops.cli", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_concept_step_is_not_counted_as_done_before_anything_ran(folder: Path) -> None:
    result = mlops(folder, "run", "out_pipes.py:out_planned", "--no-cache")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("started: out_planned (2 nodes, 1 to run)")
    assert lines[1].split()[1:] == ["[0/1]", "running", "load"]
    assert lines[2].split()[1:] == ["[1/1]", "succeeded", "load"]


def test_one_run_prints_one_duration(folder: Path) -> None:
    result = mlops(folder, "run", "out_pipes.py:out_planned")
    finished = [line for line in result.stdout.splitlines() if line.startswith("run finished")]
    assert finished == ["run finished: succeeded"]
    durations = re.findall(r"\bin (\d+\.\d+s)", result.stdout)
    assert len(durations) == 1  # the summary's, which is the recorded Run.duration


def test_show_counts_in_the_singular(folder: Path) -> None:
    result = mlops(folder, "show", "out_pipes.py:out_broken")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "  1 node, 1 dataset"


def test_retrying_lines_give_the_error(folder: Path) -> None:
    result = mlops(folder, "run", "out_pipes.py:out_flaky")
    assert result.returncode == 0, result.stderr
    retrying = [line for line in result.stdout.splitlines() if "retrying" in line]
    assert len(retrying) == 1
    assert retrying[0].endswith("retrying         wobble: ValueError: first attempt fails")


def test_retry_shows_the_same_progress_as_run(folder: Path) -> None:
    failed = mlops(folder, "run", "out_pipes.py:out_broken")
    assert failed.returncode == 1
    failed_id = int(re.findall(r"^Run (\d+) of", failed.stdout, re.MULTILINE)[0])
    assert "failed           fragile: RuntimeError: not fixed yet" in failed.stdout
    (folder / "fixed").write_text("yes")
    result = mlops(folder, "retry", str(failed_id))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Retry of run {failed_id}:"
    assert re.fullmatch(r"run \d+ started: out_broken \(1 node\)", lines[1])
    assert lines[2].split()[1:] == ["[0/1]", "running", "fragile"]
    assert lines[3].split()[1:] == ["[1/1]", "succeeded", "fragile"]
    assert re.search(r"^Run \d+ of out_broken succeeded", result.stdout, re.MULTILINE)


def test_show_with_an_unknown_run_prints_only_the_error(folder: Path) -> None:
    result = mlops(folder, "show", "out_pipes.py:out_planned", "--run", "99999")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "mlops: error: no run with id 99999"


# --- the progress displays, fed events directly -----------------------------------


def _event(kind: str, done: int, total: int, **kw: Any) -> RunEvent:
    return RunEvent(
        kind,
        4,
        kw.get("node"),
        kw.get("state"),
        done,
        total,
        kw.get("elapsed", 0.5),
        tuple(kw.get("running", ())),
        kw.get("error", ""),
    )


def test_plain_progress_counts_only_this_runs_work() -> None:
    out = io.StringIO()
    progress = PlainProgress("p", out)
    progress.on_event(_event("run_started", 1, 1))
    progress.on_event(_event("run_started", 0, 1))
    progress.on_event(_event("run_started", 2, 5))
    progress.on_event(_event("task_finished", 3, 5, node="fit", state="succeeded"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "run 4 started: p (1 node, 0 to run)"
    assert lines[1] == "run 4 started: p (1 node)"
    assert lines[2] == "run 4 started: p (5 nodes, 3 to run)"
    assert lines[3].split() == ["0.50s", "[1/3]", "succeeded", "fit"]


class _Terminal(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_live_progress_gives_the_error_of_failures_and_retries() -> None:
    out = _Terminal()
    progress = LiveProgress("p", out, colour=False, interval=60)
    progress.on_event(_event("run_started", 0, 2))
    progress.on_event(
        _event("task_finished", 0, 2, node="fit", state="retrying", error="ValueError: odd")
    )
    progress.on_event(_event("task_finished", 1, 2, node="fit", state="failed", error="E: x"))
    text = out.getvalue()
    assert "✗ fit failed, retrying: ValueError: odd\n" in text
    assert "✗ fit failed after 0.500s: E: x\n" in text
    progress.close()


def test_live_progress_shows_teed_output_above_its_line() -> None:
    out = _Terminal()
    progress = LiveProgress("p", out, colour=False, interval=60)
    progress.on_event(_event("run_started", 0, 2))
    took, token = capture.start(tee=True)
    router = capture.StreamRouter(out, "stdout")  # as sys.stdout is during a run
    try:
        router.write("half ")
        drawn = out.getvalue()
        progress.on_event(_event("task_started", 0, 2, node="fit", running=["fit"]))
        assert out.getvalue() == drawn  # no status line in the middle of the node's line
        router.write("a line\n")
    finally:
        capture.stop(token)
    text = out.getvalue()
    assert "\r\x1b[2Khalf a line\n" in text
    assert text.endswith("running: fit")  # redrawn below the node's line
    assert took.values()[0] == "half a line\n"  # and captured as well
    progress.close()
    assert capture.set_echo(None) is not progress.echo  # close gave the echo back
