"""Registered models as the API shows them, and what a client sends to promote or predict."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, field_validator

from .common import PageOut, storable_text

__all__ = [
    "AliasChangeOut",
    "AliasIn",
    "AliasMoved",
    "AliasName",
    "AliasOut",
    "ModelDetail",
    "ModelPage",
    "ModelSummary",
    "PredictIn",
    "PredictOut",
    "PredictTarget",
    "VersionNumber",
    "VersionOut",
    "VersionPage",
]

_COMMENT_MAX = 10_000


def _alias_name(value: str) -> str:
    from ...registry.aliases import check_alias_name

    return check_alias_name(value)


#: An alias name, as ``set_alias`` accepts it (letters first, then letters, digits, _ or -).
AliasName = Annotated[
    str,
    Field(min_length=1, max_length=100, pattern=r"^[A-Za-z][A-Za-z0-9_-]*$"),
    AfterValidator(_alias_name),
]
VersionNumber = Annotated[int, Field(ge=1, le=2**31 - 1, description="A version number.")]


class AliasOut(Schema):
    """Where an alias points now."""

    name: str
    version: int
    updated_at: dt.datetime
    updated_by: str | None = Field(description="Username of who moved it last (null: the CLI).")


class VersionOut(Schema):
    """One version: what it is, how to verify it, what it expects and where it came from."""

    version: int
    sha256: str = Field(description="SHA-256 of the artifact; checked on every load.")
    format: str
    type_name: str = Field(description="The model's class.")
    signature: dict[str, Any] = Field(description="The inputs it expects.")
    libraries: dict[str, str] = Field(description="Library versions it was trained with.")
    metrics: dict[str, Any]
    description: str
    run: int | None = Field(description="Id of the run that registered it (lineage).")
    node: str = Field(description="The node of that run that registered it.")
    created_at: dt.datetime
    aliases: list[str] = Field(description="Aliases pointing at this version.")


class VersionPage(PageOut):
    """A page of a model's versions, newest first."""

    items: list[VersionOut]


class ModelSummary(Schema):
    """A registered model as lists show it."""

    name: str
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime = Field(description="When its last version was registered.")
    version_count: int
    latest_version: int | None
    aliases: dict[str, int] = Field(description="Alias name → version number.")


class ModelPage(PageOut):
    """A page of registered models, by name."""

    items: list[ModelSummary]


class ModelDetail(ModelSummary):
    """One registered model: its aliases and a summary of every version."""

    alias_details: list[AliasOut]
    versions: list[dict[str, Any]] = Field(
        description="Newest first: version, sha256, created_at, run, node, metrics."
    )


class AliasIn(Schema):
    """Which version the alias should point at, and why."""

    model_config = ConfigDict(extra="forbid")

    version: VersionNumber
    # The pattern tells clients (and schemathesis) that NUL is refused, as storable_text does.
    comment: str = Field(
        "", max_length=_COMMENT_MAX, pattern=r"^[^\x00]*$", description="Kept in the audit trail."
    )

    @field_validator("comment")
    @classmethod
    def _storable(cls, value: str) -> str:
        return str(storable_text(value, "comment"))


class AliasChangeOut(Schema):
    """One row of the alias audit trail."""

    id: int
    alias: str
    from_version: int | None
    to_version: int | None
    user: str | None
    comment: str
    changed_at: dt.datetime


class AliasMoved(Schema):
    """The alias after a promote, and the audit row that records how it got there."""

    model: str
    alias: AliasOut
    changed: bool = Field(description="False when it already pointed at that version.")
    change: AliasChangeOut | None = Field(description="The latest audit row of this alias.")


class PredictTarget(Schema):
    """Which version answers: ``alias`` (default ``production``) or ``version``.

    With both, the version must be the one the alias names now (else 404): a
    client can pin what it expects while the alias moves.
    """

    alias: AliasName | None = Field(None, description="Default: production.")
    version: VersionNumber | None = None


class PredictIn(Schema):
    """A batch of records, each ``{field: value}`` as the version's signature says."""

    model_config = ConfigDict(extra="forbid")

    # The cap (MLOPS["PREDICT_MAX_ROWS"]) is a setting, so it is checked by the view.
    inputs: list[Any] = Field(description="Records, checked against the signature.")
    proba: bool = Field(False, description="Add class probabilities (classifiers).")


class PredictOut(Schema):
    """Which version answered, and its predictions (one per record)."""

    model: str
    version: int
    predictions: list[Any]
    probabilities: list[dict[str, float]] | None = Field(
        None, description="With proba: {class: probability} per record."
    )
