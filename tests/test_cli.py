"""The command line as a user meets it: ``mlops ...`` in a folder, and ``manage.py mlops ...``.

Most tests run the CLI as a subprocess (``python -m django_mlops.cli``) in a temporary
folder with ``MLOPS_HOME`` set and no ``DJANGO_SETTINGS_MODULE`` (standalone mode),
against a small pipelines file written there. The progress renderer and argument
types are also tested directly with synthetic events.
"""

from __future__ import annotations

import io
import os
import pty
import re
import select
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from django_mlops.cli.base import Console, param_assignment, run_id
from django_mlops.cli.formatting import format_duration
from django_mlops.cli.progress import LiveProgress, PlainProgress, make_progress
from django_mlops.run.loop import RunEvent

REPO = Path(__file__).resolve().parent.parent

PIPELINES = """
import time
from django_mlops import Pipeline, log_metric

cli_sum = Pipeline("cli_sum", description="Sum some numbers", params={"n": 3, "pause": 0.0})

@cli_sum.node(inputs=["params:n", "params:pause"], outputs="numbers")
def make(n, pause):
    time.sleep(pause)
    return list(range(n))

@cli_sum.node(inputs=["numbers", "params:pause"], outputs="total", tags="math")
def add(numbers, pause):
    time.sleep(pause)
    log_metric("total", sum(numbers))
    return sum(numbers)

@cli_sum.node(inputs=["numbers", "params:pause"], outputs="count", tags="math")
def count(numbers, pause):
    time.sleep(pause)
    return len(numbers)

cli_broken = Pipeline("cli_broken")

@cli_broken.node(outputs="x")
def start():
    return 1

@cli_broken.node(inputs="x", outputs="y")
def explode(x):
    raise ValueError(f"bad value {x + 41}")

@cli_broken.node(inputs="y", outputs="z")
def after(y):
    return y

cli_slow = Pipeline("cli_slow", params={"steps": 40, "pause": 0.25})

@cli_slow.node(inputs=["params:steps"], outputs="s0")
def first(steps):
    return steps

for i in range(1, 40):
    def step(value, pause, i=i):
        time.sleep(pause)
        return value
    cli_slow.node(step, name=f"step{i}", inputs=[f"s{i - 1}", "params:pause"], outputs=f"s{i}")

cli_noisy = Pipeline("cli_noisy")

@cli_noisy.node(outputs="stamp")
def stamp():
    return time.time_ns()
"""

