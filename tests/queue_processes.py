"""The subprocess side of the queue tests: enqueue runs and read what the workers did.

``python -m tests.queue_processes enqueue SOURCE JSON`` enqueues one run per
``{"params": ..., "priority": ...}`` item of the JSON list and prints their ids;
``python -m tests.queue_processes runs`` prints every run with its tasks and
failed attempts as JSON. Both use the workspace's settings (``tests.fault_settings``).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _enqueue(source: str, items: list[dict[str, Any]]) -> list[int]:
    from django_mlops.discovery import load_pipeline
    from django_mlops.queue import enqueue_run

    pipeline = load_pipeline(source)
    return [
        enqueue_run(
            pipeline,
            params=item.get("params"),
            priority=item.get("priority", 0),
            executor=item.get("executor", ""),
        ).pk
        for item in items
    ]


def _runs() -> list[dict[str, Any]]:
    from django_mlops.models import Metric, Run, TaskAttempt

    result = []
    for run in Run.objects.order_by("id"):
        attempts: dict[int, list[dict[str, Any]]] = {}
        for attempt in TaskAttempt.objects.filter(task__run=run).order_by("task", "number"):
            attempts.setdefault(attempt.task_id, []).append(
                {"number": attempt.number, "error": attempt.error, "pid": attempt.pid}
            )
        result.append(
            {
                "id": run.pk,
                "status": run.status,
                "error": run.error,
                "priority": run.priority,
                "worker": run.worker,
                "claims": run.claims,
                "resumed_from": run.resumed_from,
                "claimed_at": run.claimed_at.timestamp() if run.claimed_at else None,
                "started_at": run.started_at.timestamp() if run.started_at else None,
                "params": run.params,
                "executor": run.executor,
                "pid": run.pid,
                "metrics": Metric.objects.filter(run=run).count(),
                "tasks": {
                    task.node: {
                        "state": task.state,
                        "attempts": task.attempts,
                        "pid": task.pid,
                        "failed_attempts": attempts.get(task.pk, []),
                    }
                    for task in run.task_runs.order_by("id")
                },
            }
        )
    return result


if __name__ == "__main__":
    import django

    django.setup()
    command, *rest = sys.argv[1:]
    if command == "enqueue":
        print(json.dumps(_enqueue(rest[0], json.loads(rest[1]))))
    elif command == "runs":
        print(json.dumps(_runs()))
    else:
        raise SystemExit(f"unknown command {command!r}")
