"""``experiments``: runs compared side by side, what changed between two, step curves.

The same core as the website's compare page (``django_mlops.experiments``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.errors import HttpError

from ...experiments.changes import Difference, RunChanges, run_changes
from ...experiments.compare import compare_runs
from ...experiments.curves import step_curves
from ...experiments.selection import MAX_RUNS, MIN_RUNS, RunsProblem, load_runs, parse_run_ids
from ...models import Run
from ..auth import require_permission
from ..errors import errors_for, field_error, validation_error
from ..schemas.common import finite_or_none
from ..schemas.experiments import (
    ChangesOut,
    ChangesQuery,
    CompareOut,
    CompareQuery,
    CurvesOut,
    CurvesQuery,
)

__all__ = ["router"]

router = Router(tags=["experiments"])


def _runs(text: str, minimum: int = MIN_RUNS, maximum: int = MAX_RUNS) -> list[Run]:
    """The runs named by ``?runs=``: a 422 if it is not a list of ids, a 404 if one is unknown."""
    try:
        ids = parse_run_ids([text], minimum, maximum)
    except RunsProblem as exc:
        raise validation_error([field_error(["query", "runs"], str(exc))]) from None
    try:
        return load_runs(ids)
    except RunsProblem as exc:
        raise HttpError(404, str(exc)) from None


def _run_head(run: Run) -> dict[str, Any]:
    return {
        "id": run.pk,
        "pipeline": run.pipeline,
        "status": run.status,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "duration": run.duration,
        "created_by": run.created_by.get_username() if run.created_by else None,
        "git_commit": run.git_commit,
    }


@router.get("/compare", response={200: CompareOut, **errors_for(404)})
def compare(request: HttpRequest, query: Query[CompareQuery]) -> dict[str, Any]:
    """Params and final metrics of 2 to 50 runs side by side, the best value per metric marked."""
    require_permission(request, "view_run", "see runs")
    runs = _runs(query.runs)
    full = compare_runs(runs)
    shown = full.differing() if query.only_differences else full
    ids = [r.pk for r in runs]
    return {
        "runs": [_run_head(r) for r in runs],
        "params": [
            {"key": s.key, "values": list(s.values), "differs": s.differs} for s in shown.params
        ],
        "metrics": [
            {
                "key": s.key,
                "values": [finite_or_none(v) for v in s.values],
                "differs": s.differs,
                "direction": s.direction,
                "declared": s.declared,
                "best": [ids[i] for i in sorted(s.best)],
            }
            for s in shown.metrics
        ],
        "hidden": len(full.params) + len(full.metrics) - len(shown.params) - len(shown.metrics),
    }


def _differences(found: Sequence[Difference]) -> list[dict[str, Any]]:
    return [asdict(d) for d in found]


def _changes_out(changes: RunChanges) -> dict[str, Any]:
    return {
        "before": changes.before.pk,
        "after": changes.after.pk,
        "params": _differences(changes.params),
        "packages": _differences(changes.packages),
        "environment": _differences(changes.environment),
        "nodes": [
            {
                "node": n.node,
                "function": n.function,
                "before": n.before,
                "after": n.after,
                "changed": n.changed,
                "code": asdict(n.code) if n.code else None,
                "reads": _differences(n.reads),
                "params": list(n.params),
                "inputs": _differences(n.inputs),
            }
            for n in changes.nodes
        ],
        "changed_nodes": changes.changed_nodes,
        "recomputed": changes.recomputed,
        "reused": changes.reused,
    }


@router.get("/changes", response={200: ChangesOut, **errors_for(404)})
def changes(request: HttpRequest, query: Query[ChangesQuery]) -> dict[str, Any]:
    """What changed from run A to run B: params, code, packages, files, inputs; what B reused."""
    require_permission(request, "view_run", "see runs")
    before, after = _runs(query.runs, 2, 2)
    return _changes_out(run_changes(before, after))


@router.get("/curves", response={200: CurvesOut, **errors_for(404)})
def curves(request: HttpRequest, query: Query[CurvesQuery]) -> dict[str, Any]:
    """A metric by step (training curves) for each run that logged it, downsampled."""
    require_permission(request, "view_run", "see runs")
    ids = [r.pk for r in _runs(query.runs, 1)]
    series = [
        {
            "run": c.run,
            "steps": list(c.steps),
            "values": [finite_or_none(v) for v in c.values],
            "total": c.total,
        }
        for c in step_curves(ids, query.metric, query.points)
    ]
    return {"metric": query.metric, "series": series}
