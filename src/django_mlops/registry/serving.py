"""``serve_prediction``: what both REST endpoints (django-ninja and DRF) do for a predict call.

The endpoints are thin adapters: they authenticate, check the body's shape and
call this one function, which applies the request rules shared by every way in
(the batch cap ``MLOPS["PREDICT_MAX_ROWS"]``, an alias pinned to a version) and
then :func:`~django_mlops.registry.prediction.predict`. Its errors are the
registry's own (``InputValidationError`` → 422, ``ModelNotFoundError`` → 404,
``ModelIntegrityError`` → 409), so both endpoints answer them alike.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from .cache import model_cache
from .errors import FieldError, InputValidationError, ModelNotFoundError
from .prediction import Prediction, predict

__all__ = ["pinned_target", "serve_prediction"]


def _check_batch_size(records: Any) -> None:
    from ..conf import mlops_settings

    limit = mlops_settings().PREDICT_MAX_ROWS
    if isinstance(records, Sized) and len(records) > limit:
        message = (
            f"{len(records)} records exceed the limit of {limit} per request "
            "(MLOPS['PREDICT_MAX_ROWS'])"
        )
        raise InputValidationError([FieldError(None, None, message, "too_long")])


def pinned_target(
    name: str, alias: str | None, version: int | None
) -> tuple[str | None, int | None]:
    """``(alias, version)`` to look up: with both given, the version once the alias names it.

    Raises ModelNotFoundError when the alias names another version now.
    """
    if alias is not None and version is not None:
        _, _, named, _ = model_cache.resolve(name, alias=alias)
        if named != version:
            raise ModelNotFoundError(
                f"alias '{alias}' of model '{name}' names version {named}, not {version}"
            )
        return None, version
    return alias, version


def serve_prediction(
    name: str,
    records: Any,
    *,
    alias: str | None = None,
    version: int | None = None,
    proba: bool = False,
) -> Prediction:
    """Predict ``records`` with model ``name`` as a predict request asks.

    ``alias`` (default ``production``) or ``version`` chooses the version; with
    both, the alias must name that version now (``ModelNotFoundError`` otherwise),
    so a client can pin what it expects while the alias moves. More than
    ``MLOPS["PREDICT_MAX_ROWS"]`` records are refused before any is checked.

    >>> serve_prediction("iris", [{"x": 1.0}], alias="staging")  # doctest: +SKIP
    Prediction(model='iris', version=2, predictions=[0], probabilities=None)
    """
    _check_batch_size(records)
    alias, version = pinned_target(name, alias, version)
    return predict(name, records, alias=alias, version=version, proba=proba)
