"""The filter box: the experiments query language applied to the table, errors kept for display.

The language itself (parser, operators, errors) is ``django_mlops.experiments.query``;
this module only turns its ``FilterError`` into what the page draws: the text with a
caret under the offending characters.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from ..models import Run

__all__ = ["FilterProblem", "filter_runs"]


@dataclass
class FilterProblem(Exception):
    """A filter that does not parse, with where: ``before``/``bad``/``after`` split the text."""

    text: str
    position: int
    length: int
    message: str

    @property
    def before(self) -> str:
        """The text before the mistake."""
        return self.text[: self.position]

    @property
    def bad(self) -> str:
        """The offending characters (a space when the mistake is a missing end)."""
        return self.text[self.position : self.position + max(self.length, 1)] or " "

    @property
    def after(self) -> str:
        """The text after the mistake."""
        return self.text[self.position + max(self.length, 1) :]


def filter_runs(runs: QuerySet[Run], text: str) -> QuerySet[Run]:
    """The runs matching the filter text (all of them when it is blank)."""
    if not text:
        return runs
    try:
        from ..experiments.query import FilterError, apply_filter, parse_filter
    except ImportError:  # the language lands with the exp-core branch; until then, say so
        raise FilterProblem(
            text, 0, len(text), "the filter language (django_mlops.experiments.query) is missing"
        ) from None
    try:
        return apply_filter(runs, parse_filter(text))
    except FilterError as exc:
        raise FilterProblem(text, exc.position, exc.length, exc.message) from None