CYCLE = """
from django_mlops import Pipeline

loop = Pipeline("cli_loop")

@loop.node(inputs="x", outputs="y")
def a(x):
    return x

@loop.node(inputs="y", outputs="z")
def b(y):
    return y

@loop.node(inputs="z", outputs="x")
def c(z):
    return z
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the pipelines files; MLOPS_HOME is ``home`` inside it."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / "cli_pipes.py").write_text(PIPELINES)
    (folder / "cli_cycle.py").write_text(CYCLE)
    return folder


def _env(workspace: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(MLOPS_HOME=str(workspace / "home"), PYTHONPATH=str(REPO / "src"), **extra)
    env.pop("NO_COLOR", None)
    return env


def mlops(
    workspace: Path, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``mlops ARGS`` in ``workspace`` the way a user would; never raises on exit codes."""
    return subprocess.run(
        [sys.executable, "-m", "django_mlops.cli", *args],
        cwd=workspace,
        env=_env(workspace, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_number(output: str) -> int:
    """The id in the summary line ``Run N of ...``."""
    match = re.search(r"^Run (\d+) of ", output, re.MULTILINE)
    assert match, output
    return int(match.group(1))


# --- the subcommands, end to end -------------------------------------------------


def test_help_needs_no_database(tmp_path: Path) -> None:
    result = mlops(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("list", "show", "run", "runs", "status", "cancel", "retry", "reproduce"):
        assert command in result.stdout
    assert not (tmp_path / "home").exists()


def test_console_script_is_installed(workspace: Path) -> None:
    script = Path(sys.executable).with_name("mlops")
    if not script.exists():
        pytest.skip("the mlops console script is not installed next to this Python")
    result = subprocess.run(
        [str(script), "list", "cli_pipes.py"],
        cwd=workspace,
        env=_env(workspace),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "cli_sum" in result.stdout


def test_list_names_the_pipelines_of_a_file(workspace: Path) -> None:
    result = mlops(workspace, "list", "cli_pipes.py")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert {"cli_sum", "cli_broken", "cli_slow", "cli_noisy"} <= set(lines)
    assert "Sum some numbers" in lines["cli_sum"]
    assert re.search(r"cli_sum\s+3\s", lines["cli_sum"])


def test_list_names_prints_bare_names_for_scripts(workspace: Path) -> None:
    result = mlops(workspace, "list", "--names", "cli_pipes.py")
    assert result.returncode == 0, result.stderr
    names = result.stdout.split()
    assert {"cli_sum", "cli_broken", "cli_slow", "cli_noisy"} <= set(names)
    assert all(" " not in line for line in result.stdout.splitlines())


def test_show_lists_nodes_in_run_order(workspace: Path) -> None:
    result = mlops(workspace, "show", "cli_pipes.py:cli_sum")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "cli_sum: Sum some numbers" in out
    assert "params: n=3, pause=0" in out
    assert out.index("make: params:n, params:pause -> numbers") < out.index("add: numbers")
    assert "[tags math]" in out


def test_show_svg_writes_a_valid_svg(workspace: Path) -> None:
    target = workspace / "cli_sum.svg"
    result = mlops(workspace, "show", "cli_pipes.py:cli_sum", "--svg", str(target))
    assert result.returncode == 0, result.stderr
    root = ET.fromstring(target.read_text())
    assert root.tag.rpartition("}")[2] == "svg"
    text = "".join(root.itertext())
    for node in ("make", "add", "count"):
        assert node in text


def test_run_succeeds_records_and_summarises(workspace: Path) -> None:
    result = mlops(workspace, "run", "cli_pipes.py:cli_sum", "--param", "n=5", "--no-cache")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b[" not in out  # not a terminal: no escape codes
    assert re.search(r"^run \d+ started: cli_sum \(3 nodes\)$", out, re.MULTILINE)
    assert re.search(r"\[1/3\]\s+succeeded\s+make", out)
    number = run_number(out)
    assert f"Run {number} of cli_sum succeeded" in out
    assert "3 succeeded" in out
    assert "metrics: total=10" in out
    assert f"inspect: mlops status {number}" in out

    runs = mlops(workspace, "runs", "--pipeline", "cli_sum")
    assert runs.returncode == 0
    row = next(line for line in runs.stdout.splitlines() if line.startswith(f"{number} "))
    assert "succeeded" in row and "n=5" in row

    status = mlops(workspace, "status", str(number))
    assert status.returncode == 0, status.stderr
    assert f"Run {number} of cli_sum: succeeded" in status.stdout
    assert re.search(r"make\s+succeeded\s+1\s", status.stdout)
    assert re.search(r"total\s+10", status.stdout)


def test_a_second_run_reuses_everything(workspace: Path) -> None:
    first = mlops(workspace, "run", "cli_pipes.py:cli_sum", "--param", "n=7")
    assert first.returncode == 0, first.stderr
    second = mlops(workspace, "run", "cli_sum", "--param", "n=7")  # by name: remembered
    assert second.returncode == 0, second.stderr
    assert "3 cached" in second.stdout
    status = mlops(workspace, "status", str(run_number(second.stdout)))
    assert re.search(r"add\s+cached\s+0\s", status.stdout)


def test_param_values_are_json_when_they_parse(workspace: Path) -> None:
    result = mlops(workspace, "run", "cli_pipes.py:cli_sum", "-p", "n=4", "-p", "pause=0.01")
    assert result.returncode == 0, result.stderr
    assert "metrics: total=6" in result.stdout


def test_unknown_param_is_a_usage_error(workspace: Path) -> None:
    result = mlops(workspace, "run", "cli_pipes.py:cli_sum", "-p", "m=1")
    assert result.returncode == 2
    assert "no param 'm'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failing_node_fails_the_run_with_its_error(workspace: Path) -> None:
    result = mlops(workspace, "run", "cli_pipes.py:cli_broken")
    assert result.returncode == 1
    assert "explode failed: ValueError: bad value 42" in result.stdout
    assert "1 succeeded, 1 failed, 1 upstream failed" in result.stdout
    status = mlops(workspace, "status", str(run_number(result.stdout)))
    assert "Errors:" in status.stdout
    assert "explode: ValueError: bad value 42" in status.stdout
    assert re.search(r'at File ".*cli_pipes\.py", line \d+, in explode', status.stdout)


def test_retry_reuses_finished_work(workspace: Path) -> None:
    failed = mlops(workspace, "run", "cli_pipes.py:cli_broken")
    retried = mlops(workspace, "retry", str(run_number(failed.stdout)))
    assert retried.returncode == 1  # the code still raises
    assert "1 cached, 1 failed" in retried.stdout
    assert run_number(retried.stdout) > run_number(failed.stdout)


def test_reproduce_identical_outputs_exit_0(workspace: Path) -> None:
    original = mlops(workspace, "run", "cli_pipes.py:cli_sum", "-p", "n=9")
    result = mlops(workspace, "reproduce", str(run_number(original.stdout)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "outputs: all 3 identical" in result.stdout


def test_reproduce_different_outputs_exit_1(workspace: Path) -> None:
    original = mlops(workspace, "run", "cli_pipes.py:cli_noisy")
    assert original.returncode == 0, original.stderr
    result = mlops(workspace, "reproduce", str(run_number(original.stdout)))
    assert result.returncode == 1
    assert "output 'stamp' differs" in result.stdout


def test_cancel_of_a_finished_run_is_a_clear_error(workspace: Path) -> None:
    done = mlops(workspace, "run", "cli_pipes.py:cli_sum")
    result = mlops(workspace, "cancel", str(run_number(done.stdout)))
    assert result.returncode == 1
    assert "nothing to cancel" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_run_and_unknown_pipeline(workspace: Path) -> None:
    missing = mlops(workspace, "status", "99999")
    assert missing.returncode == 1
    assert "no run with id 99999" in missing.stderr
    mlops(workspace, "list", "cli_pipes.py")  # make sure cli_sum is known
    unknown = mlops(workspace, "run", "no_such_pipeline")
    assert unknown.returncode == 2
    assert "no pipeline named 'no_such_pipeline'" in unknown.stderr
    assert "cli_sum" in unknown.stderr  # the known ones are listed


def test_a_cycle_is_a_definition_error_with_its_path(workspace: Path) -> None:
    result = mlops(workspace, "show", "cli_cycle.py")
    assert result.returncode == 2
    assert "cycle: a -> b -> c -> a" in result.stderr
    assert "Traceback" not in result.stderr


def _start_slow(workspace: Path, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django_mlops.cli",
            "run",
            "cli_pipes.py:cli_slow",
            "--no-cache",
            *options,
        ],
        cwd=workspace,
        env=_env(workspace),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_line(process: subprocess.Popen[str], pattern: str) -> re.Match[str]:
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        match = re.search(pattern, line)
        if match:
            return match
        assert line, "the run ended before the expected line"
    raise AssertionError(f"no line matching {pattern!r}")


def test_cancel_stops_a_running_run(workspace: Path) -> None:
    process = _start_slow(workspace)
    try:
        number = int(_wait_for_line(process, r"^run (\d+) started").group(1))
        _wait_for_line(process, r"succeeded\s+step2$")
        cancel = mlops(workspace, "cancel", str(number))
        assert cancel.returncode == 0, cancel.stderr
        assert f"Run {number}: cancel requested" in cancel.stdout
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1
    assert f"Run {number} of cli_slow cancelled" in out
    status = mlops(workspace, "status", str(number))
    assert f"Run {number} of cli_slow: cancelled" in status.stdout
    # Stopped well before the end: 40 steps at 0.25 s would take 10 s.
    assert re.search(r"step39\s+(cancelled|pending|ready|not_started)", status.stdout)


def test_ctrl_c_cancels_the_run_and_exits_130(workspace: Path) -> None:
    process = _start_slow(workspace)
    try:
        number = int(_wait_for_line(process, r"^run (\d+) started").group(1))
        _wait_for_line(process, r"succeeded\s+step1$")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Interrupted" in out
    assert "Traceback" not in err
    status = mlops(workspace, "status", str(number))
    assert f"Run {number} of cli_slow: cancelled" in status.stdout


def test_ctrl_c_under_threads_leaves_no_engine_object_alive(workspace: Path) -> None:
    # A pool thread still inside the cancelled node at interpreter exit kept the
    # pipeline's engine Graph alive: nanobind then reported leaked instances.
    # Its steps sleep 0.9 s: longer than the process takes to exit, shorter than
    # the executor's grace for threads unwinding a cancel.
    process = _start_slow(workspace, "--executor", "threads", "--param", "pause=0.9")
    try:
        _wait_for_line(process, r"running\s+step2$")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Interrupted" in out
    assert "leaked" not in err, err


def _run_on_terminal(workspace: Path, args: Sequence[str], term: str) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdout and stderr; return (exit code, output)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "django_mlops.cli", *args],
        cwd=workspace,
        env=_env(workspace, TERM=term, COLUMNS="100"),
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    code = process.wait(timeout=30)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_live_progress_on_a_terminal(workspace: Path) -> None:
    code, output = _run_on_terminal(
        workspace, ["run", "cli_pipes.py:cli_sum", "-p", "pause=0.6", "--no-cache"], "xterm"
    )
    assert code == 0, output
    assert "\r\x1b[2K" in output  # the status line is redrawn in place
    assert "running: make" in output
    assert re.search(r"cli_sum 1/3 .*running: add", output)
    assert "3/3" in output
    assert re.search(r"Run \d+ of cli_sum \x1b\[32msucceeded\x1b\[0m", output)
    # No per-event lines: those are for logs and pipes.
    assert "[1/3]" not in output


def test_terminal_with_term_dumb_gets_plain_lines(workspace: Path) -> None:
    code, output = _run_on_terminal(workspace, ["run", "cli_pipes.py:cli_sum"], "dumb")
    assert code == 0, output
    assert "\x1b[" not in output
    assert "Run " in output


# --- the management command ------------------------------------------------------


def test_manage_py_mlops_in_a_project(workspace: Path, tmp_path: Path) -> None:
    """``python -m django mlops`` with a project's settings: same commands, same exit codes."""
    (tmp_path / "cli_project_settings.py").write_text(
        textwrap.dedent(
            f"""
            from tests.settings import *  # noqa: F403

            DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3",
                                      "NAME": {str(tmp_path / "db.sqlite3")!r}}}}}
            MLOPS = {{"HOME": {str(tmp_path / "home")!r},
                     "PIPELINE_MODULES": [{str(workspace / "cli_pipes.py")!r}]}}
            """
        )
    )
    env = _env(workspace, DJANGO_SETTINGS_MODULE="cli_project_settings")
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(REPO), str(REPO / "src")])

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "django", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    migrate = manage("migrate", "--verbosity", "0")
    assert migrate.returncode == 0, migrate.stderr
    listing = manage("mlops", "list")
    assert listing.returncode == 0, listing.stderr
    assert "cli_sum" in listing.stdout
    run = manage("mlops", "run", "cli_sum", "--param", "n=4")
    assert run.returncode == 0, run.stderr
    assert "metrics: total=6" in run.stdout
    assert f"inspect: python -m django mlops status {run_number(run.stdout)}" in run.stdout
    failed = manage("mlops", "run", "cli_broken")
    assert failed.returncode == 1
    assert "explode failed: ValueError: bad value 42" in failed.stdout
    cancel = manage("mlops", "cancel", str(run_number(run.stdout)))
    assert cancel.returncode == 1
    assert "nothing to cancel" in cancel.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("tmp_mlops_home")
def test_call_command_runs_in_process(workspace: Path) -> None:
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("mlops", "run", str(workspace / "cli_pipes.py:cli_sum"), stdout=out)
    assert "Run " in out.getvalue() and "succeeded" in out.getvalue()
    assert "metrics: total=3" in out.getvalue()
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("mlops", "run", str(workspace / "cli_pipes.py:cli_broken"), stdout=out)
    assert failure.value.returncode == 1
    assert "explode failed" in out.getvalue()
    with pytest.raises(CommandError) as unknown:
        call_command("mlops", "status", "424242")
    assert "no run with id 424242" in str(unknown.value)


# --- pieces, without a subprocess ------------------------------------------------


class _Terminal(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def _event(kind: str, node: str | None, state: str | None, done: int, **kw: Any) -> RunEvent:
    return RunEvent(
        kind, 7, node, state, done, 3, kw.get("elapsed", 0.5), tuple(kw.get("running", ()))
    )


def test_plain_progress_prints_one_line_per_event() -> None:
    out = io.StringIO()
    progress = PlainProgress("demo", out)
    progress.on_event(_event("run_started", None, None, 0))
    progress.on_event(_event("task_started", "load", "running", 0, running=["load"]))
    progress.on_event(_event("task_finished", "load", "failed", 1, elapsed=1.25))
    progress.on_event(_event("run_finished", None, "failed", 3, elapsed=2.0))
    lines = out.getvalue().splitlines()
    assert lines[0] == "run 7 started: demo (3 nodes)"
    assert lines[1].split() == ["0.50s", "[0/3]", "running", "load"]
    assert lines[2].split() == ["1.25s", "[1/3]", "failed", "load"]
    assert lines[3] == "run finished: failed"  # the summary after it gives the duration
    assert progress.run_id == 7


def test_live_progress_redraws_and_keeps_failures_on_screen() -> None:
    out = _Terminal()
    progress = LiveProgress("demo", out, colour=False, interval=60)
    progress.on_event(_event("run_started", None, None, 0))
    progress.on_event(_event("task_started", "fit", "running", 0, running=["fit", "prep"]))
    assert out.getvalue().endswith("running: fit, prep")
    progress.on_event(_event("task_finished", "fit", "retrying", 0, running=["prep"]))
    progress.on_event(_event("task_finished", "prep", "failed", 1, elapsed=1.5))
    text = out.getvalue()
    assert "\r\x1b[2K✗ fit failed, retrying\n" in text
    assert "\r\x1b[2K✗ prep failed after 1.5s\n" in text
    assert text.endswith("1 failed")
    assert "demo 1/3 ██████░░░░░░░░░░░░░░ " in text
    progress.on_event(_event("run_finished", None, "failed", 3))
    assert out.getvalue().endswith("\r\x1b[2K")  # the status line is gone
    progress.close()
    assert progress._ticker is not None and not progress._ticker.is_alive()


def test_live_status_line_fits_the_width() -> None:
    progress = LiveProgress("demo", _Terminal(), colour=False, unicode=False)
    progress.on_event(
        _event("task_started", "n", "running", 1, running=[f"node{i}" for i in range(50)])
    )
    line = progress.status_line(60)
    assert len(line) == 60 and line.endswith(">")
    assert "demo 1/3 ######--------------" in line
    progress.close()


def test_make_progress_picks_by_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    assert isinstance(make_progress(Console(_Terminal(), io.StringIO()), "p"), LiveProgress)
    assert isinstance(make_progress(Console(io.StringIO(), io.StringIO()), "p"), PlainProgress)
    monkeypatch.setenv("TERM", "dumb")
    assert isinstance(make_progress(Console(_Terminal(), io.StringIO()), "p"), PlainProgress)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C=0.5", ("C", "0.5")),  # texts: the param's type reads them (tests/test_params.py)
        ("n=3", ("n", "3")),
        ("flag=true", ("flag", "true")),
        ("name=iris", ("name", "iris")),
        ('quoted="x"', ("quoted", '"x"')),
        ("sizes=[1, 2]", ("sizes", "[1, 2]")),
        ("expr=a=b", ("expr", "a=b")),
        ("empty=", ("empty", "")),
    ],
)
def test_param_assignment(text: str, expected: tuple[str, Any]) -> None:
    assert param_assignment(text) == expected


@pytest.mark.parametrize("bad", ["novalue", "=3"])
def test_param_assignment_needs_a_key(bad: str) -> None:
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        param_assignment(bad)


def test_run_id_and_durations() -> None:
    import argparse

    assert run_id("12") == 12 and run_id("#3") == 3
    with pytest.raises(argparse.ArgumentTypeError):
        run_id("zero")
    with pytest.raises(argparse.ArgumentTypeError):
        run_id("0")
    assert [format_duration(s) for s in (0.0123, 3.44, 125, 3725, None)] == [
        "0.012s",
        "3.4s",
        "2m05s",
        "1h02m",
        "-",
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("tmp_mlops_home")
def test_summary_shows_a_few_metrics_and_counts_the_rest() -> None:
    from django_mlops import Pipeline, log_metrics

    sweep = Pipeline("cli_many_metrics")

    @sweep.node(outputs="scores")
    def score() -> dict[str, float]:
        scores = {f"m{i:02d}": float(i) for i in range(12)}
        log_metrics(scores)
        return scores

    from django_mlops.cli.summary import print_summary

    run = sweep.run()
    out = io.StringIO()
    print_summary(run, Console(out, io.StringIO()))
    line = next(line for line in out.getvalue().splitlines() if "metrics:" in line)
    assert "m07=7" in line and "m08" not in line
    assert line.endswith("(+4 more)")


def test_show_colours_the_picture_by_a_run(workspace: Path) -> None:
    failed = mlops(workspace, "run", "cli_pipes.py:cli_broken", "--no-cache")
    number = str(run_number(failed.stdout))
    picture = workspace / "broken.svg"
    result = mlops(
        workspace, "show", "cli_pipes.py:cli_broken", "--run", number, "--svg", str(picture)
    )
    assert result.returncode == 0, result.stderr
    states = {
        e.get("data-node"): e.get("data-state")
        for e in ET.parse(picture).getroot().iter()
        if e.get("data-node")
    }
    assert states == {"start": "succeeded", "explode": "failed", "after": "upstream_failed"}
    other = mlops(workspace, "show", "cli_pipes.py:cli_sum", "--run", number, "--svg", str(picture))
    assert other.returncode == 1
    assert "is a run of 'cli_broken'" in other.stderr
