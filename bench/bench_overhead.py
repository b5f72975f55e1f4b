"""Per-node overhead of django-mlops against Kedro, Hamilton, Dask and Prefect 3.

Run from the repository root: ``.venv/bin/python bench/bench_overhead.py``
(``--sizes 1000 10000`` for a shorter run, ``--markdown FILE`` to write the tables).

Every framework runs the same no-op DAGs (``bench/peers/dags.py``: chain, wide and
random layered, of 1k, 10k and 100k nodes), each measurement in a fresh process:
django-mlops from this venv, the peers from ``.bench-venv`` (created here on first
use with ``python -m venv`` and pip). Overhead per node = (median run time - N x
a bare Python call) / N. Graph construction is timed apart and not included.
A peer whose projected time exceeds ``--budget`` seconds is skipped, and says so.
Then threads: 2 workers against serial on 500 independent nodes that sleep 1 ms.
``--before ../other-checkout`` also runs that checkout's django-mlops (its ``.venv``)
in the same interleaved rounds, for a before/after from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BENCH_VENV = ROOT / ".bench-venv"
# Prefect 3.8's server code does not start with FastAPI >= 0.151 (Body(min_items=...)).
PEER_REQUIREMENTS = ["kedro", "dask", "prefect", "fastapi>=0.139,<0.151"]
HAMILTON_DISTRIBUTIONS = ["sf-hamilton", "apache-hamilton"]

OURS = ("ours", "ours-recorded", "ours-recorded-pg", "ours-cached")
PEERS = ("dask", "hamilton", "kedro", "prefect")
# Peers that record their runs (task states in a database), as we do.
RECORDING_PEERS = ("prefect",)
LABELS = {
    "ours": "mlops memory",
    "ours-recorded": "mlops SQLite",
    "ours-recorded-pg": "mlops PostgreSQL",
    "ours-cached": "mlops cached",
    "dask": "Dask sync",
    "hamilton": "Hamilton",
    "kedro": "Kedro seq",
    "prefect": "Prefect 3",
}
THREADED_LABELS = {
    "ours": "mlops threads",
    "kedro": "Kedro ThreadRunner",
    "dask": "Dask threaded",
    "prefect": "Prefect ThreadPoolTaskRunner",
}
SHAPES = ("chain", "wide", "layered")
# Prefix of our frameworks run from the --before checkout.
BEFORE = "before:"


def label(framework: str) -> str:
    """The column name of a framework (ours from the --before checkout say so)."""
    if framework.startswith(BEFORE):
        return f"{LABELS[framework.removeprefix(BEFORE)]} (before)"
    return LABELS[framework]


def selected(args: argparse.Namespace) -> list[str]:
    """The frameworks of this run in table order: ours, ours before (with --before), peers."""
    ours = [f for f in OURS if f in args.frameworks]
    before = [BEFORE + f for f in ours] if args.before is not None else []
    return [*ours, *before, *(f for f in PEERS if f in args.frameworks)]


def interpreter(framework: str, args: argparse.Namespace, peer_python: Path) -> Path:
    """The python that runs a framework: the --before checkout's venv runs its own code."""
    if framework.startswith(BEFORE):
        return Path(args.before) / ".venv" / "bin" / "python"
    return Path(sys.executable) if framework in OURS else peer_python


@dataclass
class Result:
    """One framework on one DAG: microseconds per node, or why there is none."""

    framework: str
    shape: str
    nodes: int
    us_per_node: float | None = None
    build_s: float | None = None
    median_s: float | None = None
    note: str = ""
    version: str = ""


