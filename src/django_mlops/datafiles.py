"""The files nodes declare they read (``reads=``): which files, and their content hashes.

A node declares ``reads=["data/raw.csv", "images/", "raw/*.parquet"]``: paths
relative to the pipeline's file (or absolute), folders meaning every file under
them, glob patterns (``**`` included). Their SHA-256 digests become part of the
node's cache key, so a changed data file re-runs the node and its descendants.

Hashing a large data folder on every run would cost more than many runs, so a
file is hashed again only when its size, ``mtime_ns`` or ``ctime_ns`` changed
(``ctime`` also catches tools that restore an old mtime: ``cp -p``, ``rsync -t``).
The digests are remembered in a JSON file in ``MLOPS["HOME"]``
(:data:`CACHE_NAME`), not in a table: a file's size and times only mean
something on the machine that read them, so the memory is per machine, like the
files; it is written outside any run's transaction and works for a database
several hosts share. Losing it costs one re-hash, never a wrong answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from .errors import ReadFileError
from .pipeline import Node, Pipeline

__all__ = [
    "CACHE_NAME",
    "FileHashes",
    "key_input",
    "read_fingerprints",
    "resolve_reads",
    "with_reads",
]

logger = logging.getLogger(__name__)

#: The file in ``MLOPS["HOME"]`` that remembers digests by path, size and times.
CACHE_NAME = "file-hashes.json"
# A file changed within one timestamp tick before it was hashed may change again
# without its times moving, so its digest is not remembered ("racy" entries, as
# git calls them): it is hashed next time too. Times in whole seconds betray a
# coarse file system (FAT: 2 s); others tick in milliseconds at most.
_RACY_COARSE_NS = 2_000_000_000
_RACY_FINE_NS = 100_000_000
_GLOB_CHARS = frozenset("*?[")
# Saving and loading in one process go one at a time; processes write whole files.
_save_lock = threading.Lock()


def _shown(absolute: str, root: str, relative: bool) -> str:
    """The path as records and messages show it: relative to the root when declared so."""
    if relative:
        shown = os.path.relpath(absolute, root)
        if not shown.startswith(".."):
            return Path(shown).as_posix()
    return Path(absolute).as_posix()


def _files_under(folder: str) -> Iterator[str]:
    for parent, dirs, files in os.walk(folder):
        dirs.sort()  # os.walk visits the sorted list: a stable order for every run
        for name in sorted(files):
            yield os.path.join(parent, name)


def resolve_reads(node: Node) -> list[tuple[str, str]]:
    """``(shown path, absolute path)`` of every file ``node.reads`` names, sorted, no repeats.

    A path that does not exist, or a pattern that matches nothing, raises
    :class:`ReadFileError` naming the node and the path.
    """
    import glob

    found: dict[str, str] = {}
    for pattern in node.reads:
        expanded = os.path.expanduser(pattern)
        relative = not os.path.isabs(expanded)
        absolute = os.path.normpath(os.path.join(node.reads_root, expanded))
        if _GLOB_CHARS.intersection(pattern):
            matches = sorted(glob.glob(absolute, recursive=True))
            if not matches:
                raise ReadFileError(
                    f"node '{node.name}' reads '{pattern}', but no file matches it "
                    f"(looked in {node.reads_root if relative else os.path.dirname(absolute)})"
                )
        elif os.path.exists(absolute):
            matches = [absolute]
        else:
            raise ReadFileError(
                f"node '{node.name}' reads '{pattern}', but there is no such file or folder "
                f"({absolute})"
            )
        for match in matches:
            for path in _files_under(match) if os.path.isdir(match) else (match,):
                found.setdefault(_shown(path, node.reads_root, relative), path)
    return sorted(found.items())


def _sha256_of(path: str) -> str:
    with open(path, "rb") as stream:
        # Streamed in large blocks (the GIL is released while each block hashes).
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _racy(stat: os.stat_result, now_ns: int) -> bool:
    """Whether the file changed too recently for its times to tell a later change."""
    changed = max(stat.st_mtime_ns, stat.st_ctime_ns)
    coarse = stat.st_mtime_ns % 1_000_000_000 == 0 and stat.st_ctime_ns % 1_000_000_000 == 0
    return now_ns - changed <= (_RACY_COARSE_NS if coarse else _RACY_FINE_NS)


class FileHashes:
    """SHA-256 digests of files, remembered by (size, mtime_ns, ctime_ns) in a JSON file.

    Example::

        hashes = FileHashes(Path(".mlops/file-hashes.json"))
        digest = hashes.digest("/data/raw.csv")  # hashed once, then from memory
        hashes.save()

    ``store=None`` remembers nothing between instances.
    """

    def __init__(self, store: Path | None) -> None:
        self.store = store
        self._entries: dict[str, list[int | str]] = self._load() if store is not None else {}
        self._added: dict[str, list[int | str]] = {}

    def _load(self) -> dict[str, list[int | str]]:
        assert self.store is not None
        try:
            data = json.loads(self.store.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:  # unreadable or half-written: start afresh
            logger.debug("ignoring the file hash cache %s: %s", self.store, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def digest(self, path: str, node: str = "?") -> str:
        """The SHA-256 hex digest of the file at ``path`` (absolute)."""
        try:
            stat = os.stat(path)
            signature: list[int | str] = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
            known = self._entries.get(path)
            if isinstance(known, list) and len(known) == 4 and known[:3] == signature:
                return str(known[3])
            digest = _sha256_of(path)
        except OSError as exc:  # gone since it was listed, or not readable
            raise ReadFileError(
                f"node '{node}' reads {path}, which cannot be read ({exc.strerror or exc})"
            ) from None
        if not _racy(stat, time.time_ns()):
            entry: list[int | str] = [*signature, digest]
            self._entries[path] = self._added[path] = entry
        return digest

    def save(self) -> None:
        """Write the digests learnt since loading, merged with what other processes wrote.

        Entries of files that no longer exist are dropped. A HOME that cannot be
        written to only means files are hashed again next time.
        """
        if self.store is None or not self._added:
            return
        with _save_lock:
            merged = {**self._load(), **self._added}
            kept = {path: entry for path, entry in merged.items() if os.path.exists(path)}
            temporary = self.store.with_name(f".{self.store.name}.{os.getpid()}.tmp")
            try:
                self.store.parent.mkdir(parents=True, exist_ok=True)
                temporary.write_text(json.dumps(kept, separators=(",", ":")), encoding="utf-8")
                os.replace(temporary, self.store)  # readers see the old file or the new one
            except OSError as exc:
                logger.debug("cannot write the file hash cache %s: %s", self.store, exc)
                with contextlib.suppress(OSError):
                    temporary.unlink()
        self._added = {}


def _cache_file() -> Path:
    from django.conf import settings

    if settings.configured:
        from .conf import mlops_settings

        return mlops_settings().HOME / CACHE_NAME
    from .conf import default_home

    return default_home() / CACHE_NAME


def read_fingerprints(pipeline: Pipeline, *, hash_files: bool = True) -> dict[int, dict[str, str]]:
    """``{node id: {shown path: sha256}}`` for the nodes of ``pipeline`` that declare reads.

    With ``hash_files=False`` the files are only checked to exist (digests are "").
    Raises :class:`ReadFileError` for a missing or unreadable file.
    """
    reading = pipeline.columns.reading
    if not reading:
        return {}
    nodes = pipeline.nodes
    if not hash_files:
        return {i: dict.fromkeys((s for s, _ in resolve_reads(nodes[i])), "") for i in reading}
    hashes = FileHashes(_cache_file())
    try:
        return {
            i: {
                shown: hashes.digest(path, nodes[i].name) for shown, path in resolve_reads(nodes[i])
            }
            for i in reading
        }
    finally:
        hashes.save()


def key_input(code_hash: str, files: Mapping[str, str]) -> str:
    """What the engine fingerprints for a node that reads files: its code hash and their digests.

    Paths count as well as contents: a node pointed at another file with the same
    bytes reads something else.
    """
    text = code_hash + "".join(f"\n{path}\0{digest}" for path, digest in sorted(files.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def with_reads(code_hashes: list[str], reads: Mapping[int, Mapping[str, str]]) -> list[str]:
    """``code_hashes`` with each file-reading node's entry replaced by its :func:`key_input`.

    The same list when no node reads files; a new one otherwise.
    """
    if not reads:
        return code_hashes
    combined = list(code_hashes)
    for node_id, files in reads.items():
        combined[node_id] = key_input(code_hashes[node_id], files)
    return combined
