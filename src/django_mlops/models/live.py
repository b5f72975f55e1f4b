"""Live tasks: the attempts a runner is running now, with the output they printed so far.

A row exists only while its runner's process runs the attempt: the runner's
heartbeat thread (``records/live.py``) writes the rows of the attempts it is
running every ``MLOPS["LIVE_SECONDS"]`` and deletes those that ended; the run's
end, and ``settle_stale_runs`` for a runner that was killed, delete the rest.
Readers honour a row only while its run is ``running`` and the task's own row
is not final: the finished ``TaskRun`` always supersedes it, with the full,
bounded log. The texts are the heads of the capture buffers, so they are the
beginning of that final log and a reader can follow them by offset.
"""

from __future__ import annotations

from django.db import models

from .fields import NAME_LENGTH
from .runs import Run


class LiveTask(models.Model):
    """One running attempt of a node (the node's ``TaskRun`` says how it ended)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="live_tasks")
    node = models.CharField(max_length=NAME_LENGTH)
    attempt = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    stdout = models.TextField(blank=True, default="", db_default="")
    stderr = models.TextField(blank=True, default="", db_default="")
    log = models.TextField(blank=True, default="", db_default="")
    #: A stream's text outgrew its live part: the rest is shown once the task ends.
    cut = models.BooleanField(default=False)

    class Meta:
        """One row per running node of a run."""

        constraints = [
            models.UniqueConstraint(fields=["run", "node"], name="mlops_live_task_run_node")
        ]

    def __str__(self) -> str:
        return f"{self.node} (run {self.run_id}, attempt {self.attempt}, running)"
