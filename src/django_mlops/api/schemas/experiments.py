"""Experiments as the API shows them: runs compared side by side, what changed, step curves."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from ...experiments.curves import MAX_POINTS
from ...experiments.selection import MAX_RUNS, MIN_RUNS

__all__ = [
    "ChangesOut",
    "ChangesQuery",
    "CompareOut",
    "CompareQuery",
    "CurvesOut",
    "CurvesQuery",
]

_RUNS_TEXT = 2000  # 50 ids of up to 18 digits, commas and spaces, with room to spare


def _ids_pattern(least: int, most: int) -> str:
    """A comma list of ``least`` to ``most`` run ids, as a JSON Schema pattern."""
    return rf"^ *[0-9]{{1,18}}( *, *[0-9]{{1,18}}){{{least - 1},{most - 1}}} *$"


class CompareQuery(Schema):
    """Which runs to compare: 2 to 50 ids; ``only_differences`` leaves out equal rows."""

    runs: str = Field(
        max_length=_RUNS_TEXT,
        pattern=_ids_pattern(MIN_RUNS, MAX_RUNS),
        description="2 to 50 different run ids, comma separated: `1,2,3`.",
    )
    only_differences: bool = Field(False, description="Leave out params and metrics all equal.")


class ChangesQuery(Schema):
    """The two runs: A (before) then B (after)."""

    runs: str = Field(
        max_length=_RUNS_TEXT,
        pattern=_ids_pattern(2, 2),
        description="Two different run ids: `A,B` (A before B).",
    )


class CurvesQuery(Schema):
    """Which runs and which metric's steps; at most ``points`` points per run."""

    runs: str = Field(
        max_length=_RUNS_TEXT,
        pattern=_ids_pattern(1, MAX_RUNS),
        description="1 to 50 different run ids, comma separated: `1,2,3`.",
    )
    metric: str = Field(min_length=1, max_length=200, description="A metric logged with a step.")
    points: int = Field(MAX_POINTS, ge=2, le=5000, description="Points kept per run, at most.")


class ComparedRun(Schema):
    """A run as the comparison heads its column."""

    id: int
    pipeline: str
    status: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    duration: float | None = Field(description="Seconds.")
    created_by: str | None
    git_commit: str


class ParamSide(Schema):
    """One param across the runs, in the runs' order (null: the run has none)."""

    key: str
    values: list[Any]
    differs: bool


class MetricSide(Schema):
    """One metric's final value across the runs, and which runs have the best one."""

    key: str
    values: list[float | None]
    differs: bool
    direction: Literal["maximize", "minimize"]
    declared: bool = Field(description="The pipeline declared the direction (else guessed).")
    best: list[int] = Field(description="Ids of the runs with the best value.")


class CompareOut(Schema):
    """Params and final metrics of 2 to 50 runs side by side."""

    runs: list[ComparedRun]
    params: list[ParamSide]
    metrics: list[MetricSide]
    hidden: int = Field(description="Rows left out by only_differences.")


class DifferenceOut(Schema):
    """One value that differs: in run A and in run B (null: absent there)."""

    name: str
    before: Any
    after: Any


class NodeChangeOut(Schema):
    """One node across the two runs: what changed in it, and what each run did with it."""

    node: str
    function: str = Field(description="module.qualname, when the pipeline is loaded.")
    before: str = Field(description="What run A did: ran, reused, absent, or the task's state.")
    after: str = Field(description="What run B did.")
    changed: bool = Field(description="Its code, files, params or inputs differ.")
    code: DifferenceOut | None
    reads: list[DifferenceOut] = Field(description="Files it reads, by path: their SHA-256.")
    params: list[str] = Field(description="Params it reads that differ.")
    inputs: list[DifferenceOut] = Field(description="Inputs whose producer's key differs.")


class ChangesOut(Schema):
    """What differs from run A (before) to run B (after)."""

    before: int
    after: int
    params: list[DifferenceOut]
    packages: list[DifferenceOut]
    environment: list[DifferenceOut]
    nodes: list[NodeChangeOut]
    changed_nodes: list[str]
    recomputed: list[str] = Field(description="Nodes run B ran itself.")
    reused: list[str] = Field(description="Nodes run B took from the cache.")


class CurveOut(Schema):
    """One run's curve: the points kept, and how many were logged."""

    run: int
    steps: list[int]
    values: list[float | None]
    total: int


class CurvesOut(Schema):
    """A metric by step for each run that logged it, downsampled on the server."""

    metric: str
    series: list[CurveOut]
