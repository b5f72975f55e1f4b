"""``models``: the model registry over REST (list, one model, its versions, promote, predict).

Thin over ``django_mlops.registry``: lookups find models and versions,
``set_alias`` moves aliases (with the permission check and the audit trail),
``predict`` checks the records against the signature and answers through the
per-process model cache. The registry's errors become 404/403/409/422 in
``..errors``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router

from ...models import AliasChange, ModelAlias, ModelVersion
from ...registry.aliases import set_alias
from ...registry.listing import aliases_by_model, models_with_counts
from ...registry.lookups import get_registered_model
from ...registry.serving import serve_prediction
from ..auth import require_permission
from ..errors import errors_for
from ..schemas.common import Name, PageIn
from ..schemas.models import (
    AliasIn,
    AliasMoved,
    AliasName,
    ModelDetail,
    ModelPage,
    PredictIn,
    PredictOut,
    PredictTarget,
    VersionPage,
)

__all__ = ["router"]

router = Router(tags=["models"])

_VERSION_FIELDS = (
    "version",
    "sha256",
    "format",
    "type_name",
    "signature",
    "libraries",
    "metrics",
    "description",
    "run_id",
    "node",
    "created_at",
)
_MODEL_FIELDS = ("name", "description", "created_at", "updated_at", "version_total", "latest")


def _can_view(request: HttpRequest) -> None:
    require_permission(request, "view_registeredmodel", "see registered models")


def _summary(row: dict[str, Any], aliases: dict[str, int]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "description": row["description"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version_count": row["version_total"],
        "latest_version": row["latest"],
        "aliases": aliases,
    }


@router.get("", response={200: ModelPage, **errors_for()})
def list_models(request: HttpRequest, page: Query[PageIn]) -> dict[str, Any]:
    """Registered models by name, each with its version count, latest version and aliases."""
    _can_view(request)
    rows, meta = paginate_models(page)
    aliases = aliases_by_model([row["pk"] for row in rows])
    return {**meta, "items": [_summary(row, aliases.get(row["pk"], {})) for row in rows]}


def paginate_models(page: PageIn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of registered models with their aggregates."""
    from ..pagination import paginate

    return paginate(models_with_counts(), page, fields=_MODEL_FIELDS, exact_count=True)


def _version_row(row: dict[str, Any], aliases: list[str]) -> dict[str, Any]:
    out = {key: row[key] for key in _VERSION_FIELDS if key != "run_id"}
    out["run"] = row["run_id"]
    out["aliases"] = aliases
    return out


def _aliases_by_version(version_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    rows = ModelAlias.objects.filter(version_id__in=version_ids).order_by("name")
    for version_id, alias in rows.values_list("version_id", "name"):
        found[version_id].append(alias)
    return found


@router.get("/{name}", response={200: ModelDetail, **errors_for(404)})
def get_model(request: HttpRequest, name: Name) -> dict[str, Any]:
    """A registered model: its aliases (who moved them last) and a summary of each version."""
    _can_view(request)
    registered = get_registered_model(name)
    row = models_with_counts().filter(pk=registered.pk).values("pk", *_MODEL_FIELDS).get()
    alias_rows = list(
        ModelAlias.objects.filter(model=registered)
        .order_by("name")
        .values("name", "version__version", "updated_at", "updated_by__username")
    )
    versions = list(
        ModelVersion.objects.filter(model=registered)
        .order_by("-version")
        .values("version", "sha256", "created_at", "run_id", "node", "metrics")
    )
    aliases = {a["name"]: a["version__version"] for a in alias_rows}
    return {
        **_summary(row, aliases),
        "alias_details": [
            {
                "name": a["name"],
                "version": a["version__version"],
                "updated_at": a["updated_at"],
                "updated_by": a["updated_by__username"],
            }
            for a in alias_rows
        ],
        "versions": [
            {
                "version": v["version"],
                "sha256": v["sha256"],
                "created_at": v["created_at"].isoformat(),
                "run": v["run_id"],
                "node": v["node"],
                "metrics": v["metrics"],
            }
            for v in versions
        ],
    }


@router.get("/{name}/versions", response={200: VersionPage, **errors_for(404)})
def list_model_versions(request: HttpRequest, name: Name, page: Query[PageIn]) -> dict[str, Any]:
    """A model's versions, newest first: metrics, SHA-256, signature, libraries, lineage."""
    from ..pagination import paginate

    _can_view(request)
    registered = get_registered_model(name)
    queryset = ModelVersion.objects.filter(model=registered).order_by("-version")
    rows, meta = paginate(queryset, page, fields=_VERSION_FIELDS, exact_count=True)
    aliases = _aliases_by_version([row["pk"] for row in rows])
    return {**meta, "items": [_version_row(row, aliases.get(row["pk"], [])) for row in rows]}


def _change_out(change: AliasChange | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "id": change.pk,
        "alias": change.alias,
        "from_version": change.from_number,
        "to_version": change.to_number,
        "user": change.user.get_username() if change.user else None,
        "comment": change.comment,
        "changed_at": change.changed_at,
    }


@router.post("/{name}/aliases/{alias}", response={200: AliasMoved, **errors_for(404)})
def promote_model(request: HttpRequest, name: Name, alias: AliasName, body: AliasIn) -> Any:
    """Point ``alias`` at a version (needs ``promote_model``); the move joins the audit trail.

    Pointing it at the version it already names changes and records nothing
    (``changed: false``).
    """
    user = require_permission(request, "promote_model", "move model aliases")
    started = timezone.now()
    moved = set_alias(name, alias, body.version, user=user, comment=body.comment)
    change = (
        AliasChange.objects.select_related("user")
        .filter(model_id=moved.model_id, alias=alias)
        .order_by("-changed_at", "-id")
        .first()
    )
    updated_by = moved.updated_by.get_username() if moved.updated_by else None
    return {
        "model": name,
        "alias": {
            "name": moved.name,
            "version": body.version,
            "updated_at": moved.updated_at,
            "updated_by": updated_by,
        },
        "changed": change is not None and change.changed_at >= started,
        "change": _change_out(change),
    }


@router.post("/{name}/predict", response={200: PredictOut, **errors_for(404, 409)})
def predict_model(
    request: HttpRequest, name: Name, target: Query[PredictTarget], body: PredictIn
) -> HttpResponse:
    """Predict a batch of records with the version ``?alias=`` (production) or ``?version=``.

    Each record is ``{field: value}`` as the version's signature says; missing,
    extra or mistyped fields are a 422 listing each one. ``"proba": true`` adds
    class probabilities. With both ``alias`` and ``version``, the alias must name
    that version (404 otherwise). At most ``MLOPS['PREDICT_MAX_ROWS']`` records (422).
    """
    require_permission(request, "predict", "call model predictions")
    answer = serve_prediction(
        name, body.inputs, alias=target.alias, version=target.version, proba=body.proba
    )
    # PredictOut documents this answer; it is already that shape, so it is sent as it is.
    return HttpResponse(answer.as_json(), content_type="application/json")
