"""Finding registered models and versions by name, alias or number."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ModelNotFoundError

if TYPE_CHECKING:
    from ..models import ModelVersion, RegisteredModel

__all__ = ["DEFAULT_ALIAS", "get_registered_model", "get_version"]

#: The alias a prediction uses when it names neither an alias nor a version.
DEFAULT_ALIAS = "production"


def get_registered_model(name: str) -> RegisteredModel:
    """The registered model called ``name``, or ModelNotFoundError."""
    from ..models import RegisteredModel

    found = RegisteredModel.objects.filter(name=name).first()
    if found is None:
        raise ModelNotFoundError(f"no registered model named '{name}'")
    return found


def get_version(name: str, *, alias: str | None = None, version: int | None = None) -> ModelVersion:
    """The version of ``name`` that ``version`` or ``alias`` names (the latest if neither).

    Giving both is an error; an alias or number that does not exist is
    ModelNotFoundError, naming what was asked for.
    """
    from ..models import ModelVersion

    if alias is not None and version is not None:
        raise ValueError("name a version or an alias, not both")
    rows = ModelVersion.objects.select_related("model", "artifact").filter(model__name=name)
    if version is not None:
        found = rows.filter(version=version).first()
        what = f"version {version}"
    elif alias is not None:
        found = rows.filter(aliases__name=alias).first()
        what = f"alias '{alias}'"
    else:
        found = rows.order_by("-version").first()
        what = "any version"
    if found is None:
        get_registered_model(name)  # a clearer error when the model itself is unknown
        raise ModelNotFoundError(f"model '{name}' has no {what}")
    return found
