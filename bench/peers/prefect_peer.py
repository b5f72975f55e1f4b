"""Prefect 3: a flow calling one task per DAG node, in dependency order.

Runs offline: the worker sets ``PREFECT_HOME`` to a temporary folder, and Prefect
starts its ephemeral local API (a SQLite database there), which records every
task run as Prefect always does.
"""

from __future__ import annotations

from collections.abc import Callable

from .dags import Dag, sinks


def build(dag: Dag, func: Callable[..., object], workers: int) -> Callable[[], object]:
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner

    node_task = task(func, name="node", persist_result=False)

    if workers > 1:

        @flow(task_runner=ThreadPoolTaskRunner(max_workers=workers), persist_result=False)
        def threaded() -> None:
            futures: dict[str, object] = {}
            for name, parents in dag:
                futures[name] = node_task.submit(*(futures[p] for p in parents))
            for name in sinks(dag):
                futures[name].result()  # type: ignore[attr-defined]

        return threaded

    @flow(persist_result=False)
    def sequential() -> None:
        values: dict[str, object] = {}
        for name, parents in dag:
            values[name] = node_task(*(values[p] for p in parents))

    return sequential
