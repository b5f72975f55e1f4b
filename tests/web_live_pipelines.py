"""A pipeline whose middle step prints, waits, prints again and waits: the live-log tests watch it.

``WEB_LIVE_DIR`` names the folder where the test drops ``go`` and ``go-again``.
"""

import os
import time
from pathlib import Path

from django_mlops import Pipeline

web_printing = Pipeline("web_printing", description="Prints while it runs, for the live logs")


def _wait_for(name: str) -> None:
    gate = Path(os.environ["WEB_LIVE_DIR"]) / name
    deadline = time.monotonic() + 120
    while not gate.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"nobody made {gate}")
        time.sleep(0.05)


@web_printing.node(outputs="rows")
def load():
    """Take a moment, past RECORD_FLUSH_SECONDS, so it is recorded before the next step starts.

    An inline run writes its records between steps: a step that ended within
    RECORD_FLUSH_SECONDS of the last write is shown once the step after it ends.
    """
    time.sleep(1.5)
    return [1, 2, 3]


@web_printing.node(inputs=["rows"], outputs="total")
def train(rows):
    """Report progress as it goes, as a long training step would."""
    print("epoch 1: loss 0.50")
    _wait_for("go")
    print("epoch 2: loss 0.25")
    _wait_for("go-again")
    return sum(rows)


@web_printing.node(inputs=["total"], outputs="report")
def report(total):
    """End."""
    return f"total {total}"
