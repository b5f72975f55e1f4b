"""Why a node did not run, in the words the records keep (``TaskRun.reason``/``reason_detail``).

The plan explains what it decided (cached, outside the selection, first run, what
changed). Nodes the scheduler settles later never ran, so the plan's "why it
runs" would be a false statement for them: they get their own reason here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..pipeline import Pipeline

__all__ = ["not_run_reasons"]

# Names listed in a detail before "and N more".
_NAMES_SHOWN = 3


def _listing(names: Sequence[str]) -> str:
    quoted = [f"'{n}'" for n in names[:_NAMES_SHOWN]]
    if len(names) > _NAMES_SHOWN:
        quoted.append(f"{len(names) - _NAMES_SHOWN} more")
    return ", ".join(quoted)


def not_run_reasons(
    pipeline: Pipeline, states: Sequence[str], node_ids: Sequence[int]
) -> dict[int, tuple[str, str]]:
    """(reason, detail) for the nodes among ``node_ids`` that ended without running.

    An upstream_failed node names the failed nodes it depended on; a cancelled
    node that never started says so. Nodes that ran are left out.
    """
    graph, names = pipeline.graph, pipeline.columns.names
    wanted = set(node_ids)
    found: dict[int, tuple[str, str]] = {}
    blocked = {i for i in wanted if states[i] == "upstream_failed"}
    if blocked:
        culprits: dict[int, list[str]] = {}
        for failed in (i for i, s in enumerate(states) if s == "failed"):
            for node_id in blocked.intersection(graph.descendants([failed])):
                culprits.setdefault(node_id, []).append(names[failed])
        for node_id in blocked:
            failed_names = culprits.get(node_id, [])
            detail = f"not run: {_listing(failed_names)} failed" if failed_names else "not run"
            found[node_id] = ("upstream_failed", detail)
    for node_id in wanted:
        if states[node_id] == "cancelled":
            found[node_id] = ("cancelled", "the run was cancelled")
        elif states[node_id] == "not_started":
            found.setdefault(node_id, ("not_started", "the run ended before it could start"))
    return found
