"""What earlier runs left behind, as planning needs it: stored outputs and previous tasks.

Both lookups go through indexes (key prefix, or run and node) and read plain tuples, so
planning a 10k-node run costs a few queries, not one per node.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Max

from ..models import TaskRun
from ..run.planning import PreviousTask
from .sql import column_of, parameter_limit

if TYPE_CHECKING:
    from ..pipeline import Pipeline

__all__ = ["RunHistory"]

# Keep IN (...) lists well below SQLite's bound on query parameters.
_IN_CHUNK = 900


class RunHistory:
    """Reads of the store for one pipeline; ``stored_outputs`` is filled by ``stored_keys``."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.stored_outputs: dict[tuple[str, str], int] = {}  # (key, dataset) -> artifact id

    def stored_keys(self, keys: Sequence[str], key_prefixes: Sequence[int]) -> set[str]:
        """The keys (one per node id) whose node's outputs are all stored.

        ``key_prefixes`` are the keys' indexed prefixes, as the engine gave them.

        Looked up by key through the key-prefix index (succeeded tasks only), not
        by pipeline: the same code on the same inputs is reusable wherever it ran.
        A key says nothing about output names, so every output must be there under
        its dataset name. A succeeded TaskRun names its outputs in the same write as
        its state. Rows come in id order, so the latest outputs of a (key, dataset)
        win; each distinct outputs text is parsed once, all in one decoder call.
        """
        nodes = self.pipeline.nodes
        outputs = self.stored_outputs
        wanted = set(keys)
        wanted.discard("")
        found: list[tuple[str, str]] = []
        prefixes = sorted({p for k, p in zip(keys, key_prefixes, strict=True) if k})
        size = max(_IN_CHUNK, parameter_limit() - 1)
        for chunk in (prefixes[i : i + size] for i in range(0, len(prefixes), size)):
            for key, text in _succeeded_outputs(chunk):
                if key in wanted:  # not another key with the same first 8 bytes
                    found.append((key, text))
        distinct = list(dict.fromkeys(text for _, text in found))
        parsed = dict(zip(distinct, json.loads("[" + ",".join(distinct) + "]"), strict=True))
        succeeded: set[str] = set()
        for key, text in found:
            succeeded.add(key)
            for dataset, artifact_id in parsed[text].items():
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
            "node", "code_hash", "key", "input_keys", "run__params", "reads"
        )
        return {
            node: PreviousTask(
                code_hash, key, dict(input_keys or {}), dict(params or {}), dict(reads or {})
            )
            for node, code_hash, key, input_keys, params, reads in found
        }


def _succeeded_outputs(prefixes: Sequence[int]) -> list[tuple[str, str]]:
    """(key, outputs as JSON text) of the succeeded tasks with these key prefixes, by id.

    Raw SQL: the ORM would decode every outputs value through the field's
    converters, a Python call per row, where one decoder call does them all.
    """
    table = connection.ops.quote_name(TaskRun._meta.db_table)
    key, prefix, state, pk = (column_of(TaskRun, f) for f in ("key", "key_prefix", "state", "id"))
    produced = column_of(TaskRun, "outputs")
    if connection.vendor == "postgresql":
        produced += "::text"
    marks = ", ".join(["%s"] * len(prefixes))
    sql = (
        f"SELECT {key}, {produced} FROM {table} "
        f"WHERE {state} = %s AND {prefix} IN ({marks}) ORDER BY {pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ["succeeded", *prefixes])
        return [(k, text or "{}") for k, text in cursor.fetchall()]
