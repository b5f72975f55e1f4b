"""``models``: the registry from the command line (list, promote, export, import, reproduce)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .base import EXIT_FAILED, EXIT_OK, CommandFailed, Console
from .formatting import format_time, table

__all__ = ["register"]


def _version(text: str) -> int:
    try:
        value = int(text.lstrip("v"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a version is a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"a version is positive, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``models`` and its subcommands to the subcommand parsers."""
    models = subparsers.add_parser(
        "models",
        help="Registered models: list, promote, export, import, reproduce.",
        description="The model registry: versions registered by runs (register_model), "
        "aliases such as 'production', and moving versions between installations.",
    )
    commands = models.add_subparsers(title="models commands", dest="models_command")
    commands.required = True

    listing = commands.add_parser(
        "list",
        help="Registered models, or one model's versions.",
        description="Without NAME: every model with its latest version and aliases. With NAME: "
        "its versions, newest first, with metrics, run and aliases.",
    )
    listing.add_argument("name", nargs="?", metavar="NAME", help="One model's versions.")
    listing.set_defaults(handler=list_models)

    promote = commands.add_parser(
        "promote",
        help="Point an alias (e.g. production) at a version.",
        description="Point ALIAS of model NAME at a version; the move is kept in the alias's "
        "audit trail with the comment.",
    )
    promote.add_argument("name", metavar="NAME", help="The model.")
    promote.add_argument("alias", metavar="ALIAS", help="The alias, e.g. production.")
    promote.add_argument(
        "--version", type=_version, required=True, metavar="V", help="The version."
    )
    promote.add_argument("--comment", default="", help="Why (kept in the audit trail).")
    promote.set_defaults(handler=promote_model)

    export = commands.add_parser(
        "export",
        help="Write a version to a self-contained folder.",
        description="Write the artifact, signature, pinned requirements and a Markdown model "
        "card to DIR (new or empty), for `models import` elsewhere.",
    )
    export.add_argument("name", metavar="NAME", help="The model.")
    export.add_argument("--version", type=_version, required=True, metavar="V", help="The version.")
    export.add_argument("folder", metavar="DIR", help="The folder to write (new or empty).")
    export.set_defaults(handler=export_model)

    load = commands.add_parser(
        "import",
        help="Register an exported folder here.",
        description="Register the model exported to DIR as the next version of its model "
        "(or of --name), after checking its SHA-256.",
    )
    load.add_argument("folder", metavar="DIR", help="A folder written by `models export`.")
    load.add_argument("--name", help="Register under this model name instead.")
    load.set_defaults(handler=import_model)

    rebuild = commands.add_parser(
        "reproduce",
        help="Re-run the run that made a version; compare the model's bytes.",
        description="Re-run the run that produced a version with its params (caching off) "
        "and report whether the new model artifact is byte-identical, or what differs. "
        "Exit code: 0 identical, 1 different.",
    )
    rebuild.add_argument("name", metavar="NAME", help="The model.")
    rebuild.add_argument(
        "--version", type=_version, required=True, metavar="V", help="The version."
    )
    rebuild.add_argument("-e", "--executor", metavar="NAME", help="Executor (default: the run's).")
    rebuild.set_defaults(handler=reproduce_model)


def _registry_errors() -> tuple[type[BaseException], ...]:
    from ..registry.errors import RegistryError

    return (RegistryError, ValueError, PermissionError)


