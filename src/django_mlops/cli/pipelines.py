"""``list`` and ``show``: what pipelines there are and what one looks like."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from .base import EXIT_OK, CommandFailed, Console, run_id
from .formatting import format_mapping, plural, table

if TYPE_CHECKING:
    from ..pipeline import Node, Pipeline

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``list`` and ``show`` to the subcommand parsers."""
    listing = subparsers.add_parser(
        "list",
        help="List the known pipelines.",
        description="List pipelines: those of installed apps and MLOPS['PIPELINE_MODULES'], "
        "those loaded before by module or file, and any named here.",
    )
    listing.add_argument(
        "refs",
        nargs="*",
        metavar="MODULE_OR_FILE",
        help="Also import these modules or .py files and list their pipelines.",
    )
    listing.add_argument(
        "--names",
        action="store_true",
        help="Print only the pipeline names, one per line (for scripts).",
    )
    listing.set_defaults(handler=list_pipelines)

    show = subparsers.add_parser(
        "show",
        help="Describe a pipeline; draw it as SVG or PNG.",
        description="Print a pipeline's params and nodes in run order, "
        "and optionally write its picture.",
    )
    show.add_argument("pipeline", metavar="PIPELINE", help="NAME, MODULE:NAME or FILE.py[:NAME].")
    show.add_argument("--svg", type=Path, metavar="FILE", help="Write the picture as SVG here.")
    show.add_argument(
        "--png", type=Path, metavar="FILE", help="Write the picture as PNG here (needs cairosvg)."
    )
    show.add_argument(
        "--datasets", action="store_true", help="Draw datasets as nodes of their own."
    )
    show.add_argument(
        "--direction",
        choices=("LR", "TB"),
        default="LR",
        help="Flow left to right (default) or top to bottom.",
    )
    show.add_argument(
        "--run",
        type=run_id,
        metavar="RUN",
        help="Colour the picture by this run's task states, with a legend.",
    )
    show.set_defaults(handler=show_pipeline)


def list_pipelines(args: argparse.Namespace, console: Console) -> int:
    """Print one line per pipeline: name, node count, source, description."""
    from ..discovery import import_ref
    from ..pipeline import all_registered
    from .sources import remembered, resolve_name

    for ref in args.refs:
        import_ref(ref)
    problems: list[str] = []
    for name in sorted(remembered()):
        try:
            resolve_name(name)
        except Exception as exc:  # one stale source must not hide the others
            problems.append(f"{name}: cannot load ({exc})")
    pipelines = all_registered()
    if args.names:
        for pipeline in pipelines:
            console.line(pipeline.name)
        return EXIT_OK
    if not pipelines and not problems:
        console.line("No pipelines found. Name a module or file: mlops list my_pipelines.py")
        return EXIT_OK
    rows = [[p.name, str(len(p)), _source(p), p.description or "-"] for p in pipelines]
    for line in table(["PIPELINE", "NODES", "FROM", "DESCRIPTION"], rows):
        console.line(line)
    for problem in problems:
        console.warn(problem)
    return EXIT_OK


def _source(pipeline: Pipeline) -> str:
    from .sources import remembered

    ref = remembered().get(pipeline.name)
    if ref is not None:
        target = ref.partition(":")[0]
        return Path(target).name if target.endswith(".py") else target
    return pipeline.module


def _node_line(node: Node) -> str:
    inputs = ", ".join(node.inputs) or "-"
    outputs = ", ".join(node.outputs) or "-"
    text = f"{node.name}: {inputs} -> {outputs}"
    extras = []
    if node.is_concept:
        extras.append("concept")
    if node.tags:
        extras.append("tags " + ",".join(node.tags))
    if node.retries:
        extras.append(f"retries {node.retries}")
    if node.timeout:
        extras.append(f"timeout {node.timeout:g}s")
    if not node.cache and not node.is_concept:
        extras.append("no cache")
    if extras:
        text += f"  [{'; '.join(extras)}]"
    if node.description:
        text += f"  -- {node.description}"
    return text


def show_pipeline(args: argparse.Namespace, console: Console) -> int:
    """Print the pipeline; with --svg/--png, write its picture."""
    from .sources import resolve

    pipeline = resolve(args.pipeline)
    # A bad --run is the only error: say it before printing anything else.
    states = _run_states(args.run, pipeline) if args.run is not None else None
    nodes = pipeline.nodes
    concepts = sum(1 for n in nodes if n.is_concept)
    console.line(f"{pipeline.name}" + (f": {pipeline.description}" if pipeline.description else ""))
    counts = plural(len(nodes), "node") + (f" ({concepts} concept)" if concepts else "")
    console.line(f"  {counts}, {plural(pipeline.graph.dataset_count, 'dataset')}")
    console.line(f"  params: {format_mapping(pipeline.params)}")
    console.line("")
    for node_id in pipeline.graph.topological_order():
        console.line("  " + _node_line(nodes[node_id]))
    if args.svg is not None or args.png is not None:
        _write_picture(args, pipeline, states, console)
    return EXIT_OK


def _run_states(pk: int, pipeline: Pipeline) -> dict[str, str]:
    """Each task's state in run ``pk``, which must be a run of ``pipeline``."""
    from .runs import load_run

    run = load_run(pk)
    if run.pipeline != pipeline.name:
        raise CommandFailed(f"run {pk} is a run of {run.pipeline!r}, not {pipeline.name!r}")
    return dict(run.task_runs.values_list("node", "state"))


def _write_picture(
    args: argparse.Namespace, pipeline: Pipeline, states: dict[str, str] | None, console: Console
) -> None:
    try:
        from ..picture import pipeline_svg, svg_to_png
    except ImportError as exc:
        raise CommandFailed(f"drawing pipelines is not available: {exc}") from None
    svg = pipeline_svg(
        pipeline, states=states, show_datasets=args.datasets, direction=args.direction
    )
    if args.svg is not None:
        try:
            args.svg.write_text(svg, encoding="utf-8")
        except OSError as exc:
            raise CommandFailed(f"cannot write {args.svg}: {exc.strerror or exc}") from None
        console.line(f"\nwrote {args.svg}")
    if args.png is not None:
        try:
            svg_to_png(svg, args.png)
        except (ImportError, RuntimeError, OSError) as exc:
            raise CommandFailed(f"cannot write {args.png}: {exc}") from None
        console.line(f"wrote {args.png}")
