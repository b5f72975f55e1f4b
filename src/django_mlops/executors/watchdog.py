"""Stopping a node running in a thread: timeouts and cancels.

A :class:`Guard` belongs to one attempt running in one thread. The watchdog
thread (one per process, started on first use) raises :class:`TaskTimeout` in
that thread when the deadline passes, through ``PyThreadState_SetAsyncExc``;
:meth:`Guard.stop` does the same with :class:`TaskCancelled` for a cancel.

The exception is delivered when the thread next runs Python bytecode: pure
Python code stops at once, but a call into C (``time.sleep``, a NumPy kernel,
a socket read) runs to its end first. Executors that run tasks on pool threads
therefore report the timeout soon after the deadline and leave a thread stuck
in C to finish its call (``on_fire``).

On the main thread a guard made with ``alarm=True`` uses ``SIGALRM`` instead
(``signal.setitimer``): the signal interrupts blocking system calls such as
``time.sleep`` or a socket read, and the handler raises :class:`TaskTimeout`
right there. A C loop that never returns to Python still runs to its end.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from .base import TaskCancelled, TaskTimeout

__all__ = ["Guard", "alarm_available"]

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int

_IDLE, _ARMED, _FIRED, _DONE = 0, 1, 2, 3
_NOT_INSTALLED = object()  # a guard's previous SIGALRM handler while it has none installed

# One lock for every guard: arming, firing and disarming are each a few
# instructions, and a single lock makes "fire only while armed" simple to prove.
_lock = threading.Lock()


def alarm_available() -> bool:
    """Whether a guard armed here can use ``SIGALRM``: the main thread, and the alarm unused.

    A program (or a test runner) with its own interval timer or ``SIGALRM``
    handler keeps it; callers then stop the attempt another way.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        return False
    if signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0):
        return False
    return signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)


class Guard:
    """The stop switch of one attempt; see the module docstring.

    ``on_fire(guard)`` is called by whoever fires it (the watchdog thread, or the
    canceller) right after the exception is raised in the task's thread; it is
    not called for an alarm (the task's own thread raises the exception).
    ``alarm=True`` arms a ``SIGALRM`` timer instead of the watchdog: only on the
    main thread, and only where :func:`alarm_available` says so.
    """

    __slots__ = (
        "alarm",
        "alarm_off",
        "deadline",
        "fired_with",
        "ident",
        "on_fire",
        "payload",
        "previous_handler",
        "state",
        "timeout",
    )

    def __init__(
        self,
        on_fire: Callable[[Guard], None] | None = None,
        payload: Any = None,
        *,
        alarm: bool = False,
    ):
        self.ident = 0
        self.state = _IDLE
        self.deadline: float | None = None
        self.timeout: float | None = None
        self.fired_with: type[BaseException] | None = None
        self.on_fire = on_fire
        self.payload = payload  # whatever on_fire needs (the executor's job)
        self.alarm = alarm
        # Set (one store, so the signal handler can read it without a lock) as the
        # first thing disarm does: the handler raises only while this is False.
        self.alarm_off = True
        self.previous_handler: Any = _NOT_INSTALLED

    def arm(self, timeout: float | None) -> None:
        """Start guarding the calling thread; ``timeout`` in seconds, or ``None``."""
        with _lock:
            stopped = self.fired_with if self.state != _IDLE else None
            if stopped is None:
                self.ident = threading.get_ident()
                self.state = _ARMED
        if stopped is not None:  # cancelled before it started
            raise stopped()
        if timeout is not None:
            self.timeout = timeout
            self.deadline = time.monotonic() + timeout
            if self.alarm:
                self.previous_handler = signal.signal(signal.SIGALRM, self._on_alarm)
                self.alarm_off = False
                # Last: from here on the handler may raise, inside the caller's try.
                signal.setitimer(signal.ITIMER_REAL, timeout)
            else:
                _watchdog().add(self)

    def _on_alarm(self, signum: int, frame: Any) -> None:
        # Runs on the main thread between two bytecodes, possibly while that thread
        # holds _lock: so no lock here, only this guard's own fields.
        if self.alarm_off:
            return
        self.alarm_off = True
        self.fired_with = TaskTimeout
        # The timer fired (it is one-shot): give the previous handler back now, in
        # case the exception lands before disarm could do it.
        self._restore_handler()
        raise TaskTimeout(f"timed out after {self.timeout} s")

    def _restore_handler(self) -> None:
        previous, self.previous_handler = self.previous_handler, _NOT_INSTALLED
        if previous is not _NOT_INSTALLED:
            signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)

    def _stop_alarm(self) -> None:
        self.alarm_off = True
        if self.previous_handler is not _NOT_INSTALLED:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self._restore_handler()

    def disarm(self) -> bool:
        """The function returned; whether the guard fired (a timeout or cancel) before that.

        A fired exception not yet delivered is withdrawn, so it cannot surface
        later in the executor's own code.
        """
        if self.alarm:
            self._stop_alarm()
        with _lock:
            if self.state == _ARMED:
                self.state = _DONE
                return self.fired_with is not None  # set by the alarm handler
            if self.state == _FIRED:
                _set_async_exc(self.ident, None)
                self.state = _DONE
            return self.fired_with is not None

    def stop(self, exc: type[BaseException] = TaskCancelled) -> bool:
        """Raise ``exc`` in the guarded thread now (or stop it before it starts)."""
        return self._fire(exc)

    @property
    def fired(self) -> bool:
        """Whether a timeout or cancel was raised for this attempt."""
        return self.fired_with is not None

    def _fire(self, exc: type[BaseException]) -> bool:
        with _lock:
            if self.state == _IDLE:
                self.state = _DONE
                self.fired_with = exc
                return True
            if self.state != _ARMED:
                return False
            self.state = _FIRED
            self.fired_with = exc
            _set_async_exc(self.ident, exc)
        if self.on_fire is not None:
            self.on_fire(self)
        return True


class _Watchdog:
    """A thread that fires guards whose deadline has passed."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Guard]] = []
        self._order = itertools.count()
        self._wake = threading.Condition(threading.Lock())
        thread = threading.Thread(target=self._loop, name="django-mlops-watchdog", daemon=True)
        thread.start()

    def add(self, guard: Guard) -> None:
        assert guard.deadline is not None
        with self._wake:
            heapq.heappush(self._heap, (guard.deadline, next(self._order), guard))
            if self._heap[0][2] is guard:
                self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while True:
                    # Finished guards leave the heap here rather than on disarm.
                    while self._heap and self._heap[0][2].state == _DONE:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._wake.wait()
                        continue
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        guard = heapq.heappop(self._heap)[2]
                        break
                    self._wake.wait(delay)
            guard._fire(TaskTimeout)


_instance: _Watchdog | None = None
_instance_lock = threading.Lock()


def _watchdog() -> _Watchdog:
    global _instance
    if _instance is None:
        with _instance_lock:
            if _instance is None:
                _instance = _Watchdog()
    return _instance


def _after_fork_in_child() -> None:
    # The watchdog thread does not exist in a forked child and the lock may have
    # been held by a parent thread at the fork: start afresh.
    global _instance, _lock, _instance_lock
    _instance = None
    _lock = threading.Lock()
    _instance_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
