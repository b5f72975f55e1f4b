"""How much a Python thread gets done while an engine call runs.

An engine call that holds the GIL freezes every other Python thread; one that
releases it lets them run. Counting in a thread during the call tells which.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def counts_while(call: Callable[[], object]) -> tuple[int, float]:
    """Run ``call()`` while a Python thread counts; return (count during the call, seconds)."""
    stop = threading.Event()
    started = threading.Event()
    counter = [0]

    def count() -> None:
        started.set()
        while not stop.is_set():
            counter[0] += 1

    thread = threading.Thread(target=count)
    thread.start()
    started.wait()
    time.sleep(0.01)  # let the counter get going
    before = counter[0]
    t0 = time.perf_counter()
    try:
        call()
    finally:
        elapsed = time.perf_counter() - t0
        during = counter[0] - before
        stop.set()
        thread.join()
    return during, elapsed
