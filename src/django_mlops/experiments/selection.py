"""Which runs a comparison is about: 2 to 50 run ids, as the page and the API take them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..models import Run

__all__ = ["MAX_RUNS", "MIN_RUNS", "RunsProblem", "load_runs", "parse_run_ids"]

MIN_RUNS = 2
MAX_RUNS = 50
# Longer digit strings cannot be a 64-bit id (and would make int() slow on huge input).
_MAX_DIGITS = 18


class RunsProblem(ValueError):
    """The runs asked for are not 2 to 50 run numbers of recorded runs.

    ``missing`` lists the ids that are well formed but not recorded (a 404 rather
    than a 400/422 to the caller).
    """

    def __init__(self, message: str, missing: Sequence[int] = ()) -> None:
        super().__init__(message)
        self.missing = tuple(missing)


def parse_run_ids(
    chunks: Iterable[str], minimum: int = MIN_RUNS, maximum: int = MAX_RUNS
) -> list[int]:
    """Run ids from ``["1,2", "3"]`` (comma lists, repeated fields), in order, without repeats."""
    ids: list[int] = []
    repeated: list[int] = []
    for chunk in chunks:
        for part in chunk.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or not part.isascii() or len(part) > _MAX_DIGITS:
                raise RunsProblem(f"'{part[:20]}' is not a run number")
            if int(part) in ids:
                repeated.append(int(part))
            else:
                ids.append(int(part))
    if not minimum <= len(ids) <= maximum:
        wanted = f"exactly {minimum}" if minimum == maximum else f"{minimum} to {maximum}"
        twice = f"run #{repeated[0]} is named twice: " if repeated else ""
        raise RunsProblem(
            f"{twice}this needs {wanted} different runs, got {len(ids)}: tick them in the "
            "experiments table, or give ?runs=1,2,3"
        )
    return ids


def load_runs(ids: Sequence[int]) -> list[Run]:
    """The runs in the order asked (one query); ``RunsProblem`` with ``missing`` if any is not."""
    found = Run.objects.select_related("created_by").in_bulk(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise RunsProblem("no run " + ", ".join(f"#{i}" for i in missing), missing)
    return [found[i] for i in ids]
