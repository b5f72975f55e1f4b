"""Rebuilding a version: re-run the run that produced it and compare the new model's bytes.

``reproduce_version`` goes through ``run.reproduce.reproduce_run`` (params and
selection of the original, caching off), so the reproduction registers its own
version of the model; the report says whether that artifact is byte-identical
to the original, or what differs (code, packages, data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import RegistryError
from .lookups import get_version

if TYPE_CHECKING:
    from ..executors import Executor
    from ..models import ModelVersion
    from ..run.reproduce import ReproduceReport

__all__ = ["ModelReproduction", "reproduce_version"]


@dataclass(slots=True)
class ModelReproduction:
    """The original version, the run that rebuilt it, and the version that run registered."""

    original: ModelVersion
    report: ReproduceReport
    rebuilt: ModelVersion | None

    @property
    def identical(self) -> bool:
        """The rebuilt model's artifact is byte for byte the original's."""
        return self.rebuilt is not None and self.rebuilt.sha256 == self.original.sha256

    def differences(self) -> list[str]:
        """What differs: the run's differences, then the model's own."""
        lines = self.report.differences()
        if self.rebuilt is None:
            lines.append(f"the reproduction registered no version of '{self.original.model.name}'")
        elif not self.identical:
            lines.append(
                f"model artifact differs: {self.original.sha256[:12]} (v{self.original.version}) "
                f"-> {self.rebuilt.sha256[:12]} (v{self.rebuilt.version})"
            )
        return lines


def reproduce_version(
    name: str, version: int, executor: str | Executor | None = None
) -> ModelReproduction:
    """Re-run the run that produced ``name`` version ``version`` and compare the model."""
    from ..models import ModelVersion
    from ..run.reproduce import reproduce_run

    original = get_version(name, version=version)
    if original.run_id is None:
        raise RegistryError(
            f"model '{name}' version {version} was not registered by a recorded run "
            "(imported or registered by hand): there is no run to reproduce"
        )
    report = reproduce_run(original.run_id, executor=executor)
    rebuilt = (
        ModelVersion.objects.select_related("model")
        .filter(model=original.model, run=report.run, node=original.node)
        .order_by("-version")
        .first()
    )
    return ModelReproduction(original=original, report=report, rebuilt=rebuilt)
