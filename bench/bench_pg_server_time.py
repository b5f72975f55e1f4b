"""Where a recorded run's time goes on the PostgreSQL server: INSERTs, foreign-key checks, COMMIT.

The server's own timing, per node of a 10k no-op run: every batched INSERT the
records writer sends (``records.sql.Table``) is run as ``EXPLAIN (ANALYZE,
TIMING ...)`` of itself (it still inserts; the server reports its execution
time and the time of each trigger), and the run's transactions are timed at
COMMIT. Two runs: as the writer runs them (the foreign keys Django declares
``DEFERRABLE INITIALLY DEFERRED`` are checked at COMMIT), then with ``SET
CONSTRAINTS ALL IMMEDIATE``, where the checks run inside each INSERT and the
server names their time per constraint trigger. A fresh database on the local
server (127.0.0.1:5432, trust auth), dropped afterwards. Run from the repository:

    .venv/bin/python bench/bench_pg_server_time.py --shape wide --nodes 10000

Compare the totals with Hamilton's per-node overhead from ``bench_overhead.py``
in the same minute: the goal is recorded runs at most 2x that.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))


class ServerTimes:
    """Execute wrapper: batched INSERTs explained (server times kept), COMMITs timed."""

    def __init__(self, immediate: bool) -> None:
        self.immediate = immediate
        self.statements: dict[str, float] = defaultdict(float)  # table -> ms executing
        self.triggers: dict[str, float] = defaultdict(float)  # trigger relation -> ms
        self.commit_ms = 0.0
        self._constrained: set[int] = set()

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        # Only the writer's batched statements (one JSON text per batch); the
        # ORM's own (bulk_create with RETURNING) keep their results.
        if many or "jsonb_array_elements" not in sql or not sql.startswith("INSERT"):
            return execute(sql, params, many, context)
        cursor = context["cursor"]
        if self.immediate:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Trigger times are reported only with timing on (costlier, so only then).
        timing = "ON" if self.immediate else "OFF"
        cursor.execute(f"EXPLAIN (ANALYZE, TIMING {timing}, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        table = sql.split()[2].strip('"')
        self.statements[table] += float(plan[0]["Execution Time"])
        for trigger in plan[0].get("Triggers", []):
            name = self._constraint(cursor, trigger["Trigger Name"])
            self.triggers[f"{trigger['Relation']}: {name}"] += float(trigger["Time"])
        return None

    @staticmethod
    def _constraint(cursor: Any, trigger: str) -> str:
        """The foreign key a referential-integrity trigger checks: column -> table."""
        cursor.execute(
            "SELECT a.attname, c.confrelid::regclass::text FROM pg_trigger t"
            " JOIN pg_constraint c ON c.oid = t.tgconstraint"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " WHERE t.tgname = %s",
            [trigger],
        )
        found = cursor.fetchone()
        return f"{found[0]} -> {found[1]}" if found else trigger

    def timed_commit(self, commit: Callable[[], None]) -> Callable[[], None]:
        """``commit`` with its wall time added to ``commit_ms`` (localhost: the server's)."""

        def timed() -> None:
            start = time.perf_counter()
            commit()
            self.commit_ms += (time.perf_counter() - start) * 1000

        return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shape", default="wide", choices=("chain", "wide", "layered"))
    parser.add_argument("--nodes", type=int, default=10_000)
    args = parser.parse_args()
    os.environ["MLOPS_HOME"] = tempfile.mkdtemp(prefix="mlops-pgtime-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "peers.pg_settings"
    from peers.pg_settings import create_database

    create_database()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    from django_mlops import Pipeline
    from peers.dags import make_dag, noop

    pipeline = Pipeline(f"pgtime_{args.shape}")
    for name, parents in make_dag(args.shape, args.nodes):
        pipeline.node(name=name, inputs=parents, outputs=name, description="")(noop)
    pipeline.run(record=True)  # stores the outputs once, as the bench's repeats find them
    for immediate in (False, True):
        times = ServerTimes(immediate)
        connection.ensure_connection()
        original = connection._commit
        connection._commit = times.timed_commit(original)  # type: ignore[method-assign]
        start = time.perf_counter()
        with connection.execute_wrapper(times):
            run = pipeline.run(record=True, no_cache=True)
        wall = time.perf_counter() - start
        connection._commit = original  # type: ignore[method-assign]
        assert run.status == "succeeded", run.status
        per_node = 1000 / args.nodes  # ms in all -> us per node
        label = "IMMEDIATE (checks in each INSERT)" if immediate else "as run (checks at COMMIT)"
        print(f"{args.shape}, {args.nodes} nodes, constraints {label}:")
        print(f"  whole run (EXPLAIN overhead included): {wall * 1e6 / args.nodes:.1f} us/node")
        for table, ms in sorted(times.statements.items()):
            print(f"  INSERT {table}: {ms * per_node:.2f} us/node")
        for trigger, ms in sorted(times.triggers.items()):
            print(f"    trigger {trigger}: {ms * per_node:.2f} us/node")
        print(f"  COMMITs: {times.commit_ms * per_node:.2f} us/node")
        total = sum(times.statements.values()) + times.commit_ms
        print(f"  server total (INSERTs + COMMITs): {total * per_node:.2f} us/node")


if __name__ == "__main__":
    main()
