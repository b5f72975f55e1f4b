"""Plain scripts, ``python -c`` and event loops: ``Pipeline.run`` with no Django set up by hand.

Every test runs a real Python process in a temporary folder, the way a data
scientist would, with no DJANGO_SETTINGS_MODULE unless the test sets one.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

PIPELINE = """
from django_mlops import Pipeline

numbers = Pipeline("script_numbers", params={"n": 4})

@numbers.node(inputs="params:n", outputs="values")
def make(n):
    return list(range(n))

@numbers.node(inputs="values", outputs="total")
def add(values):
    return sum(values)
"""

REPORT = """
import django_mlops
run = numbers.run()
print("status", run.status, "total", run.output("total"))
print("runs", django_mlops.runs().count(), "latest", django_mlops.runs().first().pk == run.pk)
print("get_run", django_mlops.get_run(run.pk).status)
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "MLOPS_HOME")}
    env["PYTHONPATH"] = str(REPO / "src")
    env.update(extra)
    return env


def _python(
    folder: Path, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=folder,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_plain_script_configures_standalone_mode_in_dot_mlops(tmp_path: Path) -> None:
    (tmp_path / "my_script.py").write_text(PIPELINE + REPORT)
    result = _python(tmp_path, "my_script.py")
    assert result.returncode == 0, result.stderr
    assert "status succeeded total 6" in result.stdout
    assert "runs 1 latest True" in result.stdout
    assert "get_run succeeded" in result.stdout
    assert (tmp_path / ".mlops" / "db.sqlite3").is_file()
    again = _python(tmp_path, "my_script.py")  # the second run finds the same records
    assert "runs 2 latest True" in again.stdout, again.stderr


def test_python_dash_c_uses_mlops_home(tmp_path: Path) -> None:
    home = tmp_path / "elsewhere"
    result = _python(tmp_path, "-c", PIPELINE + REPORT, MLOPS_HOME=str(home))
    assert result.returncode == 0, result.stderr
    assert "status succeeded total 6" in result.stdout
    assert (home / "db.sqlite3").is_file()
    assert not (tmp_path / ".mlops").exists()


def test_runs_works_before_any_run_in_a_fresh_folder(tmp_path: Path) -> None:
    code = "import django_mlops; print('count', django_mlops.runs().count())\n"
    code += "try:\n    django_mlops.get_run(5)\nexcept django_mlops.RunError as e:\n    print(e)\n"
    result = _python(tmp_path, "-c", code)
    assert result.returncode == 0, result.stderr
    assert "count 0" in result.stdout
    assert "no run with id 5" in result.stdout


PROJECT_SETTINGS = """
from pathlib import Path
SECRET_KEY = "test"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django_mlops"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": Path(__file__).parent / "project.sqlite3"}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
MLOPS = {"HOME": str(Path(__file__).parent / "project-home")}
"""


def test_a_configured_project_is_used_not_standalone(tmp_path: Path) -> None:
    (tmp_path / "proj_settings.py").write_text(PROJECT_SETTINGS)
    (tmp_path / "my_script.py").write_text(PIPELINE + REPORT)
    env = {"DJANGO_SETTINGS_MODULE": "proj_settings", "PYTHONPATH": f"{REPO / 'src'}:{tmp_path}"}
    migrate = _python(tmp_path, "-m", "django", "migrate", "-v", "0", **env)
    assert migrate.returncode == 0, migrate.stderr
    result = _python(tmp_path, "my_script.py", **env)
    assert result.returncode == 0, result.stderr
    assert "status succeeded total 6" in result.stdout
    assert not (tmp_path / ".mlops").exists()
    with sqlite3.connect(tmp_path / "project.sqlite3") as db:
        rows = db.execute("SELECT pipeline, status FROM django_mlops_run").fetchall()
    assert rows == [("script_numbers", "succeeded")]


def test_settings_configured_by_hand_are_used(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import django
        from django.conf import settings
        settings.configure(
            INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django_mlops"],
            DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3",
                                    "NAME": {str(tmp_path / "hand.sqlite3")!r}}}}},
            MLOPS={{"HOME": {str(tmp_path / "hand-home")!r}}},
        )
        django.setup()
        from django.core.management import call_command
        call_command("migrate", verbosity=0)
        """
    )
    result = _python(tmp_path, "-c", code + PIPELINE + REPORT)
    assert result.returncode == 0, result.stderr
    assert "status succeeded total 6" in result.stdout
    assert (tmp_path / "hand.sqlite3").is_file() and not (tmp_path / ".mlops").exists()


ASYNC = """
import asyncio

