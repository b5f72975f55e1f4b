"""What a run's reproducibility record says about where it ran.

``capture_environment`` is called at the start of every recorded run, so the
slow parts are cached: installed distributions once per process, git state per
project root for a short while (a run does not change the commit it started at,
but a long-lived worker must notice a new commit).
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["capture_environment", "git_state", "installed_packages"]

# Git state is re-read after this many seconds; within a burst of runs it is reused.
GIT_CACHE_SECONDS = 2.0
_GIT_TIMEOUT = 5.0
_git_cache: dict[str, tuple[float, tuple[str, bool | None]]] = {}
_git_lock = threading.Lock()


@functools.cache
def installed_packages() -> dict[str, str]:
    """Installed distributions, normalised name → version (read once per process)."""
    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.name  # None for a broken install's leftover metadata folder
        if name:
            packages[name.lower().replace("_", "-")] = dist.version
    return dict(sorted(packages.items()))


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # no git binary, or it hung
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(project_root: str | Path) -> tuple[str, bool | None]:
    """``(commit, dirty)`` of the repository at ``project_root``; ``("", None)`` if none."""
    root = Path(project_root).resolve()
    key = str(root)
    now = time.monotonic()
    with _git_lock:
        cached = _git_cache.get(key)
        if cached is not None and now - cached[0] < GIT_CACHE_SECONDS:
            return cached[1]
    commit = _git(root, "rev-parse", "HEAD")
    state: tuple[str, bool | None] = ("", None)
    if commit is not None:
        # Untracked files count: a new helper module changes what runs.
        status = _git(root, "status", "--porcelain", "--untracked-files=normal")
        state = (commit.strip(), None if status is None else bool(status.strip()))
    with _git_lock:
        _git_cache[key] = (time.monotonic(), state)
    return state


def capture_environment(project_root: str | Path) -> dict[str, Any]:
    """The run-record fields describing this process and the project's code.

    Keys match ``Run`` fields: ``git_commit``, ``git_dirty``, ``python_version``,
    ``packages``, ``host``, ``pid``; plus ``platform``.
    """
    commit, dirty = git_state(project_root)
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "python_version": sys.version.split()[0],
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "packages": dict(installed_packages()),
    }
