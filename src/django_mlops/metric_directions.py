"""Which way a metric is better: declared by the pipeline, else guessed from its name.

A pipeline declares ``metrics={"accuracy": "maximize", "val_loss/*": "minimize"}``;
keys are metric names or ``fnmatch`` patterns (for sweep keys such as
``val_accuracy/svc_C1_gamma0.01``). An exact name wins over a pattern; among
patterns the first declared that matches wins. A metric nobody declared is
guessed: names with loss, error, rmse and the like are minimised, others maximised.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Literal

from .errors import PipelineError

__all__ = ["DIRECTIONS", "Direction", "declare_directions", "declared_direction", "guess_direction"]

Direction = Literal["maximize", "minimize"]
DIRECTIONS: tuple[Direction, ...] = ("maximize", "minimize")

# A metric whose name holds one of these is better when smaller.
_SMALLER_IS_BETTER = ("loss", "error", "rmse", "mse", "mae", "mape", "perplexity", "time")
_PATTERN_CHARACTERS = frozenset("*?[")


def declare_directions(pipeline: str, metrics: Mapping[str, str] | None) -> dict[str, Direction]:
    """A pipeline's ``metrics=`` checked: names to "maximize" or "minimize"; else PipelineError."""
    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise PipelineError(
            f"pipeline '{pipeline}': metrics= maps metric names to 'maximize' or 'minimize', "
            f"got {type(metrics).__name__}"
        )
    declared: dict[str, Direction] = {}
    for name, direction in metrics.items():
        if not isinstance(name, str) or not name:
            raise PipelineError(f"pipeline '{pipeline}': metric names are strings, got {name!r}")
        if direction not in DIRECTIONS:
            hint = ""
            if isinstance(direction, str) and direction.lower().startswith(("max", "min")):
                hint = f" (did you mean '{direction.lower()[:3]}imize'?)"
            raise PipelineError(
                f"pipeline '{pipeline}': metric '{name}' must be 'maximize' or 'minimize', "
                f"got {direction!r}{hint}"
            )
        declared[name] = direction
    return declared


def declared_direction(declared: Mapping[str, Direction], metric: str) -> Direction | None:
    """The declared direction of ``metric`` (its exact name, else the first matching pattern)."""
    exact = declared.get(metric)
    if exact is not None:
        return exact
    for pattern, direction in declared.items():
        if _PATTERN_CHARACTERS.intersection(pattern) and fnmatchcase(metric, pattern):
            return direction
    return None


def guess_direction(metric: str) -> Direction:
    """``minimize`` for loss/error-like names (``val_loss``, ``rmse``), else ``maximize``."""
    name = metric.lower()
    return "minimize" if any(word in name for word in _SMALLER_IS_BETTER) else "maximize"
