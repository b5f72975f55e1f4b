"""Declared read files (``reads=``): part of the key, recorded, explained, hashed fast."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from django_mlops import Pipeline
from django_mlops.datafiles import CACHE_NAME, FileHashes, _racy
from django_mlops.errors import PipelineError, ReadFileError
from django_mlops.models import Run, TaskRun

pytestmark = [pytest.mark.django_db]

REPO = Path(__file__).resolve().parent.parent

MODULE = """
from collections import deque
from pathlib import Path
from django_mlops import Pipeline

CALLS = deque()  # a list's contents would be part of the code hash
p = Pipeline("{name}")

@p.node(outputs="text", reads={reads!r})
def load():
    CALLS.append("load")
    return (Path(__file__).parent / "data" / "raw.csv").read_text()

@p.node(inputs=["text"], outputs="lines")
def count(text):
    CALLS.append("count")
    return len(text.splitlines())

@p.node(outputs="other")
def unrelated():
    CALLS.append("unrelated")
    return 1
"""


def _import(folder: Path, name: str, reads: list[str]) -> ModuleType:
    """Write the pipeline module into ``folder`` and import it from its file."""
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(MODULE.format(name=name, reads=reads)))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def project(tmp_path: Path, tmp_mlops_home: Path, request: pytest.FixtureRequest) -> Any:
    """A folder with ``data/raw.csv`` (old enough to be remembered) and a module factory."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "raw.csv").write_text("a,b\n1,2\n")
    time.sleep(0.15)  # past the "racy" window: its digest may be remembered
    name = "reads_" + request.node.name.replace("test_", "")[:30].replace("[", "_").strip("]")
    made: list[str] = []

    def make(reads: list[str]) -> ModuleType:
        made.append(name)
        return _import(tmp_path, name, reads)

    yield make
    for module in made:
        sys.modules.pop(module, None)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_changed_file_reruns_its_reader_and_says_which_file(project: Any, tmp_path: Path) -> None:
    module = project(["data/raw.csv"])
    first = module.p.run(executor="inline")
    raw = tmp_path / "data" / "raw.csv"
    assert TaskRun.objects.get(run=first, node="load").reads == {"data/raw.csv": _sha(raw)}
    assert TaskRun.objects.get(run=first, node="count").reads == {}
    module.CALLS.clear()
    again = module.p.run(executor="inline")
    assert not module.CALLS and again.tasks["load"].state == "cached"

    raw.write_text("a,b\n1,2\n3,4\n")
    module.CALLS.clear()
    changed = module.p.run(executor="inline")
    assert sorted(module.CALLS) == ["count", "load"]
    assert changed.tasks["load"].reason_detail == "file data/raw.csv changed"
    assert changed.tasks["count"].reason_detail == "input 'text' changed"
    assert changed.tasks["unrelated"].state == "cached"
    assert changed.output("lines") == 3
    # The code hash is the function's alone: the file is not mistaken for code.
    assert changed.tasks["load"].code_hash == first.tasks["load"].code_hash
    assert TaskRun.objects.get(run=changed, node="load").reads == {"data/raw.csv": _sha(raw)}


def test_folder_means_every_file_under_it(project: Any, tmp_path: Path) -> None:
    module = project(["data"])
    first = module.p.run(executor="inline")
    assert set(TaskRun.objects.get(run=first, node="load").reads) == {"data/raw.csv"}
    (tmp_path / "data" / "deeper").mkdir()
    (tmp_path / "data" / "deeper" / "notes.txt").write_text("x")
    added = module.p.run(executor="inline")
    assert added.tasks["load"].reason_detail == "file data/deeper/notes.txt added"
    (tmp_path / "data" / "deeper" / "notes.txt").unlink()
    removed = module.p.run(executor="inline")
    assert removed.tasks["load"].state == "cached"  # the same files as the first run


def test_glob_pattern_counts_only_what_it_matches(project: Any, tmp_path: Path) -> None:
    module = project(["data/*.csv"])
    module.p.run(executor="inline")
    (tmp_path / "data" / "notes.txt").write_text("not a csv")
    assert module.p.run(executor="inline").tasks["load"].state == "cached"
    (tmp_path / "data" / "more.csv").write_text("c\n5\n")
    run = module.p.run(executor="inline")
    assert run.tasks["load"].reason_detail == "file data/more.csv added"
    assert set(TaskRun.objects.get(run=run, node="load").reads) == {
        "data/more.csv",
        "data/raw.csv",
    }


def test_absolute_path_is_recorded_as_given(project: Any, tmp_path: Path) -> None:
    raw = tmp_path / "data" / "raw.csv"
    module = project([str(raw)])
    run = module.p.run(executor="inline")
    assert TaskRun.objects.get(run=run, node="load").reads == {raw.as_posix(): _sha(raw)}


