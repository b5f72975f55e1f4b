"""Per-task overhead of each executor on no-op tasks, and threads' speed-up on 1 ms sleeps.

Run: .venv/bin/python bench/bench_executor_overhead.py [--tasks 10000]
Overhead = (time for N tasks through submit+wait) / N, the bare call subtracted.
"""

from __future__ import annotations

import argparse
import time

from django_mlops.executors import TaskSpec, get_executor


def noop() -> None:
    return None


def nap() -> None:
    time.sleep(0.001)


def drive(name: str, specs: list[TaskSpec], workers: int) -> float:
    """Seconds to push every spec through the executor the way the Runner does."""
    with get_executor(name, max_workers=workers) as executor:
        executor.submit(specs[0])  # start pools outside the timing
        executor.wait()
        start = time.perf_counter()
        done = 0
        i = 0
        in_flight = 0
        while done < len(specs):
            while in_flight < executor.capacity and i < len(specs):
                executor.submit(specs[i])
                i += 1
                in_flight += 1
            got = len(executor.wait())
            done += got
            in_flight -= got
        return time.perf_counter() - start


def specs(func: object, n: int, capture: bool) -> list[TaskSpec]:
    return [TaskSpec(None, f"n{i}", 1, func, (), None, capture) for i in range(n)]  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--sleeps", type=int, default=200)
    args = parser.parse_args()
    n = args.tasks
    start = time.perf_counter()
    for _ in range(n):
        noop()
    bare = (time.perf_counter() - start) / n
    print(f"no-op tasks: {n}; bare call {bare * 1e6:.3f} us")
    print(f"{'executor':<12}{'capture':>8}{'us/task':>10}")
    for name, workers, count in (("inline", 1, n), ("threads", 2, n), ("processes", 2, n)):
        for capture in (False, True):
            seconds = drive(name, specs(noop, count, capture), workers)
            print(f"{name:<12}{capture!s:>8}{(seconds / count - bare) * 1e6:>10.2f}")
    m = args.sleeps
    serial = drive("inline", specs(nap, m, False), 1)
    threaded = drive("threads", specs(nap, m, False), 2)
    print(
        f"threads, 2 workers, {m} tasks of 1 ms sleep: serial {serial * 1e3:.0f} ms, "
        f"threads {threaded * 1e3:.0f} ms, speed-up {serial / threaded:.2f}x"
    )


if __name__ == "__main__":
    main()
