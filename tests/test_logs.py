"""``mlops logs`` and the inline executor's tee, end to end in real processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

NOISY = """
import logging, sys, time
from django_mlops import Pipeline

noisy = Pipeline("logs_noisy", params={"pause": 0.0})

# Declared before the node it reads from: pipeline order is not declaration order.
@noisy.node(inputs=["raw", "params:pause"], outputs="clean")
def tidy(raw, pause):
    time.sleep(pause)
    print("tidy got", raw)
    print("tidy warns", file=sys.stderr)
    logging.getLogger("noisy").warning("tidy logged this")
    return raw.strip()

@noisy.node(inputs="params:pause", outputs="raw")
def fetch(pause):
    time.sleep(pause)
    print("fetch says hello")
    return " text "

@noisy.node(inputs=["clean", "params:pause"], outputs="size")
def measure(clean, pause):
    time.sleep(pause)
    return len(clean)
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("logs")
    (path / "noisy.py").write_text(NOISY)
    return path


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(MLOPS_HOME=str(folder / "home"), PYTHONPATH=str(REPO / "src"))
    return env


def mlops(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django_mlops.cli", *args],
        cwd=folder,
        env=_env(folder),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run_id(output: str) -> int:
    match = re.search(r"^Run (\d+) of ", output, re.MULTILINE)
    assert match, output
    return int(match.group(1))


@pytest.fixture(scope="module")
def noisy_run(folder: Path) -> tuple[int, subprocess.CompletedProcess[str]]:
    result = mlops(folder, "run", "noisy.py", "--no-cache", "--executor", "inline")
    assert result.returncode == 0, result.stderr
    return _run_id(result.stdout), result


def test_inline_prints_reach_the_terminal_while_captured(
    noisy_run: tuple[int, subprocess.CompletedProcess[str]],
) -> None:
    _, result = noisy_run
    assert "fetch says hello\n" in result.stdout
    assert "tidy got  text \n" in result.stdout
    assert "tidy warns\n" in result.stderr
    # Shown as it happens: between the progress lines of its node.
    lines = result.stdout.splitlines()
    hello = lines.index("fetch says hello")
    assert "running" in lines[hello - 1] and "fetch" in lines[hello - 1]


def test_logs_of_one_node(
    folder: Path, noisy_run: tuple[int, subprocess.CompletedProcess[str]]
) -> None:
    run, _ = noisy_run
    result = mlops(folder, "logs", str(run), "tidy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:5] == [
        "tidy got  text ",
        "--- stderr ---",
        "tidy warns",
        "--- log ---",
        result.stdout.splitlines()[4],
    ]
    assert "WARNING noisy: tidy logged this" in result.stdout
    assert "fetch says hello" not in result.stdout


def test_logs_of_every_node_in_pipeline_order(
    folder: Path, noisy_run: tuple[int, subprocess.CompletedProcess[str]]
) -> None:
    run, _ = noisy_run
    result = mlops(folder, "logs", str(run))
    assert result.returncode == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if line.startswith("== ")]
    assert headers == [
        "== fetch (succeeded) ==",
        "== tidy (succeeded) ==",
    ]  # measure printed nothing
    assert result.stdout.index("fetch says hello") < result.stdout.index("tidy got")


def test_logs_of_a_node_that_printed_nothing(
    folder: Path, noisy_run: tuple[int, subprocess.CompletedProcess[str]]
) -> None:
    run, _ = noisy_run
    result = mlops(folder, "logs", str(run), "measure")
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr.strip() == f"run {run}: node 'measure' printed nothing"


def test_logs_with_a_bad_run_or_node_is_one_line(
    folder: Path, noisy_run: tuple[int, subprocess.CompletedProcess[str]]
) -> None:
    run, _ = noisy_run
    missing = mlops(folder, "logs", "99999")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "mlops: error: no run with id 99999"
    node = mlops(folder, "logs", str(run), "nope")
    assert node.returncode == 1
    assert node.stderr.strip() == (
        f"mlops: error: run {run} has no node 'nope' (nodes: fetch, tidy, measure)"
    )


def test_status_lists_tasks_in_pipeline_order_and_points_at_logs(
    folder: Path, noisy_run: tuple[int, subprocess.CompletedProcess[str]]
) -> None:
    run, _ = noisy_run
    result = mlops(folder, "status", str(run))
    assert result.returncode == 0, result.stderr
    nodes = [
        line.split()[0]
        for line in result.stdout.splitlines()
        if line.startswith("  ") and line.split()[0] in ("fetch", "tidy", "measure")
    ]
    assert nodes == ["fetch", "tidy", "measure"]
    assert f"Output of fetch, tidy: mlops logs {run} [NODE]" in result.stdout


def test_follow_prints_output_until_the_run_ends(folder: Path) -> None:
    runner = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django_mlops.cli",
            "run",
            "noisy.py",
            "--no-cache",
            "-p",
            "pause=1",
        ],
        cwd=folder,
        env=_env(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert runner.stdout is not None
        started = runner.stdout.readline()
        match = re.match(r"run (\d+) started", started)
        assert match, started
        follow = mlops(folder, "logs", match.group(1), "--follow")
        _, err = runner.communicate(timeout=60)
    finally:
        runner.kill()
    assert runner.returncode == 0, err
    assert follow.returncode == 0, follow.stderr
    assert "fetch says hello" in follow.stdout and "tidy got  text " in follow.stdout
    assert follow.stdout.rstrip().endswith(f"-- run {match.group(1)} succeeded")


TIMED = """
from django_mlops import Pipeline

timed = Pipeline("logs_timed")

@timed.node(outputs="x", timeout=30)  # a timeout sends the node through the executor's watchdog
def guarded():
    print("guarded prints too")
    return 1
"""


def test_a_node_with_a_timeout_is_teed_as_well(folder: Path) -> None:
    (folder / "timed.py").write_text(TIMED)
    result = mlops(folder, "run", "timed.py", "--no-cache", "--executor", "inline")
    assert result.returncode == 0, result.stderr
    assert "guarded prints too\n" in result.stdout
    logs = mlops(folder, "logs", str(_run_id(result.stdout)), "guarded")
    assert logs.stdout == "guarded prints too\n"
