"""Export a version to a self-contained folder, and import such a folder elsewhere.

The folder holds the artifact bytes (``model.joblib`` or ``model.skops``),
``model.json`` (everything the registry knows: signature, libraries, metrics,
params, lineage), ``signature.json``, ``requirements.txt`` pinned to the training
versions and a Markdown model card (``README.md``). Importing verifies the
artifact against the SHA-256 in ``model.json`` and registers it as the next
version of the model in this installation, with the same hash.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import router, transaction
from django.utils import timezone

from ..artifacts.serializers import EXTENSIONS, Serialized
from .card import model_card
from .errors import ModelIntegrityError, RegistryError
from .loading import verified_bytes
from .lookups import get_version
from .register import ModelRegistration, check_model_name, create_versions

if TYPE_CHECKING:
    from ..models import ModelVersion

__all__ = ["EXPORT_FORMAT", "export_version", "import_version"]

#: The version of the folder layout, written to and checked in ``model.json``.
EXPORT_FORMAT = 1
_FORMATS = ("joblib", "skops")
_NOT_PINNED = {"python"}


def _lineage(version: ModelVersion) -> dict[str, Any]:
    run, task = version.run, version.task
    if run is None:
        return {"run": None, **(version.source.get("lineage") or {})}
    data_keys: dict[str, str] = {}
    if task is not None:
        data_keys.update({f"input {d}": k for d, k in (task.input_keys or {}).items()})
    for reads in run.task_runs.exclude(reads={}).values_list("reads", flat=True):
        data_keys.update({f"file {p}": sha for p, sha in (reads or {}).items()})
    return {
        "run": run.pk,
        "pipeline": run.pipeline,
        "source": run.source,
        "node": version.node,
        "git_commit": run.git_commit,
        "git_dirty": run.git_dirty,
        "code_hash": task.code_hash if task is not None else "",
        "key": task.key if task is not None else "",
        "data_keys": data_keys,
    }


def export_version(name: str, version: int, folder: str | Path) -> Path:
    """Write version ``version`` of ``name`` to ``folder`` (new or empty); returns the folder."""
    row = get_version(name, version=version)
    target = Path(folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise RegistryError(f"{target} exists and is not an empty folder: nothing exported")
    data = verified_bytes(row)  # never export bytes that do not match the record
    artifact = f"model.{EXTENSIONS[row.format]}"
    meta = {
        "export_format": EXPORT_FORMAT,
        "name": row.model.name,
        "version": row.version,
        "description": row.description or row.model.description,
        "type_name": row.type_name,
        "format": row.format,
        "artifact": artifact,
        "sha256": row.sha256,
        "signature": row.signature,
        "libraries": row.libraries,
        "metrics": row.metrics,
        "params": dict(row.run.params) if row.run is not None else {},
        "lineage": _lineage(row),
        "created_at": row.created_at.isoformat(),
        "exported_at": timezone.now().isoformat(),
    }
    target.mkdir(parents=True, exist_ok=True)
    (target / artifact).write_bytes(data)
    (target / "model.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    (target / "signature.json").write_text(json.dumps(row.signature, indent=2) + "\n")
    pins = [f"{lib}=={v}" for lib, v in sorted(row.libraries.items()) if lib not in _NOT_PINNED]
    (target / "requirements.txt").write_text("\n".join(pins) + "\n")
    (target / "README.md").write_text(model_card(meta))
    return target


def _read_meta(folder: Path) -> dict[str, Any]:
    path = folder / "model.json"
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise RegistryError(f"{folder} is not an exported model: no model.json") from None
    except (OSError, ValueError) as exc:
        raise RegistryError(f"{path} cannot be read: {exc}") from None
    if not isinstance(meta, dict) or meta.get("export_format") != EXPORT_FORMAT:
        raise RegistryError(f"{path} is not a model export of format {EXPORT_FORMAT}")
    wanted = {"name": str, "sha256": str, "format": str, "signature": dict, "libraries": dict}
    for key, kind in wanted.items():
        if not isinstance(meta.get(key), kind):
            raise RegistryError(f"{path}: '{key}' is missing or not a {kind.__name__}")
    if meta["format"] not in _FORMATS:
        raise RegistryError(f"{path}: unknown model format {meta['format']!r}")
    return meta


def import_version(folder: str | Path, name: str | None = None) -> ModelVersion:
    """Register the exported model in ``folder`` as the next version of ``name`` (or its own)."""
    from ..artifacts.store import ArtifactStore
    from ..models import ModelVersion

    source = Path(folder)
    meta = _read_meta(source)
    # The artifact's file name is ours, from the format: nothing in model.json is a path.
    path = source / f"model.{EXTENSIONS[meta['format']]}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RegistryError(f"cannot read the model file {path}: {exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != meta["sha256"]:
        raise ModelIntegrityError(
            f"the model file {path} does not match the SHA-256 in model.json "
            f"({digest} instead of {meta['sha256']}): refused"
        )
    target = check_model_name(name or meta["name"])
    metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
    registration = ModelRegistration(
        name=target,
        artifact=Serialized(data, meta["format"], str(meta.get("type_name", "")), digest, {}),
        signature=meta["signature"],
        libraries={str(k): str(v) for k, v in meta["libraries"].items()},
        metrics={str(k): float(v) for k, v in (metrics or {}).items()},
        description=str(meta.get("description") or ""),
    )
    using = router.db_for_write(ModelVersion) or "default"
    artifact = ArtifactStore().save_many([registration.artifact], using=using)[0]
    origin = {
        "imported_from": str(source.resolve()),
        "original_name": meta["name"],
        "original_version": meta.get("version"),
        "params": meta.get("params") or {},
        "lineage": meta.get("lineage") or {},
        "imported_at": timezone.now().isoformat(),
    }
    with transaction.atomic(using=using):
        return create_versions(using, None, [(None, "", registration, artifact.pk)], origin)[0]