def test_relative_paths_follow_the_pipeline_file_not_the_current_directory(
    project: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = project(["data/raw.csv"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert module.p["load"].reads_root == str(tmp_path)
    assert module.p.run(executor="inline").status == "succeeded"


def test_missing_file_fails_before_a_run_is_recorded(project: Any, tmp_path: Path) -> None:
    module = project(["data/missing.csv"])
    with pytest.raises(ReadFileError) as caught:
        module.p.run(executor="inline")
    message = str(caught.value)
    assert "node 'load' reads 'data/missing.csv'" in message
    assert str(tmp_path / "data" / "missing.csv") in message
    assert Run.objects.count() == 0
    assert not module.CALLS
    # Unrecorded runs check the files too.
    with pytest.raises(ReadFileError, match=r"data/missing\.csv"):
        module.p.run(executor="inline", record=False)


def test_pattern_matching_nothing_is_an_error(project: Any) -> None:
    module = project(["data/*.parquet"])
    with pytest.raises(ReadFileError, match=r"node 'load' reads 'data/\*\.parquet', but no file"):
        module.p.run(executor="inline")


def test_reads_must_be_non_empty_strings() -> None:
    p = Pipeline("reads_bad_names")
    p.node(outputs="y", reads="one.csv", name="g")(lambda: 1)
    assert p["g"].reads == ("one.csv",) and p["g"].reads_root == str(Path(__file__).parent)
    with pytest.raises(PipelineError, match="node 'f': reads must be non-empty strings"):
        p.node(outputs="x", reads=["ok.csv", ""], name="f")(lambda: 1)


def test_digests_are_remembered_by_size_and_times(project: Any, tmp_path: Path) -> None:
    module = project(["data/raw.csv"])
    raw = tmp_path / "data" / "raw.csv"
    first = module.p.run(executor="inline")
    store = Path(tmp_path / "mlops-home" / CACHE_NAME)
    entries = json.loads(store.read_text())
    stat = raw.stat()
    assert entries[str(raw)] == [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, _sha(raw)]
    # A remembered digest is used without reading the file: a planted one shows.
    entries[str(raw)][3] = "0" * 64
    store.write_text(json.dumps(entries))
    fooled = module.p.run(executor="inline")
    assert fooled.tasks["load"].reason_detail == "file data/raw.csv changed"
    # New times: the file is read again, and the same bytes give the first key back.
    os.utime(raw, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    time.sleep(0.15)
    back = module.p.run(executor="inline")
    assert back.tasks["load"].state == "cached"
    assert back.tasks["load"].key == first.tasks["load"].key


def test_unreadable_memory_is_ignored(project: Any, tmp_path: Path) -> None:
    (tmp_path / "mlops-home" / CACHE_NAME).write_text("{not json")
    module = project(["data/raw.csv"])
    assert module.p.run(executor="inline").status == "succeeded"
    assert str(tmp_path / "data" / "raw.csv") in json.loads(
        (tmp_path / "mlops-home" / CACHE_NAME).read_text()
    )


def test_a_file_changed_just_now_is_hashed_again_next_time(tmp_path: Path) -> None:
    path = tmp_path / "fresh.csv"
    path.write_text("1")
    stat = path.stat()
    changed = max(stat.st_mtime_ns, stat.st_ctime_ns)
    assert _racy(stat, changed + 50_000_000)
    assert not _racy(stat, changed + 500_000_000)
    store = tmp_path / "hashes.json"
    hashes = FileHashes(store)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ctime: now
    assert hashes.digest(str(path)) == _sha(path)
    hashes.save()
    assert not store.exists()  # nothing learnt that could be trusted


def _script_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(MLOPS_HOME=str(home), PYTHONPATH=str(REPO / "src"))
    return env


SCRIPT = """
from django_mlops import Pipeline
from django_mlops.standalone import bootstrap

bootstrap.setup()
p = Pipeline("reads_main")

@p.node(outputs="n", reads=["data/raw.csv"])
def load():
    return len(open("data/raw.csv").read())

run = p.run(executor="inline")
print(run.tasks["load"].state, run.tasks["load"].reason_detail)
"""


def test_code_without_a_file_reads_relative_to_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw.csv").write_text("abc")

    def run() -> str:
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            cwd=tmp_path,
            env=_script_env(tmp_path / "home"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert run() == "succeeded first run"
    assert run() == "cached outputs stored under the same key"
    (tmp_path / "data" / "raw.csv").write_text("abcd")
    assert run() == "succeeded file data/raw.csv changed"


CLI_PIPELINE = """
from django_mlops import Pipeline

files = Pipeline("reads_cli")

@files.node(outputs="size", reads=["data/raw.csv"])
def load():
    return 1
"""


def test_status_says_which_file_changed(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw.csv").write_text("a\n")
    (tmp_path / "cli_reads.py").write_text(CLI_PIPELINE)

    def mlops(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "django_mlops.cli", *args],
            cwd=tmp_path,
            env=_script_env(tmp_path / "home"),
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert mlops("run", "cli_reads.py:reads_cli").returncode == 0
    (tmp_path / "data" / "raw.csv").write_text("a\nb\n")
    second = mlops("run", "cli_reads.py:reads_cli")
    assert second.returncode == 0, second.stderr
    status = mlops("status", "2")
    assert status.returncode == 0, status.stderr
    assert "file data/raw.csv changed" in status.stdout
    (tmp_path / "data" / "raw.csv").unlink()
    missing = mlops("run", "cli_reads.py:reads_cli")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"mlops: error: node 'load' reads 'data/raw.csv', but there is no such file or folder "
        f"({tmp_path / 'data' / 'raw.csv'})"
    ]
