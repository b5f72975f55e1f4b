"""The admin for every record (read-only history, pages of bounded size) and API tokens.

Records are what runs wrote; editing one by hand would make it lie, so nothing
here can be added or changed, by anyone, superusers included (viewing needs
Django's view permission). Deleting is allowed only where the records stay whole:
a run with all its rows, and an artifact no record uses. A run can have 10,000
tasks, so pages never list a related table in full: they show counts and at most
``PREVIEW_ROWS`` rows, with a link to the changelist filtered to all of them.
"""

from .artifacts import ArtifactAdmin
from .base import PREVIEW_ROWS, RecordAdmin
from .columns import ColumnChoiceAdmin
from .links import ShareLinkAdmin
from .logged import LoggedArtifactAdmin, MetricAdmin, ParamAdmin
from .registry import AliasChangeAdmin, ModelAliasAdmin, ModelVersionAdmin, RegisteredModelAdmin
from .runs import RunAdmin, TaskAttemptAdmin, TaskOutputAdmin, TaskRunAdmin
from .tokens import TokenAdmin

__all__ = [
    "PREVIEW_ROWS",
    "AliasChangeAdmin",
    "ArtifactAdmin",
    "ColumnChoiceAdmin",
    "LoggedArtifactAdmin",
    "MetricAdmin",
    "ModelAliasAdmin",
    "ModelVersionAdmin",
    "ParamAdmin",
    "RecordAdmin",
    "RegisteredModelAdmin",
    "RunAdmin",
    "ShareLinkAdmin",
    "TaskAttemptAdmin",
    "TaskOutputAdmin",
    "TaskRunAdmin",
    "TokenAdmin",
]
