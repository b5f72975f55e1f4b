"""The models page's try-it form: fields from a version's signature, records from the form.

A DataFrame signature becomes one input per column (a number input for numeric
dtypes, a choice for booleans and categories, text otherwise); an array
signature becomes one JSON textarea holding the records. What the user typed
is turned into one record and checked by the registry's own ``validate_inputs``
(through ``serve_prediction``), whose per-field errors are shown beside the
field they name. The curl command for the REST endpoint is built here too.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.http import QueryDict

from ..registry.errors import InputValidationError
from ..registry.examples import example_body

__all__ = [
    "ARRAY_FIELD",
    "TryField",
    "TryForm",
    "blank_form",
    "curl_command",
    "read_try_form",
    "show_errors",
]

_INTEGER = re.compile(r"^[+-]?\d+$")
#: The name of the array signature's one field.
ARRAY_FIELD = "inputs"


@dataclass
class TryField:
    """One input of the form: its column, dtype, widget, typed value and any error."""

    index: int
    name: str
    dtype: str
    widget: str  # "number", "select", "text" or "json"
    value: str = ""
    choices: list[str] = field(default_factory=list)
    step: str = "any"
    errors: list[str] = field(default_factory=list)

    @property
    def input_name(self) -> str:
        """The form field's name: by position, since column names may hold any character."""
        return f"in-{self.index}"


@dataclass
class TryForm:
    """The try-it form of one version: its fields and errors not tied to one field."""

    fields: list[TryField]
    errors: list[str] = field(default_factory=list)
    proba: bool = False


def _kind(dtype: str) -> str:
    try:
        return str(np.dtype(dtype).kind)
    except TypeError:
        return "O"


def _column_field(index: int, column: Mapping[str, Any]) -> TryField:
    dtype = str(column["dtype"])
    kind = _kind(dtype)
    if column.get("categories") is not None:
        choices = [str(c) for c in column["categories"]]
        return TryField(
            index, column["name"], dtype, "select", choices[0] if choices else "", choices
        )
    if kind == "b":
        return TryField(index, column["name"], dtype, "select", "false", ["false", "true"])
    if kind in "iuf":
        return TryField(
            index, column["name"], dtype, "number", "", step="1" if kind in "iu" else "any"
        )
    return TryField(index, column["name"], dtype, "text")


def blank_form(signature: Mapping[str, Any]) -> TryForm:
    """The empty form of ``signature`` (an array's textarea holds an example record)."""
    if signature.get("kind") == "dataframe":
        return TryForm([_column_field(i, c) for i, c in enumerate(signature["columns"])])
    if signature.get("kind") == "array":
        example = json.dumps(example_body(signature)["inputs"])
        shape = ", ".join("n" if n is None else str(n) for n in signature["shape"])
        return TryForm(
            [TryField(0, ARRAY_FIELD, f"{signature['dtype']} [{shape}]", "json", example)]
        )
    return TryForm([], ["This version has no signature, so it cannot be tried here."])


def _typed(text: str, column: Mapping[str, Any]) -> Any:
    """The JSON value a form's text stands for in this column (left as text if it is none)."""
    categories = column.get("categories")
    if categories is not None:
        by_text = {str(c): c for c in categories}
        return by_text.get(text, text)
    kind = _kind(str(column["dtype"]))
    if kind == "b":
        return {"true": True, "false": False}.get(text.lower(), text)
    if kind in "iuf":
        if _INTEGER.match(text):
            return int(text)
        try:
            return float(text)
        except ValueError:
            return text  # the signature check words what is wrong with it
    return text


def read_try_form(signature: Mapping[str, Any], data: QueryDict) -> tuple[TryForm, Any]:
    """The form as submitted, and the records it stands for (None when unreadable)."""
    form = blank_form(signature)
    form.proba = data.get("proba") == "on"
    if signature.get("kind") == "dataframe":
        record: dict[str, Any] = {}
        for entry, column in zip(form.fields, signature["columns"], strict=True):
            entry.value = data.get(entry.input_name, "").strip()
            if entry.value:  # an empty field is left out: the check says "field required"
                record[entry.name] = _typed(entry.value, column)
        return form, [record]
    if signature.get("kind") == "array":
        (entry,) = form.fields
        entry.value = data.get(entry.input_name, "")
        try:
            records = json.loads(entry.value)
        except ValueError as exc:
            entry.errors.append(f"not JSON: {exc}")
            return form, None
        return form, records
    return form, None


def show_errors(form: TryForm, error: InputValidationError) -> None:
    """Put each of the registry's field errors beside the field it names."""
    by_name = {f.name: f for f in form.fields}
    array = len(form.fields) == 1 and form.fields[0].widget == "json"
    for problem in error.errors:
        if problem.body_field == "inputs" and problem.field in by_name and not array:
            by_name[problem.field].errors.append(problem.message)
        elif array and problem.body_field == "inputs":
            where = "" if problem.record is None else f"record {problem.record}"
            if problem.field is not None:
                where += f", position {problem.field}"
            form.fields[0].errors.append(
                f"{where}: {problem.message}" if where else problem.message
            )
        else:
            form.errors.append(problem.message)


def curl_command(url: str, signature: Mapping[str, Any]) -> str:
    """The curl command calling ``url`` (absolute) with an example body; token as ``$TOKEN``."""
    body = json.dumps(example_body(signature), ensure_ascii=False)
    return (
        'curl -X POST -H "Authorization: Bearer $TOKEN" '
        '-H "Content-Type: application/json" \\\n'
        f"  -d {shlex.quote(body)} \\\n"
        f"  {shlex.quote(url)}"
    )