def ensure_bench_venv() -> Path:
    """The bench venv's python, creating the venv and installing the peers if needed."""
    python = BENCH_VENV / "bin" / "python"
    if python.exists():
        return python
    print(f"creating {BENCH_VENV} and installing {', '.join(PEER_REQUIREMENTS)}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, *PEER_REQUIREMENTS], check=True)
    # Hamilton is published under both names; take whichever installs.
    for distribution in HAMILTON_DISTRIBUTIONS:
        if subprocess.run([*pip, distribution]).returncode == 0:
            break
    return python


def run_case(
    python: Path,
    framework: str,
    shape: str,
    nodes: int,
    *,
    repeats: int,
    timeout: float,
    workers: int = 1,
    body: str = "noop",
    before: bool = False,
) -> dict[str, object] | str:
    """One measurement in a fresh process: the worker's JSON, or a note on failure.

    ``before``: ``python`` is another checkout's, measured by this bench's worker.
    """
    command = [
        str(python),
        "-m",
        "peers.worker",
        f"--framework={framework.removeprefix(BEFORE)}",
        f"--shape={shape}",
        f"--nodes={nodes}",
        f"--repeats={repeats}",
        f"--workers={workers}",
        f"--body={body}",
        f"--budget={timeout / 2}",
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if before:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave the other checkout as it is
    try:
        done = subprocess.run(
            command, cwd=BENCH, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return f"over {timeout:.0f} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return f"failed: {last[:80]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def repeats_for(nodes: int) -> int:
    """More repeats for small DAGs, where one run is short and noisy."""
    return 7 if nodes <= 1_000 else 3 if nodes <= 10_000 else 1


def overhead(args: argparse.Namespace, peer_python: Path) -> list[Result]:
    """Every framework on every shape and size; skips projected to exceed the budget.

    Each case runs in ``--rounds`` fresh processes, the frameworks interleaved
    round by round (ours, a peer, ..., then again), and the median of the rounds'
    medians counts: a machine whose speed drifts over minutes (a shared VM's disk
    and CPU) then slows every framework alike instead of whichever ran during the
    slow minute. A case that takes longer than ``--round-seconds`` runs once.
    """
    frameworks = selected(args)
    results: list[Result] = []
    for shape in SHAPES:
        last_us: dict[str, float] = {}
        failed: set[str] = set()
        for nodes in args.sizes:
            repeats = repeats_for(nodes)
            cases: dict[str, Result] = {}
            for framework in frameworks:
                result = Result(framework, shape, nodes)
                results.append(result)
                if framework in last_us:
                    projected = last_us[framework] * 1e-6 * nodes * (repeats + 1)
                    if projected > args.budget:
                        result.note = f"skipped: projected {projected:.0f} s > {args.budget:.0f} s"
                        continue
                elif framework in failed:
                    result.note = "skipped: smaller size did not finish"
                    continue
                cases[framework] = result
            medians: dict[str, list[float]] = {f: [] for f in cases}
            for round_number in range(args.rounds):
                for framework, result in cases.items():
                    if result.note or (round_number and _one_round(result, args)):
                        continue
                    python = interpreter(framework, args, peer_python)
                    outcome = run_case(
                        python,
                        framework,
                        shape,
                        nodes,
                        repeats=repeats,
                        timeout=args.budget,
                        before=framework.startswith(BEFORE),
                    )
                    if isinstance(outcome, str):
                        result.note = outcome
                        failed.add(framework)
                        continue
                    bare = float(outcome["bare_call_s"])  # type: ignore[arg-type]
                    medians[framework].append(float(outcome["median_s"]) - bare * nodes)  # type: ignore[arg-type]
                    result.median_s = statistics.median(medians[framework])
                    result.build_s = float(outcome["build_s"])  # type: ignore[arg-type]
                    result.us_per_node = result.median_s / nodes * 1e6
                    result.version = str(outcome["version"])
            for framework, result in cases.items():
                if result.us_per_node is not None and not result.note:
                    last_us[framework] = result.us_per_node
                rounds = len(medians[framework])
                shown = (
                    f"{result.us_per_node:.2f} us/node (median of {rounds} rounds)"
                    if result.us_per_node is not None and not result.note
                    else result.note
                )
                print(f"  {shape:<8}{nodes:>7}  {label(framework):<13} {shown}", flush=True)
    return results


def _one_round(result: Result, args: argparse.Namespace) -> bool:
    """Whether a case is too long to repeat in further rounds."""
    return result.median_s is not None and result.median_s * (
        repeats_for(result.nodes) + 1
    ) > float(args.round_seconds)


def threads(args: argparse.Namespace, peer_python: Path) -> list[tuple[str, float, float]]:
    """(framework, serial s, 2-thread s) on independent 1 ms nodes."""
    rows = []
    for framework in THREADED_LABELS:
        if framework not in args.frameworks:
            continue
        python = Path(sys.executable) if framework in OURS else peer_python
        times = []
        for workers in (1, 2):
            outcome = run_case(
                python,
                framework,
                "wide",
                args.sleep_nodes,
                repeats=3,
                timeout=args.budget,
                workers=workers,
                body="nap",
            )
            times.append(None if isinstance(outcome, str) else float(outcome["median_s"]))  # type: ignore[arg-type]
        if None not in times:
            rows.append((framework, times[0], times[1]))  # type: ignore[arg-type]
            print(
                f"  threads {THREADED_LABELS[framework]:<13} {times[0]:.3f} s -> {times[1]:.3f} s",
                flush=True,
            )
    return rows


def format_tables(
    results: list[Result], thread_rows: list[tuple[str, float, float]], args: argparse.Namespace
) -> str:
    """Markdown: us/node per framework, each peer's ratio to our fastest, and threads."""
    frameworks = selected(args)
    by_key = {(r.framework, r.shape, r.nodes): r for r in results}
    lines = [
        "Overhead per node (us; median run time / nodes, minus a bare call):",
        "",
        "| DAG | nodes | " + " | ".join(label(f) for f in frameworks) + " |",
        "|---|---:|" + "---:|" * len(frameworks),
    ]
    ratio_lines = [
        "Each peer's overhead divided by ours in memory (higher: we are faster):",
        "",
        "| DAG | nodes | " + " | ".join(label(f) for f in frameworks[1:]) + " |",
        "|---|---:|" + "---:|" * (len(frameworks) - 1),
    ]
    notes: list[str] = []
    for shape in SHAPES:
        for nodes in args.sizes:
            cells, ratios = [], []
            ours = by_key.get(("ours", shape, nodes))
            for framework in frameworks:
                r = by_key.get((framework, shape, nodes))
                if r is None or r.us_per_node is None:
                    cells.append("—")
                    if r is not None and r.note:
                        notes.append(f"{label(framework)}, {shape} {nodes}: {r.note}")
                    value = None
                else:
                    cells.append(f"{r.us_per_node:.2f}")
                    value = r.us_per_node
                if framework != "ours":
                    good = value is not None and ours is not None and ours.us_per_node
                    ratios.append(f"{value / ours.us_per_node:.1f}x" if good else "—")  # type: ignore[operator, union-attr]
            lines.append(f"| {shape} | {nodes:,} | " + " | ".join(cells) + " |")
            ratio_lines.append(f"| {shape} | {nodes:,} | " + " | ".join(ratios) + " |")
    out = [*lines, "", *ratio_lines, ""]
    if notes:
        out += ["Not measured:", "", *(f"- {n}" for n in notes), ""]
    if thread_rows:
        out += [
            f"threads, 2 workers, {args.sleep_nodes} independent nodes sleeping 1 ms each:",
            "",
            "| framework | serial, 1 worker (s) | 2 threads (s) | speed-up |",
            "|---|---:|---:|---:|",
        ]
        out += [
            f"| {THREADED_LABELS[name]} | {one:.3f} | {two:.3f} | {one / two:.2f}x |"
            for name, one, two in thread_rows
        ]
        out.append("")
    out.append(goals(by_key))
    return "\n".join(out)


def goals(by_key: dict[tuple[str, str, int], Result]) -> str:
    """The speed goals at 10k nodes, checked per shape, each a ratio from this one run.

    In memory at least 10x less than the fastest peer's (unrecorded) overhead;
    recorded to SQLite and to PostgreSQL at most 2x it, and at least 50x less than
    the fastest peer that records its runs; a fully cached run no slower per node
    than an executed one.
    """
    lines = ["Goals at 10,000 nodes:", ""]

    def us(framework: str, shape: str) -> float | None:
        found = by_key.get((framework, shape, 10_000))
        return found.us_per_node if found is not None else None

    for shape in SHAPES:
        ours = us("ours", shape)
        measured = [(us(p, shape), p) for p in PEERS if us(p, shape) is not None]
        if not measured or ours is None:
            continue
        best, fastest = min(measured)  # type: ignore[type-var]
        assert best is not None
        parts = [
            f"fastest peer {LABELS[fastest]} {best:.2f} us",
            f"in memory {ours:.2f} us ({best / ours:.1f}x less, goal 10x: "
            f"{'met' if ours * 10 <= best else 'NOT met'})",
        ]
        recording = [us(p, shape) for p in RECORDING_PEERS if us(p, shape) is not None]
        for framework in ("ours-recorded", "ours-recorded-pg"):
            recorded = us(framework, shape)
            if recorded is None:
                continue
            verdict = "met" if recorded <= 2 * best else "NOT met"
            ratio = recorded / best
            part = f"{LABELS[framework]} {recorded:.2f} us ({ratio:.2f}x, goal <= 2x: {verdict}"
            if recording:
                peer = min(recording)  # type: ignore[type-var]
                assert peer is not None
                part += f"; {peer / recorded:.0f}x less than a recording peer, goal 50x: "
                part += "met" if peer >= 50 * recorded else "NOT met"
            parts.append(part + ")")
        cached, executed = us("ours-cached", shape), us("ours-recorded", shape)
        if cached is not None and executed is not None:
            verdict = "met" if cached <= executed else "NOT met"
            parts.append(f"cached {cached:.2f} us vs executed {executed:.2f} ({verdict})")
        lines.append(f"- {shape}: " + "; ".join(parts))
    return "\n".join(lines) + "\n"


def machine() -> str:
    """One line describing where the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--frameworks", nargs="+", default=[*OURS, *PEERS], choices=[*OURS, *PEERS])
    parser.add_argument(
        "--budget", type=float, default=180.0, help="seconds allowed per measurement"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="fresh processes per case, frameworks interleaved"
    )
    parser.add_argument(
        "--round-seconds",
        type=float,
        default=20.0,
        help="a case longer than this runs in one round only",
    )
    parser.add_argument("--sleep-nodes", type=int, default=500)
    parser.add_argument("--no-threads", action="store_true", help="skip the threads part")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout (with its .venv) whose django-mlops runs too, by this "
        "bench's worker, interleaved: columns '(before)', a before/after from one run",
    )
    args = parser.parse_args()
    peer_python = ensure_bench_venv()
    started = time.time()
    print(f"machine: {machine()}", flush=True)
    results = overhead(args, peer_python)
    thread_rows = [] if args.no_threads else threads(args, peer_python)
    versions = sorted({f"{label(r.framework)} {r.version}" for r in results if r.version})
    text = (
        f"Machine: {machine()}\n\nVersions: {', '.join(versions)}\n\n"
        + format_tables(results, thread_rows, args)
        + f"\n(total {time.time() - started:.0f} s)\n"
    )
    print()
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
