"""Where pipelines named by module or file on the command line came from.

A pipeline run as ``mlops run my_pipelines.py:iris`` is not in any installed app, so
a later ``mlops retry 3`` or ``mlops reproduce 3`` (which find the pipeline by the
name recorded on the run) would not know where it lives. Each module or file
reference is remembered in ``MLOPS_HOME/pipeline_sources.json`` (name -> reference,
files made absolute) and imported again when that name is asked for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..pipeline import Pipeline

__all__ = ["known_names", "remember", "remembered", "resolve", "resolve_name"]

_FILE_NAME = "pipeline_sources.json"


def _path() -> Path:
    from ..conf import mlops_settings

    return mlops_settings().HOME / _FILE_NAME


def remembered() -> dict[str, str]:
    """Pipeline name -> the reference it was last loaded from (empty when none or unreadable)."""
    try:
        data = json.loads(_path().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


def _absolute(ref: str) -> str:
    target, sep, attr = ref.partition(":")
    if target.endswith(".py"):
        target = str(Path(target).expanduser().resolve())
    return target + sep + attr


def remember(name: str, ref: str) -> None:
    """Record that pipeline ``name`` comes from ``ref`` (a plain name is not recorded)."""
    target, _, attr = ref.partition(":")
    if not attr and not target.endswith(".py"):
        return
    if not attr:
        ref = f"{ref}:{name}"  # a file with one pipeline: pin which one
    sources = remembered()
    ref = _absolute(ref)
    if sources.get(name) == ref:
        return
    sources[name] = ref
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{_FILE_NAME}.{os.getpid()}")
    temporary.write_text(json.dumps(sources, indent=1, sort_keys=True))
    os.replace(temporary, path)  # atomic: a concurrent reader sees the old or the new file


def known_names() -> list[str]:
    """Names of registered pipelines and of remembered ones, sorted."""
    from ..pipeline import all_registered

    return sorted({p.name for p in all_registered()} | set(remembered()))


def resolve_name(name: str) -> Pipeline:
    """The pipeline called ``name``: registered, or imported again from where it was last seen."""
    from ..discovery import load_pipeline
    from ..errors import PipelineNotFound
    from ..pipeline import registered

    pipeline = registered(name)
    if pipeline is not None:
        pipeline.validate()
        return pipeline
    ref = remembered().get(name)
    if ref is not None:
        try:
            return load_pipeline(ref)
        except PipelineNotFound as exc:
            raise PipelineNotFound(f"pipeline '{name}' was last loaded from {ref}: {exc}") from None
    known = ", ".join(known_names()) or "none"
    raise PipelineNotFound(
        f"no pipeline named '{name}' (known: {known}); "
        "name a module or file as MODULE:NAME or path/to/file.py:NAME"
    )


def resolve(ref: str) -> Pipeline:
    """Load ``ref`` (``name``, ``module:name`` or ``file.py[:name]``) and remember its source."""
    from ..discovery import load_pipeline

    target, _, attr = ref.partition(":")
    if not attr and not target.endswith(".py"):
        return resolve_name(ref)
    pipeline = load_pipeline(ref)
    remember(pipeline.name, ref)
    return pipeline
