"""Calling synchronous, database-using code from a thread that runs an event loop.

Jupyter and IPython kernels run every cell inside a running asyncio loop, and
Django refuses ORM calls from such a thread (``SynchronousOnlyOperation``): the
call would block the loop. A run blocks its caller anyway, so it is run in a
worker thread while the caller waits; Ctrl-C in the caller is passed on to the
worker as ``KeyboardInterrupt``, which the runner turns into a cancelled run.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import threading
from collections.abc import Callable, Iterator
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


@contextlib.contextmanager
def _ctrl_c_raises() -> Iterator[None]:
    """Let Ctrl-C raise KeyboardInterrupt here while we wait.

    ``asyncio.run`` replaces the SIGINT handler with one that only cancels its
    main task at its next ``await``; this thread awaits nothing while a run
    goes on, so the run would finish first. (Jupyter kernels already raise.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def call_outside_event_loop(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` in a worker thread; wait for it and return (or raise) its result.

    A first Ctrl-C while waiting interrupts ``func`` (a run is then recorded as
    cancelled) and re-raises once it has stopped; a second one stops waiting.
    """
    result: list[T] = []
    failure: list[BaseException] = []
    # Waited on instead of Thread.join: a join interrupted by Ctrl-C can leave the
    # thread marked finished while it still runs (CPython 3.11's join releases
    # the thread's lock on the way out), and then the wait for it would end early.
    done = threading.Event()

    def work() -> None:
        from django.db import connections

        try:
            result.append(func(*args, **kwargs))
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)
        finally:
            connections.close_all()  # this thread's connections die with it
            done.set()

    thread = threading.Thread(target=work, name="mlops-run", daemon=True)
    with _ctrl_c_raises():
        thread.start()
        try:
            while not done.wait(_POLL_SECONDS):
                pass
        except KeyboardInterrupt:
            _interrupt(thread)
            while not done.wait(_POLL_SECONDS):
                pass
            raise
    if failure:
        raise failure[0]
    return result[0]
