"""The records: runs, their tasks (with outputs and failed attempts), artifacts, params, metrics.

The schema follows docs/architecture.md ("Records") and is shaped for reading:
date-times are ``DateTimeField``s, outputs are rows that reference their
``Artifact``. Rows the runner writes in bulk (``records.sql``) take their
timestamps from ``default=`` rather than ``auto_now_add``, because bulk writers
fill missing columns from field defaults.

Each concern has its own module; this package gathers them so that Django finds
every model and ``from django_mlops.models import Run`` keeps working. The
registry's models live with the registry and the API token with ``tokens``.
"""

from __future__ import annotations

from ..registry.records import AliasChange, ModelAlias, ModelVersion, RegisteredModel
from ..tokens import Token
from .artifacts import Artifact, LoggedArtifact, Serializer
from .columns import ColumnChoice
from .fields import RecordJSONField
from .links import ShareLink
from .live import LiveTask
from .runs import Run, RunStatus, TaskState
from .tasks import TaskAttempt, TaskOutput, TaskQuerySet, TaskRun
from .tracking import Metric, Param

__all__ = [
    "AliasChange",
    "Artifact",
    "ColumnChoice",
    "LiveTask",
    "LoggedArtifact",
    "Metric",
    "ModelAlias",
    "ModelVersion",
    "Param",
    "RecordJSONField",
    "RegisteredModel",
    "Run",
    "RunStatus",
    "Serializer",
    "ShareLink",
    "TaskAttempt",
    "TaskOutput",
    "TaskQuerySet",
    "TaskRun",
    "TaskState",
    "Token",
]
