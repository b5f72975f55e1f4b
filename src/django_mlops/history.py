"""What earlier runs left behind, as planning needs it: stored outputs and previous tasks.

Both lookups go through indexes (key prefix, or run and node) and read plain tuples, so
planning a 10k-node run costs a few queries, not one per node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Max

from ._engine import key_prefix
from .models import TaskRun
from .planning import PreviousTask

if TYPE_CHECKING:
    from .pipeline import Pipeline

__all__ = ["RunHistory"]

# Keep IN (...) lists well below SQLite's bound on query parameters.
_IN_CHUNK = 900


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + _IN_CHUNK] for i in range(0, len(items), _IN_CHUNK)]


class RunHistory:
    """Reads of the store for one pipeline; ``stored_outputs`` is filled by ``stored_keys``."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.stored_outputs: dict[tuple[str, str], int] = {}  # (key, dataset) -> artifact id

    def stored_keys(self, keys: Sequence[str]) -> set[str]:
        """The keys (one per node id) whose node's outputs are all stored.

        Looked up by key through the key-prefix index, not by pipeline: the same
        code on the same inputs is reusable wherever it ran. A key says nothing
        about output names, so every output must be there under its dataset name.
        A succeeded TaskRun names its outputs in the same write as its state.
        """
        nodes = self.pipeline.nodes
        outputs = self.stored_outputs
        wanted = {k for k in keys if k}
        succeeded: set[str] = set()
        prefixes = sorted({key_prefix(k) for k in wanted})
        for chunk in _chunks(prefixes):
            # One row per distinct (key, node, outputs), the latest: a key run many
            # times (with --no-cache, or by many pipelines) is read once per outputs
            # it produced, not once per run. Nodes may share a key (same code on the
            # same inputs) under other output names. In id order, so that the latest
            # outputs of a (key, dataset) win.
            matching = TaskRun.objects.filter(state="succeeded", key_prefix__in=chunk)
            latest = (
                matching.order_by()
                .values("key_prefix", "node", "outputs")
                .annotate(last=Max("id"))
                .values("last")
            )
            found = TaskRun.objects.filter(id__in=latest).order_by("id")
            for key, produced in found.values_list("key", "outputs"):
                if key not in wanted:  # another key with the same first 8 bytes
                    continue
                succeeded.add(key)
                for dataset, artifact_id in (produced or {}).items():
                    outputs[(key, dataset)] = int(artifact_id)
        return {
            key
            for node, key in zip(nodes, keys, strict=True)
            if key in succeeded and all((key, d) in outputs for d in node.outputs)
        }

    def previous_tasks(self, names: Sequence[str]) -> dict[str, PreviousTask]:
        """The latest earlier TaskRun of each named node in this pipeline (two queries)."""
        rows = TaskRun.objects.filter(run__pipeline=self.pipeline.name)
        if len(names) <= _IN_CHUNK:
            rows = rows.filter(node__in=names)
        latest = rows.values("node").annotate(last=Max("id")).values_list("last", flat=True)
        found = TaskRun.objects.filter(id__in=latest).values_list(
            "node", "code_hash", "key", "input_keys", "run__params"
        )
        return {
            node: PreviousTask(code_hash, key, dict(input_keys or {}), dict(params or {}))
            for node, code_hash, key, input_keys, params in found
        }
