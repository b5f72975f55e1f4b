"""The Run form of a pipeline page, generated from the pipeline's typed params.

Rendering only: the values go, as the text the user typed, through
``enqueue_run(params_from_text=True)``, i.e. ``validate_params``, the one check
the CLI and the API use too; its per-field errors are shown under each field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ParamValidationError
from ..params import ParamText
from ..pipeline import Pipeline

__all__ = ["ParamField", "param_fields", "submitted_params"]


@dataclass(frozen=True, slots=True)
class ParamField:
    """One param as a form field: its widget, current text and error."""

    name: str
    type_name: str
    widget: str  # "checkbox", "select", "number", "textarea" or "text"
    value: str
    checked: bool
    choices: tuple[str, ...]
    required: bool
    help: str
    minimum: float | None
    maximum: float | None
    step: str
    error: str


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _widget(type_name: str, has_choices: bool) -> str:
    if has_choices:
        return "select"
    return {
        "bool": "checkbox",
        "int": "number",
        "float": "number",
        "list": "textarea",
        "dict": "textarea",
    }.get(type_name, "text")


def param_fields(
    pipeline: Pipeline,
    submitted: Mapping[str, str] | None = None,
    errors: ParamValidationError | None = None,
) -> list[ParamField]:
    """The form's fields: defaults, or what was submitted, with any errors."""
    messages = {e.param: e.message for e in (errors.errors if errors else [])}
    fields = []
    for name, spec in pipeline.param_specs.items():
        default = "" if spec.required else _text(spec.default)
        value = submitted.get(name, default) if submitted is not None else default
        widget = _widget(spec.type_name, spec.choices is not None)
        fields.append(
            ParamField(
                name=name,
                type_name=spec.type_name,
                widget=widget,
                value=value,
                checked=value.strip().lower() in ("true", "1", "yes", "on"),
                choices=tuple(_text(c) for c in spec.choices or ()),
                required=spec.required,
                help=spec.help,
                minimum=spec.minimum,
                maximum=spec.maximum,
                step="1" if spec.type_name == "int" else "any",
                error=messages.get(name, ""),
            )
        )
    return fields


def submitted_params(pipeline: Pipeline, data: Mapping[str, Any]) -> dict[str, str]:
    """The form's param values as typed text (``param-<name>`` fields).

    A checkbox sends nothing when unticked, so a bool param is read as ``false``
    unless its box was ticked (the hidden field says the form showed it).
    """
    values: dict[str, str] = {}
    for name, spec in pipeline.param_specs.items():
        field = f"param-{name}"
        if spec.type_name == "bool" and spec.choices is None:
            values[name] = "true" if data.get(field) in ("on", "true") else "false"
        elif field in data:
            text = str(data.get(field, ""))
            if text == "" and not spec.required and spec.type_name != "str":
                continue  # an emptied field: the default
            values[name] = text
    return values


def as_text(values: Mapping[str, str]) -> dict[str, ParamText]:
    """The submitted texts marked as typed text for ``validate_params``."""
    return {k: ParamText(v) for k, v in values.items()}
