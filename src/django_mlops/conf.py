"""The ``MLOPS`` settings dict, merged over documented defaults.

Read settings through :func:`mlops_settings`; the merged result is cached and the
cache is cleared when ``MLOPS`` (or ``BASE_DIR``/``STORAGES``) changes, so
``override_settings(MLOPS={...})`` works in tests. Every key is documented in
``docs/settings.md``.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

__all__ = ["DEFAULTS", "MlopsSettings", "mlops_settings", "reset_settings"]

# Each key's default; ``None`` means "computed at read time" (see _computed).
DEFAULTS: dict[str, Any] = {
    # Where standalone data lives; also the base of the default artifact folder.
    "HOME": None,
    # A STORAGES alias, a dotted Storage class path, or None for HOME/artifacts.
    "ARTIFACT_STORAGE": None,
    # Payloads up to this many bytes are kept in the Artifact row itself.
    "INLINE_ARTIFACT_MAX_BYTES": 64 * 1024,
    "DEFAULT_EXECUTOR": "inline",
    "EXECUTORS": {
        "inline": "django_mlops.executors.inline.InlineExecutor",
        "threads": "django_mlops.executors.threads.ThreadExecutor",
        "processes": "django_mlops.executors.processes.ProcessExecutor",
        "celery": "django_mlops.executors.celery.CeleryExecutor",
    },
    # Workers for threads/processes; None means os.cpu_count().
    "MAX_WORKERS": None,
    # How the processes executor starts workers; None: "fork" on Linux, else "spawn".
    "PROCESS_START_METHOD": None,
    # The runner writes buffered records at most this often.
    "RECORD_FLUSH_SECONDS": 1.0,
    # A process running a run renews the run's heartbeat this often...
    "HEARTBEAT_SECONDS": 5.0,
    # ...and a running run whose heartbeat is older than this has lost its runner.
    "RUN_STALE_SECONDS": 60.0,
    # The runner publishes its running tasks and their new output this often.
    "LIVE_SECONDS": 1.0,
    # How many runs one `mlops worker` executes at once (--concurrency overrides).
    "WORKER_CONCURRENCY": 1,
    # How often an idle worker looks for queued runs; None: 0.1 s, or 5 s on
    # PostgreSQL, where LISTEN/NOTIFY wakes it at once (the poll is a safety net).
    "WORKER_POLL_SECONDS": None,
    # Modules (dotted names or .py paths) imported at startup besides apps' pipelines.py.
    "PIPELINE_MODULES": [],
    # Root of the user's project, for git commit/dirty; None: BASE_DIR or the cwd.
    "PROJECT_ROOT": None,
    # The REST API refuses request bodies larger than this (413), before reading them.
    "API_MAX_BODY_BYTES": 1024 * 1024,
    # Items per page of API lists when the client does not say, and the most it may ask.
    "API_PAGE_SIZE": 50,
    "API_MAX_PAGE_SIZE": 200,
    # How register_model stores models: "joblib", or "skops" where the model's types allow.
    "MODEL_FORMAT": "joblib",
    # Types skops may load beyond its defaults (e.g. "sklearn.tree._tree.Tree"); never
    # taken from an artifact.
    "SKOPS_TRUSTED_TYPES": [],
    # Loaded models each serving process keeps (least recently used dropped first).
    "MODEL_CACHE_SIZE": 8,
    # The most records one prediction request may carry (more: 422, before any is checked).
    "PREDICT_MAX_ROWS": 10_000,
    # All-float inputs reach a model as a pyarrow Table where a probe at load shows it
    # answers a Table as it answers a DataFrame (faster to validate); False: always a DataFrame.
    "PREDICT_ARROW_INPUTS": True,
}


@dataclass(frozen=True, slots=True)
class MlopsSettings:
    """The effective settings: ``MLOPS`` merged over :data:`DEFAULTS`, defaults computed."""

    HOME: Path
    ARTIFACT_STORAGE: str | None
    INLINE_ARTIFACT_MAX_BYTES: int
    DEFAULT_EXECUTOR: str
    EXECUTORS: dict[str, str]
    MAX_WORKERS: int
    PROCESS_START_METHOD: str
    RECORD_FLUSH_SECONDS: float
    HEARTBEAT_SECONDS: float
    RUN_STALE_SECONDS: float
    LIVE_SECONDS: float
    WORKER_CONCURRENCY: int
    WORKER_POLL_SECONDS: float | None
    PIPELINE_MODULES: list[str]
    PROJECT_ROOT: Path
    API_MAX_BODY_BYTES: int
    API_PAGE_SIZE: int
    API_MAX_PAGE_SIZE: int
    MODEL_FORMAT: str
    SKOPS_TRUSTED_TYPES: list[str]
    MODEL_CACHE_SIZE: int
    PREDICT_MAX_ROWS: int
    PREDICT_ARROW_INPUTS: bool
    unknown_keys: tuple[str, ...] = field(default=())

    @property
    def artifacts_dir(self) -> Path:
        """The folder of the default artifact storage (``HOME/artifacts``)."""
        return self.HOME / "artifacts"


def default_home() -> Path:
    """``$MLOPS_HOME`` or ``./.mlops``, absolute."""
    return Path(os.environ.get("MLOPS_HOME") or ".mlops").expanduser().resolve()


def _computed(user: dict[str, Any]) -> dict[str, Any]:
    merged = {**DEFAULTS, **{k: v for k, v in user.items() if k in DEFAULTS}}
    merged["EXECUTORS"] = {**DEFAULTS["EXECUTORS"], **(user.get("EXECUTORS") or {})}
    merged["HOME"] = (
        Path(merged["HOME"]).expanduser().resolve() if merged["HOME"] else default_home()
    )
    if merged["PROJECT_ROOT"] is None:
        merged["PROJECT_ROOT"] = getattr(settings, "BASE_DIR", None) or Path.cwd()
    merged["PROJECT_ROOT"] = Path(merged["PROJECT_ROOT"])
    if merged["MAX_WORKERS"] is None:
        merged["MAX_WORKERS"] = os.cpu_count() or 1
    if merged["PROCESS_START_METHOD"] is None:
        merged["PROCESS_START_METHOD"] = "fork" if sys.platform.startswith("linux") else "spawn"
    merged["PIPELINE_MODULES"] = [str(m) for m in merged["PIPELINE_MODULES"]]
    merged["SKOPS_TRUSTED_TYPES"] = [str(t) for t in merged["SKOPS_TRUSTED_TYPES"]]
    return merged


@functools.cache
def mlops_settings() -> MlopsSettings:
    """The effective django-mlops settings (cached until a relevant setting changes).

    >>> mlops_settings().DEFAULT_EXECUTOR
    'inline'
    """
    user = getattr(settings, "MLOPS", None) or {}
    if not isinstance(user, dict):
        # checks.py reports this (E001); keep the app usable with the defaults meanwhile.
        user = {}
    unknown = tuple(sorted(k for k in user if k not in DEFAULTS))
    try:
        merged = _computed(user)
    except (TypeError, ValueError):
        # A value of the wrong type (HOME=3): checks.py reports it with its id;
        # meanwhile startup goes on with the defaults instead of crashing in ready().
        merged = _computed({})
    return MlopsSettings(**merged, unknown_keys=unknown)


def reset_settings() -> None:
    """Forget the cached settings (and the artifact storage built from them)."""
    mlops_settings.cache_clear()
    from .artifacts.store import reset_storage

    reset_storage()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in {"MLOPS", "BASE_DIR", "STORAGES", "MEDIA_ROOT"}:
        reset_settings()
