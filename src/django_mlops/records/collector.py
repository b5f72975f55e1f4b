"""The garbage collector paused while the records build and write a run's rows.

A flush of a 10k-node run makes tens of thousands of short-lived containers
(a value list per row, parameter tuples, converted columns); each 700 of them
start a collection, and the survivors soon start a full one, which walks every
object of the process (Django's included) for rows that are freed right after.
Measured on a 10k-node recorded run (SQLite, wide): the collector took 21.8
us/node per run, 8.5 with the flush paused (docs/benchmarks.md).

No user code runs while paused, except a custom artifact Storage's ``save``;
cyclic garbage made meanwhile is collected once the pause ends. The pause is
process-wide, like the collector: other threads' collections wait for it too
(a flush lasts well under a second per 10,000 rows; longer only while it
retries a locked database). A collector the application switched off stays off.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collector_paused"]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection inside the block; the collector is on again after it if it was."""
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:  # the outermost pause turns it back on; a nested one leaves it off
            gc.enable()
