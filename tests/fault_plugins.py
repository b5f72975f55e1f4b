"""Pluggable pieces the fault tests configure by dotted path: a full disk and a counting executor.

Importable both by the test process and by the subprocesses the tests start
(``MLOPS["ARTIFACT_STORAGE"]``, ``MLOPS["EXECUTORS"]``).
"""

from __future__ import annotations

import os
from typing import Any

from django.core.files.storage import FileSystemStorage

from django_mlops.conf import mlops_settings
from django_mlops.executors import TaskSpec
from django_mlops.executors.inline import InlineExecutor

__all__ = ["CountingExecutor", "FullDiskStorage"]


class FullDiskStorage(FileSystemStorage):
    """A file storage whose disk is full: saving anything above 1 KB raises ENOSPC."""

    limit = 1024

    def __init__(self) -> None:
        super().__init__(location=mlops_settings().artifacts_dir)

    def _save(self, name: str, content: Any) -> str:
        if content.size > self.limit:
            raise OSError(28, "No space left on device")
        return str(super()._save(name, content))


class CountingExecutor(InlineExecutor):
    """The inline executor with ``submit`` overridden: counts the tasks it is handed.

    The count is kept on the class (for the test process) and, when
    ``MLOPS_TEST_SUBMIT_LOG`` names a file, appended there one node name a line
    (for a subprocess).
    """

    name = "mine"
    submitted: list[str] = []

    def submit(self, task: TaskSpec) -> None:
        """Count the task, then queue it as the inline executor does."""
        type(self).submitted.append(task.node)
        log = os.environ.get("MLOPS_TEST_SUBMIT_LOG")
        if log:
            with open(log, "a") as handle:
                handle.write(task.node + "\n")
        super().submit(task)