def list_models(args: argparse.Namespace, console: Console) -> int:
    """Print the models, or one model's versions."""
    from ..models import ModelAlias, ModelVersion, RegisteredModel

    aliases: dict[int, list[str]] = {}
    for version_id, alias in ModelAlias.objects.values_list("version_id", "name"):
        aliases.setdefault(version_id, []).append(alias)
    if args.name is None:
        rows = []
        for registered in RegisteredModel.objects.all():
            latest = registered.versions.order_by("-version").first()
            named = ModelAlias.objects.filter(model=registered).select_related("version")
            rows.append(
                [
                    registered.name,
                    str(latest.version if latest else "-"),
                    ", ".join(f"{a.name}=v{a.version.version}" for a in named) or "-",
                    format_time(registered.updated_at),
                ]
            )
        if not rows:
            console.line("No registered models. Register one with register_model() in a node.")
            return EXIT_OK
        for line in table(["MODEL", "LATEST", "ALIASES", "UPDATED"], rows):
            console.line(line)
        return EXIT_OK
    versions = ModelVersion.objects.filter(model__name=args.name).select_related("run")
    if not versions.exists():
        raise CommandFailed(f"no registered model named '{args.name}'")
    rows = [
        [
            f"v{v.version}",
            format_time(v.created_at),
            v.format,
            v.sha256[:12],
            f"#{v.run_id} {v.node}" if v.run_id else "imported" if v.source else "-",
            ", ".join(f"{k}={val:.4g}" for k, val in sorted(v.metrics.items())) or "-",
            ", ".join(sorted(aliases.get(v.pk, []))) or "-",
        ]
        for v in versions.order_by("-version")
    ]
    header = ["VERSION", "REGISTERED", "FORMAT", "SHA-256", "RUN", "METRICS", "ALIASES"]
    for line in table(header, rows):
        console.line(line)
    return EXIT_OK


def promote_model(args: argparse.Namespace, console: Console) -> int:
    """Move the alias; print the move."""
    from ..registry.aliases import set_alias
    from ..registry.lookups import get_version

    try:
        previous = get_version(args.name, alias=args.alias).version
    except _registry_errors():
        previous = None
    try:
        set_alias(args.name, args.alias, args.version, comment=args.comment)
    except _registry_errors() as exc:
        raise CommandFailed(str(exc)) from None
    if previous == args.version:
        console.line(f"{args.name}@{args.alias} already points at v{args.version}.")
    else:
        was = f" (was v{previous})" if previous is not None else ""
        console.line(f"{args.name}@{args.alias} -> v{args.version}{was}.")
    return EXIT_OK


def export_model(args: argparse.Namespace, console: Console) -> int:
    """Write the folder; list what is in it."""
    from ..registry.exchange import export_version

    try:
        folder = export_version(args.name, args.version, Path(args.folder))
    except _registry_errors() as exc:
        raise CommandFailed(str(exc)) from None
    console.line(f"Exported {args.name} v{args.version} to {folder}:")
    for path in sorted(folder.iterdir()):
        console.line(f"  {path.name}")
    return EXIT_OK


def import_model(args: argparse.Namespace, console: Console) -> int:
    """Register the folder's model; print the new version."""
    from ..registry.exchange import import_version

    try:
        version = import_version(Path(args.folder), name=args.name)
    except _registry_errors() as exc:
        raise CommandFailed(str(exc)) from None
    console.line(
        f"Imported {args.folder} as {version.model.name} v{version.version} "
        f"(SHA-256 {version.sha256[:12]}, checked)."
    )
    return EXIT_OK


def reproduce_model(args: argparse.Namespace, console: Console) -> int:
    """Rebuild; print whether the model came out identical, and what differs."""
    from ..registry.rebuild import reproduce_version
    from .run import check_executor

    check_executor(args.executor)
    try:
        result = reproduce_version(args.name, args.version, executor=args.executor)
    except _registry_errors() as exc:
        raise CommandFailed(str(exc)) from None
    run = result.report.run
    console.line(
        f"Run {run.pk} reproduces run {result.original.run_id} ({run.status}), which "
        f"registered {args.name} v{args.version}."
    )
    if result.rebuilt is not None:
        console.line(f"  rebuilt as v{result.rebuilt.version}")
    if result.identical:
        console.line(f"  model artifact: identical, byte for byte ({result.original.sha256[:12]})")
    differences = result.differences()
    if differences:
        console.line("  differences:")
        for line in differences:
            console.line(f"    {line}")
    else:
        console.line("  nothing differs: same code, packages and inputs")
    return EXIT_OK if result.identical else EXIT_FAILED
