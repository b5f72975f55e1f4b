"""Reading and writing ``Artifact`` rows in batches, through the ORM.

Lookups read only the identity columns (``data`` and ``preview`` deferred);
inserts skip rows whose SHA-256 is already stored (another run, or another
process at the same moment, wrote the same content: same bytes, same row).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import router

from ..models import Artifact

__all__ = ["find_artifacts", "insert_artifacts"]

# Keep IN (...) lists under every backend's bound on query parameters.
_IN_CHUNK = 900


def _alias(using: str | None, write: bool) -> str:
    if using is not None:
        return using
    route = router.db_for_write if write else router.db_for_read
    return route(Artifact) or "default"


def find_artifacts(shas: Sequence[str], using: str | None = None) -> dict[str, Artifact]:
    """The stored artifacts among ``shas``, by SHA-256 (``data``/``preview`` deferred)."""
    alias = _alias(using, write=False)
    found: dict[str, Artifact] = {}
    for start in range(0, len(shas), _IN_CHUNK):
        chunk = list(shas[start : start + _IN_CHUNK])
        rows = Artifact.objects.using(alias).filter(sha256__in=chunk).defer("data", "preview")
        found.update({row.sha256: row for row in rows})
    return found


def insert_artifacts(rows: Sequence[Artifact], using: str | None = None) -> dict[str, Artifact]:
    """Insert unsaved ``Artifact`` instances; return every one of them as stored, by SHA-256.

    Content already stored is left alone (``ignore_conflicts``) and read back.
    """
    if not rows:
        return {}
    alias = _alias(using, write=True)
    Artifact.objects.using(alias).bulk_create(rows, ignore_conflicts=True, batch_size=_IN_CHUNK)
    return find_artifacts([row.sha256 for row in rows], alias)