async def main():
    run = numbers.run()  # as in a notebook cell: an event loop runs in this thread
    print("status", run.status, run.pk)

asyncio.run(main())
"""


def test_run_inside_a_running_event_loop(tmp_path: Path) -> None:
    result = _python(tmp_path, "-c", PIPELINE + ASYNC)
    assert result.returncode == 0, result.stderr
    assert "SynchronousOnlyOperation" not in result.stderr
    assert re.search(r"status succeeded \d+", result.stdout)


SLOW_ASYNC = """
import asyncio, time
import django_mlops
from django_mlops import Pipeline

slow = Pipeline("script_slow")

@slow.node(outputs="a")
def first():
    print("first is running", flush=True)
    for _ in range(400):  # short sleeps: an interrupt lands between two of them
        time.sleep(0.05)
    return 1

@slow.node(inputs="a", outputs="b")
def second(a):
    return a

async def main():
    slow.run()

try:
    asyncio.run(main())
except KeyboardInterrupt:
    latest = django_mlops.runs().first()
    print("interrupted", latest.status, latest.tasks["first"].state, flush=True)
"""


def test_ctrl_c_cancels_a_run_started_inside_an_event_loop(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_ASYNC],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the node's print, teed to the terminal
        assert "first is running" in line, process.stderr.read() if process.stderr else ""
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "interrupted cancelled cancelled" in out, err
    assert time.monotonic() - started < 15  # not the 20 s the node would take


# --- clear errors ---------------------------------------------------------------


def _mlops(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _python(folder, "-m", "django_mlops.cli", *args, MLOPS_HOME=str(folder / "home"), **env)


def _one_clean_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "importlib" not in result.stderr
    return lines[0]


def test_a_syntax_error_names_the_users_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken_syntax.py").write_text("from django_mlops import Pipeline\n\ndef f(:\n")
    result = _mlops(tmp_path, "run", "broken_syntax.py")
    assert result.returncode == 2
    line = _one_clean_line(result)
    assert "broken_syntax.py, line 3: SyntaxError" in line


def test_an_import_error_names_the_users_line(tmp_path: Path) -> None:
    source = "from django_mlops import Pipeline\nimport no_such_module_xyz\n"
    (tmp_path / "broken_import.py").write_text(source)
    for command in ("run", "show", "list"):
        result = _mlops(tmp_path, command, "broken_import.py")
        assert result.returncode == 2, (command, result.stderr)
        line = _one_clean_line(result)
        assert "broken_import.py, line 2: ModuleNotFoundError" in line, line
        assert "no_such_module_xyz" in line


def test_an_error_raised_by_a_module_the_file_imports(tmp_path: Path) -> None:
    (tmp_path / "helper_mod.py").write_text("x = 1\nraise RuntimeError('helper is broken')\n")
    (tmp_path / "uses_helper.py").write_text("import helper_mod\n")
    result = _mlops(tmp_path, "run", "uses_helper.py", PYTHONPATH=f"{REPO / 'src'}:{tmp_path}")
    assert result.returncode == 2
    line = _one_clean_line(result)
    assert "uses_helper.py, line 1: RuntimeError: helper is broken" in line, line


def test_list_with_a_bad_module_or_a_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a_folder").mkdir()
    missing = _mlops(tmp_path, "list", "no_such_pipelines_module")
    assert missing.returncode == 2
    assert "cannot import module 'no_such_pipelines_module'" in _one_clean_line(missing)
    folder = _mlops(tmp_path, "list", "a_folder")
    assert folder.returncode == 2
    assert "a_folder is a folder" in _one_clean_line(folder)
    nofile = _mlops(tmp_path, "list", "nothere.py")
    assert nofile.returncode == 2
    assert "no such file" in _one_clean_line(nofile)


def test_a_settings_module_that_does_not_import_is_one_line(tmp_path: Path) -> None:
    result = _mlops(tmp_path, "runs", DJANGO_SETTINGS_MODULE="no_such_settings_xyz")
    assert result.returncode == 2
    line = _one_clean_line(result)
    assert "DJANGO_SETTINGS_MODULE='no_such_settings_xyz' cannot be imported" in line


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    (tmp_path / "pipes.py").write_text(PIPELINE)
    assert _mlops(tmp_path, "run", "pipes.py").returncode == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written, as after `head` quits
    try:
        result = subprocess.run(
            [sys.executable, "-m", "django_mlops.cli", "status", "1"],
            cwd=tmp_path,
            env=_env(MLOPS_HOME=str(tmp_path / "home")),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 141


@pytest.mark.skipif(not Path("/bin/sh").exists(), reason="needs a POSIX shell")
def test_status_piped_into_head(tmp_path: Path) -> None:
    (tmp_path / "pipes.py").write_text(PIPELINE)
    assert _mlops(tmp_path, "run", "pipes.py").returncode == 0
    result = subprocess.run(
        f"{sys.executable} -m django_mlops.cli status 1 | head -3",
        shell=True,
        cwd=tmp_path,
        env=_env(MLOPS_HOME=str(tmp_path / "home")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.splitlines()[0].startswith("Run 1 of script_numbers")
    assert len(result.stdout.splitlines()) == 3
    assert "Error" not in result.stderr and "Traceback" not in result.stderr


NOTEBOOK_CELLS = """
import asyncio
import django_mlops
import IPython  # the stand-in: get_ipython() answers, as in a kernel

