"""SIGTERM and SIGHUP stop a run the way Ctrl-C does: recorded cancelled, finished work kept.

``kill PID``, a closed terminal, a container stopped by its orchestrator and
systemd all send one of these; by default Python dies on them without running
any ``finally``, which would leave the run shown ``running``. While a run is
executed in the main thread, they raise :class:`RunInterrupted` (a
``KeyboardInterrupt``) instead. A handler someone else installed (Celery, a
web server, the user) is left alone.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["RunInterrupted", "stop_signals_as_interrupts"]

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class RunInterrupted(KeyboardInterrupt):
    """A stop signal arrived while a run was executing."""


def _raise(signum: int, frame: FrameType | None) -> None:
    raise RunInterrupted(f"stopped by {signal.Signals(signum).name}")


@contextlib.contextmanager
def stop_signals_as_interrupts() -> Iterator[None]:
    """Within the block (main thread only), SIGTERM and SIGHUP raise ``RunInterrupted``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in _SIGNALS:
        if signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
