"""Where pipelines named by module or file on the command line came from: the runs say.

A pipeline run as ``mlops run my_pipelines.py:iris`` is not in any installed app.
Every run records its pipeline's source (``Run.source``: ``MODULE:NAME`` or
``/abs/path/file.py:NAME``), so a later ``mlops run iris``, ``mlops list`` or
``mlops retry 3`` finds it again there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..pipeline import Pipeline

__all__ = ["known_names", "remembered", "resolve", "resolve_name"]


def remembered() -> dict[str, str]:
    """Pipeline name -> the source its latest recorded run came from (files and modules)."""
    from ..models import Run

    rows = Run.objects.exclude(source="").order_by("id").values_list("pipeline", "source")
    return dict(rows)  # in id order: the latest source of a name wins


def known_names() -> list[str]:
    """Names of registered pipelines and of remembered ones, sorted."""
    from ..pipeline import all_registered

    return sorted({p.name for p in all_registered()} | set(remembered()))


def resolve_name(name: str) -> Pipeline:
    """The pipeline called ``name``: registered, or imported again from where it last ran."""
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
            raise PipelineNotFound(f"pipeline '{name}' last ran from {ref}: {exc}") from None
    known = ", ".join(known_names()) or "none"
    raise PipelineNotFound(
        f"no pipeline named '{name}' (known: {known}); "
        "name a module or file as MODULE:NAME or path/to/file.py:NAME"
    )


def resolve(ref: str) -> Pipeline:
    """Load ``ref``: a name, ``module:name`` or ``file.py[:name]``."""
    from ..discovery import load_pipeline

    target, _, attr = ref.partition(":")
    if not attr and not target.endswith(".py"):
        return resolve_name(ref)
    return load_pipeline(ref)
