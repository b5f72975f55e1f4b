"""A node's return value as its outputs, and the outcome of an attempt that never ran.

Both executors and the inline loop hand outcomes to ``Execution``
(``run/loop.py``); these build and check what goes in them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import NodeOutputError
from ..nodes import Node

if TYPE_CHECKING:
    from ..executors import TaskOutcome

__all__ = ["failed_outcome", "outputs_of"]


def outputs_of(node: Node, value: Any) -> tuple[Any, ...]:
    """The node's return value as one value per declared output, checked."""
    if not node.outputs:
        return ()
    if not node.returns_tuple:
        return (value,)
    count = len(node.outputs)
    if not isinstance(value, tuple) or len(value) != count:
        got = f"a tuple of {len(value)}" if isinstance(value, tuple) else type(value).__name__
        raise NodeOutputError(
            f"node '{node.name}' declares {count} outputs {list(node.outputs)} and must "
            f"return a tuple of {count} values; it returned {got}"
        )
    return value


def failed_outcome(
    node: Node, node_id: int, attempt: int, error: str, now: float, host: str, pid: int
) -> TaskOutcome:
    """The outcome of an attempt that failed before its function returned (or ran)."""
    from ..executors import TaskOutcome

    return TaskOutcome(
        node.name,
        attempt,
        False,
        None,
        error,
        "",
        "",
        "",
        "",
        now,
        now,
        host,
        pid,
        [],
        node_id=node_id,
    )
