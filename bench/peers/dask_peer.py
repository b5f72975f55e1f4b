"""Dask: a task graph as a plain dict, run by the synchronous (or threaded) scheduler."""

from __future__ import annotations

from collections.abc import Callable

from .dags import Dag, sinks


def build(dag: Dag, func: Callable[..., object], workers: int) -> Callable[[], object]:
    graph = {name: (func, *parents) for name, parents in dag}
    wanted = sinks(dag)
    if workers > 1:
        from dask.threaded import get as threaded_get

        return lambda: threaded_get(graph, wanted, num_workers=workers)
    from dask.local import get_sync

    return lambda: get_sync(graph, wanted)
