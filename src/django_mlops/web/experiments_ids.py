"""Which runs a compare asks for: ``?runs=1,2,3`` or ``?runs=1&runs=2`` (the table's form)."""

from __future__ import annotations

from django.http import HttpRequest

from .experiments_sides import MAX_RUNS, MIN_RUNS

__all__ = ["IdsProblem", "run_ids_from"]


class IdsProblem(ValueError):
    """The runs asked for are not 2 to 50 run numbers."""


def run_ids_from(request: HttpRequest) -> list[int]:
    """The run ids in the order asked, duplicates dropped; ``IdsProblem`` says what is wrong."""
    ids: list[int] = []
    for chunk in request.GET.getlist("runs"):
        for part in chunk.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or len(part) > 18:
                raise IdsProblem(f"'{part[:20]}' is not a run number")
            if int(part) not in ids:
                ids.append(int(part))
    if not MIN_RUNS <= len(ids) <= MAX_RUNS:
        raise IdsProblem(
            f"compare needs {MIN_RUNS} to {MAX_RUNS} runs, got {len(ids)}: tick them in the "
            "experiments table, or give ?runs=1,2,3"
        )
    return ids
