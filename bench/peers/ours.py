"""django-mlops: a ``Pipeline`` with one node per DAG node, run in memory or recorded.

``record=True`` needs Django configured: the worker points ``MLOPS_HOME`` at a
temporary folder, uses the standalone settings (or ``pg_settings``) and migrates a
fresh database. ``cached=True`` runs the pipeline once while building it, so every
timed run is a fully cached one (each node's outputs found by key and reused).
"""

from __future__ import annotations

from collections.abc import Callable

from .dags import Dag


def build(
    dag: Dag,
    func: Callable[..., object],
    workers: int,
    record: bool = False,
    cached: bool = False,
) -> Callable[[], object]:
    from django_mlops import Pipeline

    pipeline = Pipeline(f"bench_{len(dag)}_{record}")
    for name, parents in dag:
        pipeline.node(name=name, inputs=parents, outputs=name, description="")(func)
    pipeline.validate()
    executor = "threads" if workers > 1 else "inline"

    def run() -> object:
        # no_cache: every repeat executes every node (a recorded second run would
        # otherwise be served from the cache, which "ours-cached" measures).
        result = pipeline.run(
            executor=executor, max_workers=workers, record=record, no_cache=not cached
        )
        if result.status != "succeeded":
            raise RuntimeError(f"benchmark run ended {result.status}")
        # One query, not a model instance per task: the check is not what is measured.
        if cached and result.task_runs.exclude(state="cached").exists():
            raise RuntimeError("a cached benchmark run executed nodes")
        return result

    if cached:
        pipeline.run(executor=executor, max_workers=workers, record=True)  # fills the store
    return run
