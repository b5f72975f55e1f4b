"""Kedro: one ``node`` per DAG node in a ``Pipeline``, run by SequentialRunner or ThreadRunner."""

from __future__ import annotations

from collections.abc import Callable

from .dags import Dag


def build(dag: Dag, func: Callable[..., object], workers: int) -> Callable[[], object]:
    import logging

    from kedro.io import DataCatalog
    from kedro.pipeline import Pipeline, node
    from kedro.runner import SequentialRunner, ThreadRunner

    pipeline = Pipeline(
        [node(func, inputs=parents or None, outputs=name, name=name) for name, parents in dag]
    )
    # Kedro logs two INFO lines per node to a rich console handler; the other
    # frameworks log nothing per node, so its logging is turned down to compare runners.
    logging.getLogger("kedro").setLevel(logging.WARNING)
    runner = ThreadRunner(max_workers=workers) if workers > 1 else SequentialRunner()

    def run() -> object:
        # A fresh catalog per run: intermediate MemoryDatasets must not leak between runs.
        return runner.run(pipeline, DataCatalog())

    return run
