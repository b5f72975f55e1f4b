"""Apache Hamilton: functions whose parameter names are their inputs, run by the driver."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

from .dags import Dag, sinks


def _module(dag: Dag, func: Callable[..., object]) -> types.ModuleType:
    # Hamilton reads a node's inputs from its function signature, so each node needs
    # its own function; their bodies all call the shared no-op.
    source = []
    for name, parents in dag:
        args = ", ".join(f"{p}: object" for p in parents)
        call = ", ".join(parents)
        source.append(f"def {name}({args}) -> object:\n    return _func({call})\n")
    module = types.ModuleType("bench_hamilton_dag")
    # A leading underscore: Hamilton does not take the helper for a node.
    module.__dict__["_func"] = func
    exec(compile("\n".join(source), "<bench_hamilton_dag>", "exec"), module.__dict__)
    sys.modules[module.__name__] = module
    return module


def build(dag: Dag, func: Callable[..., object], workers: int) -> Callable[[], object]:
    if workers > 1:
        raise NotImplementedError("the Hamilton driver has no plain threaded runner")
    from hamilton import base, driver

    # Hamilton walks the graph recursively: a deep chain needs a deep stack.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20 * len(dag) + 1000))
    dr = (
        driver.Builder()
        .with_modules(_module(dag, func))
        .with_adapters(base.DefaultAdapter())
        .build()
    )
    wanted = sinks(dag)
    return lambda: dr.execute(wanted)
