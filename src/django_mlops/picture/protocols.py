"""What the picture needs to know about a pipeline, as structural types.

Any object with these attributes can be drawn: ``django_mlops.pipeline``'s
``Pipeline`` and ``Node`` do, and so do small test doubles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["NodeLike", "PipelineLike"]


class NodeLike(Protocol):
    """A pipeline step: its name, datasets read and written, tags and kind."""

    @property
    def name(self) -> str:
        """The step's unique name."""

    @property
    def inputs(self) -> Sequence[str]:
        """Dataset names it reads, and ``params:<name>`` for parameters."""

    @property
    def outputs(self) -> Sequence[str]:
        """Dataset names it writes."""

    @property
    def tags(self) -> Sequence[str]:
        """Its tags; the first one names its group under ``group_by_tag``."""

    @property
    def is_concept(self) -> bool:
        """Whether it is a planned step with no code yet."""

    @property
    def description(self) -> str:
        """A sentence for people; shown as the step's tooltip."""


class PipelineLike(Protocol):
    """A named pipeline of steps."""

    @property
    def name(self) -> str:
        """The pipeline's name, shown as the picture's title."""

    @property
    def description(self) -> str:
        """Shown under the title."""

    @property
    def nodes(self) -> Sequence[NodeLike]:
        """Its steps, in declaration order."""
