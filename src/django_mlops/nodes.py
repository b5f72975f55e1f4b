"""A pipeline's nodes: one ``Node`` per step, and ``NodeColumns``, their fields by node id.

Kept apart from ``Pipeline`` (which adds, validates and replaces nodes) so the
records, planning and the loop can read nodes without the definition machinery.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from .errors import PipelineError

__all__ = ["PARAM_PREFIX", "Node", "NodeColumns", "as_names", "first_paragraph", "node_columns"]

PARAM_PREFIX = "params:"


@dataclass(frozen=True, slots=True)
class Node:
    """One step of a pipeline: a function (or a planned concept step) and its datasets.

    ``inputs`` keeps the declared order, including ``params:<name>`` entries; the
    function receives one positional argument per input. ``returns_tuple`` is true
    when outputs were declared as a list: the function then returns a tuple.
    """

    name: str
    func: Callable[..., Any] | None
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    tags: tuple[str, ...] = ()
    retries: int = 0
    timeout: float | None = None
    cache: bool = True
    description: str = ""
    is_concept: bool = False
    returns_tuple: bool = False
    # Files, folders or glob patterns the node reads, as declared; relative ones
    # are relative to ``reads_root`` (the pipeline's folder, fixed at definition).
    reads: tuple[str, ...] = ()
    reads_root: str = ""
    id: int = field(default=-1, compare=False)

    @property
    def params(self) -> tuple[str, ...]:
        """Names of the pipeline params this node reads (without the ``params:`` prefix)."""
        return tuple(i[len(PARAM_PREFIX) :] for i in self.inputs if i.startswith(PARAM_PREFIX))

    @property
    def datasets(self) -> tuple[str, ...]:
        """Input dataset names (params left out)."""
        return tuple(i for i in self.inputs if not i.startswith(PARAM_PREFIX))


def first_paragraph(doc: str | None) -> str:
    """The first paragraph of a docstring on one line ("" for none): a node's description."""
    if not doc:
        return ""
    text = inspect.cleandoc(doc)
    return text.split("\n\n", 1)[0].replace("\n", " ").strip()


def as_names(value: str | Iterable[str] | None, what: str, node: str) -> tuple[str, ...]:
    """One name or several as a tuple; anything but non-empty strings is a PipelineError."""
    if value is None:
        return ()
    names = (value,) if isinstance(value, str) else tuple(value)
    for name in names:
        if not isinstance(name, str) or not name:
            raise PipelineError(f"node '{node}': {what} must be non-empty strings, got {name!r}")
    return names


@dataclass(frozen=True)
class NodeColumns:
    """A pipeline's per-node fields as lists indexed by node id (``Pipeline.columns``)."""

    names: list[str]
    inputs: list[tuple[str, ...]]
    funcs: list[Callable[..., Any] | None]  # None for a concept step
    retries: list[int]
    cacheable: list[bool]
    # The first output's name as a JSON string ('' for none): records name outputs.
    # One output, returned as is (not a tuple to unpack): the common case.
    single_output: list[bool]
    # The first output's name ("" for none).
    first_output: list[str]
    # Ids of the nodes that declare ``reads``: usually none, so planning skips files.
    reading: list[int]
    # Exactly one input (most nodes): the loop passes it by a plain call.
    single_input: list[bool]
    # Per node with several inputs, an itemgetter that takes its arguments from a
    # run's values as one tuple (None for the others): made once, not per run.
    getters: list[Callable[[Mapping[str, Any]], tuple[Any, ...]] | None]
    # Ids of the nodes with a timeout (they run through an executor's watchdog).
    timed: frozenset[int]
    # Ids of the concept steps and of the nodes with cache=False: planning and the
    # loop visit these few, not every node.
    concepts: list[int]
    uncacheable: list[int]


def node_columns(nodes: Sequence[Node]) -> NodeColumns:
    """The columns of ``nodes`` (in id order), as ``Pipeline.columns`` caches them."""
    return NodeColumns(
        names=[n.name for n in nodes],
        inputs=[n.inputs for n in nodes],
        funcs=[n.func for n in nodes],
        retries=[n.retries for n in nodes],
        cacheable=[n.cache for n in nodes],
        single_output=[len(n.outputs) == 1 and not n.returns_tuple for n in nodes],
        first_output=[n.outputs[0] if n.outputs else "" for n in nodes],
        reading=[n.id for n in nodes if n.reads],
        single_input=[len(n.inputs) == 1 for n in nodes],
        getters=[itemgetter(*n.inputs) if len(n.inputs) > 1 else None for n in nodes],
        timed=frozenset(n.id for n in nodes if n.timeout is not None),
        concepts=[n.id for n in nodes if n.is_concept],
        uncacheable=[n.id for n in nodes if not n.cache],
    )
