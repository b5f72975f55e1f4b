"""django-mlops: a ``Pipeline`` with one node per DAG node, run in memory or recorded.

``record=True`` needs Django configured: the worker points ``MLOPS_HOME`` at a
temporary folder, uses the standalone settings and migrates a fresh SQLite database.
"""

from __future__ import annotations

from collections.abc import Callable

from .dags import Dag


def build(
    dag: Dag, func: Callable[..., object], workers: int, record: bool = False
) -> Callable[[], object]:
    from django_mlops import Pipeline

    pipeline = Pipeline(f"bench_{len(dag)}_{record}")
    for name, parents in dag:
        pipeline.node(name=name, inputs=parents, outputs=name, description="")(func)
    pipeline.validate()
    executor = "threads" if workers > 1 else "inline"

    def run() -> object:
        # no_cache: every repeat executes every node (a recorded second run would
        # otherwise be served from the cache, which is a different measurement).
        result = pipeline.run(executor=executor, max_workers=workers, record=record, no_cache=True)
        if result.status != "succeeded":
            raise RuntimeError(f"benchmark run ended {result.status}")
        return result

    return run
