"""The load generator: Debian's ``wrk`` with ``post.lua``, and the bare in-process baseline.

One ``wrk`` run holds ``connections`` keep-alive connections on one thread, each
sending the next POST as soon as the previous answer arrived (closed loop), for
a fixed duration; ``post.lua`` prints the latency percentiles and error counts
as one JSON line, parsed here.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA = Path(__file__).resolve().parent / "post.lua"
_MARK = "MLOPS_BENCH "


@dataclass(frozen=True)
class Load:
    """What one fixed-duration wrk run measured (latencies in milliseconds)."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    failures: int

    @property
    def rps(self) -> float:
        """Answered requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_binary() -> str:
    """The path of ``wrk``, or an error saying how to install it."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian), see bench/README.md")
    return found


def wrk_version() -> str:
    """``wrk``'s version line (it prints it with ``-v`` and exits non-zero)."""
    done = subprocess.run([wrk_binary(), "-v"], capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).splitlines()[0].strip()


def run_wrk(url: str, body: Path, token: str | None, *, seconds: float, connections: int) -> Load:
    """POST ``body`` to ``url`` for ``seconds`` on ``connections`` connections."""
    command = [
        wrk_binary(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        str(body),
        token or "",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith(_MARK)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    data: dict[str, Any] = json.loads(lines[-1][len(_MARK) :])
    return Load(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1e3,
        p90_ms=data["p90_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3,
        max_ms=data["max_us"] / 1e3,
        failures=data["non2xx"] + data["socket_errors"],
    )


def bare_timings(call: Callable[[], Any], seconds: float) -> list[float]:
    """Wall times (ms) of ``call`` repeated for about ``seconds`` after a short warm-up."""
    for _ in range(20):
        call()
    out: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(out) < 50:
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1e3)
    return out


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median(values: list[float]) -> float:
    """The median (of rounds)."""
    return float(statistics.median(values))
