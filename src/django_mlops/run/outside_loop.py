"""Calling synchronous, database-using code from a thread that runs an event loop.

Jupyter and IPython kernels run every cell inside a running asyncio loop, and
Django refuses ORM calls from such a thread (``SynchronousOnlyOperation``): the
call would block the loop. A run blocks its caller anyway, so it is run in a
worker thread while the caller waits; Ctrl-C in the caller is passed on to the
worker as ``KeyboardInterrupt``, which the runner turns into a cancelled run.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["call_outside_event_loop", "event_loop_running"]

T = TypeVar("T")

# How often the waiting thread wakes up: a blocked join() would hold off Ctrl-C.
_POLL_SECONDS = 0.1


def event_loop_running() -> bool:
    """Whether an asyncio event loop is running in the calling thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _interrupt(thread: threading.Thread) -> None:
    """Raise KeyboardInterrupt in ``thread`` at its next Python instruction."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt)
        )


def call_outside_event_loop(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` in a worker thread; wait for it and return (or raise) its result.

    A first Ctrl-C while waiting interrupts ``func`` (a run is then recorded as
    cancelled) and re-raises once it has stopped; a second one stops waiting.
    """
    result: list[T] = []
    failure: list[BaseException] = []

    def work() -> None:
        from django.db import connections

        try:
            result.append(func(*args, **kwargs))
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)
        finally:
            connections.close_all()  # this thread's connections die with it

    thread = threading.Thread(target=work, name="mlops-run", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(_POLL_SECONDS)
    except KeyboardInterrupt:
        _interrupt(thread)
        while thread.is_alive():
            thread.join(_POLL_SECONDS)
        raise
    if failure:
        raise failure[0]
    return result[0]
