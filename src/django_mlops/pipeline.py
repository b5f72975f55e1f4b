"""Pipelines: named DAGs of plain Python functions, compiled node by node into an engine Graph.

Example::

    iris = Pipeline("iris", params={"C": 1.0})

    @iris.node(outputs="frame")
    def load(): ...

    @iris.node(inputs=["frame", "params:C"], outputs="model")
    def fit(frame, C): ...

Each node is checked as it is added (reused name, second producer, cycle: the
engine does this in time proportional to the new node), so a definition error
surfaces at import with the names involved. ``validate()`` then checks what
needs the whole graph: inputs that nobody produces.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar, overload

from . import _engine
from .errors import PipelineError, UnknownParamError
from .metric_directions import Direction, declare_directions
from .node_signature import check_inputs, positional_names
from .nodes import PARAM_PREFIX, Node, NodeColumns, as_names, first_paragraph, node_columns
from .params import Param, declare_params
from .pipeline_registry import (
    all_registered,
    register,
    registered,
    replacing_registrations,
)

if TYPE_CHECKING:
    from .run.runner import AnyRun

__all__ = [
    "PARAM_PREFIX",
    "Node",
    "NodeColumns",
    "Pipeline",
    "all_registered",
    "registered",
    "replacing_registrations",
]

F = TypeVar("F", bound=Callable[..., Any])


def _is_interactive(namespace: Mapping[str, Any]) -> bool:
    """Whether code runs at a prompt: ``__main__`` with no file (REPL, ``-c``, IPython, Jupyter)."""
    return namespace.get("__name__") == "__main__" and not namespace.get("__file__")


class Pipeline:
    """A named DAG of nodes with typed parameters.

    Nodes are added with the :meth:`node` decorator (which returns the function
    unchanged) and planned steps with :meth:`concept`. ``run()`` executes it.
    ``params`` maps names to defaults (their type is the param's type) or to
    :class:`~django_mlops.Param` declarations; ``param_specs`` has every param as
    a typed ``Param`` and ``params`` the defaults as plain values. ``metrics`` says
    which way a metric is better (``{"accuracy": "maximize", "loss*": "minimize"}``),
    for marking the best run when runs are compared; undeclared metrics are guessed.

    Defined at an interactive prompt (a notebook cell, the REPL, ``python -c``),
    a node defined again under its name replaces the earlier one, so a cell can
    be run again; in a module file a reused name stays a definition error.
    """

    def __init__(
        self,
        name: str,
        description: str = "",
        params: Mapping[str, Any | Param] | None = None,
        metrics: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise PipelineError(f"a pipeline needs a non-empty name, got {name!r}")
        self.name = name
        self.description = description
        self.param_specs: dict[str, Param] = declare_params(name, params)
        # Plain default values (a required param has none), as records and displays want.
        self.params: dict[str, Any] = {
            k: spec.default for k, spec in self.param_specs.items() if not spec.required
        }
        # Which way each metric is better, for the compare view (names or patterns).
        self.metric_directions: dict[str, Direction] = declare_directions(name, metrics)
        frame = sys._getframe(1)
        self.module: str = frame.f_globals.get("__name__", "__main__")
        self.interactive: bool = _is_interactive(frame.f_globals)
        self.graph = _engine.Graph()
        # Held while a node is added and while a run is planned, so a plan never
        # sees half a definition (a thread adding nodes while another plans).
        self.definition_lock = threading.RLock()
        self._nodes: list[Node] = []
        self._by_name: dict[str, Node] = {}
        self._columns: NodeColumns | None = None
        register(self)

    def __repr__(self) -> str:
        return f"<Pipeline {self.name!r}: {len(self._nodes)} nodes>"

    @property
    def source(self) -> str:
        """Where the pipeline is defined, as the CLI names it: ``MODULE:NAME`` or ``/file.py:NAME``.

        A module imported from a file by path (``mlops run path/p.py``) or a script
        run as ``__main__`` is named by its absolute path, since its module name
        means nothing elsewhere; "" when it was defined interactively.
        """
        from pathlib import Path

        from .discovery import loaded_from_file

        if self.module == "__main__" or loaded_from_file(self.module):
            path = getattr(sys.modules.get(self.module), "__file__", None)
            return f"{Path(path).resolve()}:{self.name}" if path else ""
        return f"{self.module}:{self.name}"

    @property
    def nodes(self) -> list[Node]:
        """The nodes in declaration order (which is also their engine id order)."""
        return list(self._nodes)

    @property
    def columns(self) -> NodeColumns:
        """Per-node fields as lists indexed by node id, made once per definition.

        Every run reads these for all nodes; a pipeline run many times in one
        process (a worker, a notebook) builds them once, not per run.
        """
        columns = self._columns
        if columns is None:
            # Built under the definition lock: a node added meanwhile must not
            # leave columns of the shorter node list cached.
            with self.definition_lock:
                columns = self._columns
                if columns is None:
                    columns = self._columns = node_columns(self._nodes)
        return columns

    def __getitem__(self, name: str) -> Node:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"pipeline '{self.name}' has no node '{name}'") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self._nodes)

    @overload
    def node(self, func: F, /) -> F: ...

    @overload
    def node(
        self,
        func: None = None,
        /,
        *,
        outputs: str | Sequence[str] | None = None,
        inputs: str | Sequence[str] | None = None,
        name: str | None = None,
        description: str | None = None,
        tags: str | Sequence[str] = (),
        retries: int = 0,
        timeout: float | None = None,
        cache: bool | None = None,
        reads: str | Sequence[str] = (),
    ) -> Callable[[F], F]: ...

    def node(
        self,
        func: F | None = None,
        /,
        *,
        outputs: str | Sequence[str] | None = None,
        inputs: str | Sequence[str] | None = None,
        name: str | None = None,
        description: str | None = None,
        tags: str | Sequence[str] = (),
        retries: int = 0,
        timeout: float | None = None,
        cache: bool | None = None,
        reads: str | Sequence[str] = (),
    ) -> F | Callable[[F], F]:
        """Add a function as a node; usable bare (``@p.node``) or with options.

        ``inputs`` default to the function's parameter names; ``outputs`` is one
        dataset name or a list (the function then returns a tuple of that length).
        Returns the function unchanged so it stays callable in unit tests.
        ``cache`` defaults to on, and to off for a node with no outputs (it runs for
        its side effects). ``reads`` names the files, folders or glob patterns the
        node reads (relative to the pipeline's file, or absolute): their contents
        are part of its cache key.
        """

        def decorate(f: F) -> F:
            node_name = name or getattr(f, "__name__", None)
            if not node_name:
                raise PipelineError(f"cannot name node for {f!r}; pass name=...")
            declared_inputs = (
                positional_names(f, node_name)
                if inputs is None
                else as_names(inputs, "inputs", node_name)
            )
            check_inputs(f, declared_inputs, node_name)
            if retries < 0:
                raise PipelineError(f"node '{node_name}': retries must be >= 0, got {retries}")
            if timeout is not None and timeout <= 0:
                raise PipelineError(f"node '{node_name}': timeout must be > 0, got {timeout}")
            declared_outputs = as_names(outputs, "outputs", node_name)
            declared_reads = as_names(reads, "reads", node_name)
            self._add(
                Node(
                    name=node_name,
                    func=f,
                    inputs=declared_inputs,
                    outputs=declared_outputs,
                    tags=as_names(tags, "tags", node_name),
                    retries=int(retries),
                    timeout=timeout,
                    # No outputs: nothing to reuse but the side effects, which a
                    # cache hit would silently skip.
                    cache=bool(declared_outputs) if cache is None else bool(cache),
                    description=(
                        description if description is not None else first_paragraph(f.__doc__)
                    ),
                    returns_tuple=outputs is not None and not isinstance(outputs, str),
                    reads=declared_reads,
                    reads_root=self._reads_root() if declared_reads else "",
                )
            )
            return f

        if func is not None:
            return decorate(func)
        return decorate

    def concept(
        self,
        name: str,
        *,
        inputs: str | Sequence[str] = (),
        outputs: str | Sequence[str] = (),
        description: str = "",
        tags: str | Sequence[str] = (),
    ) -> Node:
        """Declare a planned step with no code yet: drawn and validated, never run.

        A run stops cleanly before it; its descendants are recorded as not started.
        """
        return self._add(
            Node(
                name=name,
                func=None,
                inputs=as_names(inputs, "inputs", name),
                outputs=as_names(outputs, "outputs", name),
                tags=as_names(tags, "tags", name),
                cache=False,
                description=description,
                is_concept=True,
                returns_tuple=not isinstance(outputs, str),
            )
        )

    def _add(self, node: Node) -> Node:
        with self.definition_lock:
            return self._add_locked(node)

    def _add_locked(self, node: Node) -> Node:
        for param in node.params:
            if param not in self.param_specs:
                known = ", ".join(sorted(self.param_specs)) or "none"
                raise UnknownParamError(
                    f"node '{node.name}' reads params:{param}, but pipeline '{self.name}' "
                    f"has no param '{param}' (known: {known})"
                )
        if self.interactive and node.name in self._by_name:
            return self._replace(node)
        # The engine checks the name, the producers and cycles for this node only.
        node_id = self._add_to(self.graph, node)
        # Built field by field: dataclasses.replace costs more than the rest of _add.
        stored = Node(
            name=node.name,
            func=node.func,
            inputs=node.inputs,
            outputs=node.outputs,
            tags=node.tags,
            retries=node.retries,
            timeout=node.timeout,
            cache=node.cache,
            description=node.description,
            is_concept=node.is_concept,
            returns_tuple=node.returns_tuple,
            reads=node.reads,
            reads_root=node.reads_root,
            id=node_id,
        )
        self._nodes.append(stored)
        self._by_name[stored.name] = stored
        self._columns = None
        return stored

    @staticmethod
    def _add_to(graph: Any, node: Node) -> int:
        return int(
            graph.add_node(
                node.name, list(node.inputs), list(node.outputs), list(node.tags), node.is_concept
            )
        )

    def _replace(self, node: Node) -> Node:
        """Put ``node`` in the place of the node of its name (a notebook cell run again).

        The engine graph cannot remove a node, so a new graph is built from the
        node list with the new node in the old one's place: ids stay dense and in
        declaration order. The pipeline changes only if the new graph is valid.
        """
        index = self._by_name[node.name].id
        nodes = [*self._nodes[:index], node, *self._nodes[index + 1 :]]
        graph = _engine.Graph()
        # A cycle or a second producer the new definition brings raises here,
        # before anything is swapped: the pipeline keeps its earlier definition.
        nodes = [replace(each, id=self._add_to(graph, each)) for each in nodes]
        self.graph = graph
        self._nodes = nodes
        self._by_name = {n.name: n for n in nodes}
        self._columns = None
        return nodes[index]

    def _reads_root(self) -> str:
        """The folder relative ``reads`` are resolved against: the pipeline's file's folder.

        A module without a file (``python -c``, a notebook) resolves them against
        the current directory at definition time, so a later ``chdir`` changes nothing.
        """
        module = sys.modules.get(self.module)
        filename = getattr(module, "__file__", None)
        if filename:
            return os.path.dirname(os.path.abspath(filename))
        return os.getcwd()

    def validate(self) -> None:
        """Check the whole graph: raises MissingInputError naming the input and its reader."""
        self.graph.validate()

    def run(self, **options: Any) -> AnyRun:
        """Run the pipeline; options are those of :func:`django_mlops.run.runner.run_pipeline`.

        Example: ``run = iris.run(params={"C": 0.5}, executor="threads")``.
        From a plain script or a notebook with no Django settings, a recorded run
        first configures standalone mode (``./.mlops`` or ``$MLOPS_HOME``). Called
        where an event loop runs (a notebook cell), the run happens in a worker
        thread while this one waits, since Django forbids the ORM in that thread.
        """
        from .run.outside_loop import call_outside_event_loop, event_loop_running
        from .run.runner import run_pipeline

        def run_here() -> AnyRun:
            if options.get("record", True):
                from .standalone.bootstrap import ensure_configured

                ensure_configured()  # migrating uses the ORM too: in the worker thread
            return run_pipeline(self, **options)

        if event_loop_running():
            return call_outside_event_loop(run_here)
        return run_here()