async def cell():  # a kernel runs each cell inside its event loop
    print("before", django_mlops.runs().count())
    run = numbers.run()
    print("output", run.output("total"), "tasks", sorted(t.node for t in run.tasks))
    print("after", django_mlops.runs().count())

asyncio.run(cell())
"""


def test_notebook_cells_can_use_the_orm(tmp_path: Path) -> None:
    """In an IPython kernel, cells read records directly (Django allows it only when told).

    IPython is not installed here: a stand-in package whose ``get_ipython()``
    returns a shell is what tells django-mlops it runs in one. Without the
    setting, ``runs().count()`` and ``run.tasks`` in the cell's event loop raise
    SynchronousOnlyOperation.
    """
    (tmp_path / "IPython").mkdir()
    (tmp_path / "IPython" / "__init__.py").write_text("def get_ipython():\n    return object()\n")
    result = _python(
        tmp_path, "-c", PIPELINE + NOTEBOOK_CELLS, PYTHONPATH=f"{REPO / 'src'}:{tmp_path}"
    )
    assert result.returncode == 0, result.stderr
    assert "before 0" in result.stdout
    assert "output 6 tasks ['add', 'make']" in result.stdout
    assert "after 1" in result.stdout


def test_a_script_inside_an_event_loop_is_not_allowed_the_orm(tmp_path: Path) -> None:
    """Outside IPython the ORM stays forbidden in a loop's thread, as Django means it to be."""
    code = PIPELINE + (
        "import asyncio\nasync def main():\n    run = numbers.run()\n    list(run.tasks)\n"
        "asyncio.run(main())\n"
    )
    result = _python(tmp_path, "-c", code)
    assert result.returncode == 1
    assert "SynchronousOnlyOperation" in result.stderr


def test_a_module_named_with_colon_that_fails_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad_module.py").write_text("x = 1\n\ny = 1 / 0\n")
    env = {"PYTHONPATH": f"{REPO / 'src'}:{tmp_path}"}
    result = _mlops(tmp_path, "run", "bad_module:pipe", **env)
    assert result.returncode == 2
    line = _one_clean_line(result)
    assert "cannot import module 'bad_module': bad_module.py, line 3: ZeroDivisionError" in line
