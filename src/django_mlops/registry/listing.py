"""Registered models as lists show them: counts, latest version and aliases, in few queries.

Shared by the REST API's ``GET models`` and the website's models pages, so both
count and name the same things.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, Max, QuerySet

from ..models import ModelAlias, RegisteredModel

__all__ = ["aliases_by_model", "models_with_counts"]


def models_with_counts() -> QuerySet[RegisteredModel]:
    """Models by name, annotated with ``version_total`` and ``latest`` (the newest number)."""
    return RegisteredModel.objects.annotate(
        version_total=Count("versions"), latest=Max("versions__version")
    ).order_by("name")


def aliases_by_model(model_ids: list[Any]) -> dict[int, dict[str, int]]:
    """Alias name → version number for each of ``model_ids`` (one query)."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    rows = ModelAlias.objects.filter(model_id__in=model_ids).order_by("name")
    for model_id, alias, number in rows.values_list("model_id", "name", "version__version"):
        found[model_id][alias] = number
    return found
