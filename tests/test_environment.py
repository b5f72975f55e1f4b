"""The environment part of a run record: git state, Python, packages, host."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from django_mlops.records import environment
from django_mlops.records.environment import capture_environment, git_state

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@needs_git
def test_git_commit_and_dirty_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "GIT_CACHE_SECONDS", 0.0)
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    _git(tmp_path, "add", "a.py")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert git_state(tmp_path) == (head, False)
    (tmp_path / "a.py").write_text("x = 2\n")
    assert git_state(tmp_path) == (head, True)


def test_not_a_repository(tmp_path: Path) -> None:
    assert git_state(tmp_path / "nowhere") == ("", None)


def test_no_git_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(environment, "GIT_CACHE_SECONDS", 0.0)
    assert git_state(tmp_path) == ("", None)


def test_capture_environment_fields(tmp_path: Path) -> None:
    first = capture_environment(tmp_path)
    assert first["pid"] == os.getpid() and first["host"]
    assert first["python_version"].count(".") == 2
    assert first["packages"]["django"].startswith(("5.", "6."))
    assert capture_environment(tmp_path) == first  # cached per process, still complete
