"""The subprocess side of the live-state tests: what another process reads of a running run.

``python -m tests.live_processes snapshot RUN NODE`` prints, as JSON, the run's
status after settling it (as the website and the API do), the running tasks
(``records.live.running_tasks``), the node's texts (``records.live.task_texts``)
and the run's ``LiveTask`` rows. Uses the workspace's settings (``tests.fault_settings``).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _snapshot(run_id: int, node: str) -> dict[str, Any]:
    from django_mlops.models import LiveTask, Run
    from django_mlops.records.live import running_tasks, task_texts
    from django_mlops.records.liveness import settle_stale_runs

    settle_stale_runs(run_ids=[run_id])
    run = Run.objects.get(pk=run_id)
    running = {node: info["attempt"] for node, info in running_tasks(run).items()}
    return {
        "status": run.status,
        "running": running,
        "task": task_texts(run, node),
        "live_rows": LiveTask.objects.filter(run=run).count(),
    }


if __name__ == "__main__":
    import django

    django.setup()
    command, *rest = sys.argv[1:]
    if command == "snapshot":
        print(json.dumps(_snapshot(int(rest[0]), rest[1]), default=str))
    else:
        raise SystemExit(f"unknown command {command!r}")
