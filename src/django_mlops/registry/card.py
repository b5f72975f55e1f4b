"""The Markdown model card of an exported version: what it is, how good, where it came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["model_card"]


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: tuple[str, str], rows: Mapping[str, Any]) -> list[str]:
    if not rows:
        return ["(none)"]
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in rows.items()]
    return lines


def model_card(meta: Mapping[str, Any]) -> str:
    """The card of the metadata ``export_version`` writes to ``model.json``."""
    lineage: Mapping[str, Any] = meta.get("lineage") or {}
    signature: Mapping[str, Any] = meta.get("signature") or {}
    lines = [f"# {meta['name']} — version {meta['version']}", ""]
    if meta.get("description"):
        lines += [str(meta["description"]), ""]
    lines += [
        f"- Model class: `{meta.get('type_name', '')}`",
        f"- Stored as: {meta['format']} (`{meta['artifact']}`), SHA-256 `{meta['sha256']}`",
        f"- Registered: {meta.get('created_at', '')}",
        "",
        "## Metrics",
        "",
        *_table(("metric", "value"), meta.get("metrics") or {}),
        "",
        "## Inputs",
        "",
    ]
    if signature.get("kind") == "dataframe":
        lines += ["| column | dtype | nulls allowed |", "|---|---|---|"]
        lines += [
            f"| {_cell(c['name'])} | {c['dtype']} | {'yes' if c.get('nullable') else 'no'} |"
            for c in signature["columns"]
        ]
    elif signature.get("kind") == "array":
        shape = ", ".join("rows" if n is None else str(n) for n in signature["shape"])
        lines.append(f"An array of shape ({shape}), dtype {signature['dtype']}.")
    else:
        lines.append("No signature was registered (no sample_input).")
    lines += ["", "## Lineage", ""]
    if lineage.get("run") is None:
        lines.append("Not registered by a recorded run.")
    else:
        lines += [
            f"- Run {lineage['run']} of pipeline `{lineage.get('pipeline', '')}` "
            f"(`{lineage.get('source', '')}`), node `{lineage.get('node', '')}`",
            f"- Git commit `{lineage.get('git_commit') or 'unknown'}`"
            + (" (uncommitted changes)" if lineage.get("git_dirty") else ""),
            f"- Node code hash `{lineage.get('code_hash', '')}`, key `{lineage.get('key', '')}`",
        ]
    lines += ["", "### Params", "", *_table(("param", "value"), meta.get("params") or {})]
    lines += ["", "### Data keys", ""]
    lines += _table(("input or file", "key / SHA-256"), lineage.get("data_keys") or {})
    lines += ["", "## Trained with", ""]
    lines += _table(("library", "version"), meta.get("libraries") or {})
    lines += [
        "",
        "Install the same versions with `pip install -r requirements.txt`; load it into another "
        "installation with `mlops models import DIR`.",
        "",
    ]
    return "\n".join(lines)
