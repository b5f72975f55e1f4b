"""Reaching recorded runs from Python: ``django_mlops.runs()`` and ``django_mlops.get_run(id)``.

Both work in a plain script or a notebook with no Django project: like
``Pipeline.run``, the first call configures standalone mode when nothing else is
configured.

>>> import django_mlops
>>> latest = django_mlops.runs().first()              # doctest: +SKIP
>>> django_mlops.runs(pipeline="iris", status="failed")  # doctest: +SKIP
>>> django_mlops.get_run(3).output("scores")          # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import RunError

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from .models import Run

__all__ = ["get_run", "runs"]


def runs(pipeline: str | None = None, status: str | None = None) -> QuerySet[Run]:
    """Recorded runs, newest first, optionally of one pipeline and/or with one status.

    A Django queryset: filter, slice or iterate it as any other
    (``runs().filter(params__C=0.5)[:10]``).
    """
    from .standalone.bootstrap import ensure_configured

    ensure_configured()
    from .models import Run

    found = Run.objects.order_by("-created_at", "-id")
    if pipeline is not None:
        found = found.filter(pipeline=pipeline)
    if status is not None:
        found = found.filter(status=status)
    return found


def get_run(run_id: int) -> Run:
    """The run with id ``run_id``; :class:`~django_mlops.errors.RunError` if there is none."""
    from .standalone.bootstrap import ensure_configured

    ensure_configured()
    from .models import Run

    found = Run.objects.filter(pk=run_id).first()
    if found is None:
        raise RunError(f"no run with id {run_id}")
    return found
