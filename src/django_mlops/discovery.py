"""Finding pipelines: ``<app>.pipelines`` modules, configured modules and files.

``autodiscover()`` runs from ``AppConfig.ready()``, the way ``admin.autodiscover``
imports ``admin.py`` modules. ``load_pipeline`` resolves what a user types on the
command line: ``iris``, ``pkg.module:iris`` or ``path/to/file.py:iris``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from .errors import PipelineError, PipelineNotFound
from .pipeline import Pipeline, all_registered, registered, replacing_registrations

if TYPE_CHECKING:
    from .models import Run

__all__ = [
    "PipelineImportError",
    "all_pipelines",
    "autodiscover",
    "get_pipeline",
    "import_file",
    "import_ref",
    "load_pipeline",
    "loaded_from_file",
    "pipeline_of_run",
]


class PipelineImportError(PipelineNotFound):
    """A pipeline file or module named by the user raised while it was imported.

    The message is one line: the user's file and line, then the error, e.g.
    ``my_pipes.py, line 3: SyntaxError: invalid syntax``. The original exception
    stays available as ``__cause__`` for whoever wants the full traceback.
    """


def _short(filename: str) -> str:
    """``filename`` relative to the working folder when it is inside it."""
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd()))
    except ValueError:
        return filename


def _import_failure(exc: BaseException, what: str, own_file: str | None) -> PipelineImportError:
    """One line for ``exc`` raised while importing ``what``: where in the user's code, and what.

    A SyntaxError carries its own location. Otherwise the innermost frame of the
    user's file (``own_file``) is named, else the innermost frame that is not
    importlib's machinery, so the message points at the user's line.
    """
    if isinstance(exc, SyntaxError) and exc.filename:
        filename, line = exc.filename, exc.lineno
        detail = f"{type(exc).__name__}: {exc.msg or 'invalid syntax'}"
    else:
        detail = f"{type(exc).__name__}: {exc}"
        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if not f.filename.startswith("<frozen ") and f.filename != __file__
        ]
        mine = [f for f in frames if own_file and Path(f.filename).resolve() == Path(own_file)]
        if not (mine or frames):
            return PipelineImportError(f"cannot import {what}: {detail}")
        frame = (mine or frames)[-1]
        filename, line = frame.filename, frame.lineno
    where = f"{_short(filename)}, line {line}"
    if _short(filename) == what:  # the file itself: its name once is enough
        return PipelineImportError(f"{where}: {detail}")
    return PipelineImportError(f"cannot import {what}: {where}: {detail}")


def _import_module(name: str, ref: str) -> ModuleType:
    """Import module ``name``; a user's mistake becomes one :class:`PipelineImportError`."""
    try:
        return importlib.import_module(name)
    except PipelineError:
        raise  # a definition error already names its nodes
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            raise PipelineNotFound(f"{ref}: cannot import module '{name}': {exc}") from None
        raise _import_failure(exc, f"module '{name}'", None) from exc
    except Exception as exc:
        raise _import_failure(exc, f"module '{name}'", _origin(name)) from exc


def _origin(name: str) -> str | None:
    """The file module ``name`` is loaded from, if that can be told without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except Exception:  # its parent package fails to import as well
        return None
    return spec.origin if spec is not None else None


def _import_app_pipelines(app_module: ModuleType, app_name: str) -> None:
    from django.utils.module_loading import module_has_submodule

    try:
        importlib.import_module(f"{app_name}.pipelines")
    except Exception:
        # An app without pipelines.py is fine; an error inside one must surface.
        if module_has_submodule(app_module, "pipelines"):
            raise


def autodiscover() -> list[Pipeline]:
    """Import every installed app's ``pipelines`` module and MLOPS["PIPELINE_MODULES"].

    Then validate every registered pipeline, so a missing input is reported at
    startup rather than at the first run. Returns the registered pipelines.
    """
    from django.apps import apps

    from .conf import mlops_settings

    for config in apps.get_app_configs():
        _import_app_pipelines(config.module, config.name)  # type: ignore[arg-type]
    for ref in mlops_settings().PIPELINE_MODULES:
        if ref.endswith(".py"):
            import_file(Path(ref))
        else:
            importlib.import_module(ref)
    pipelines = all_registered()
    for pipeline in pipelines:
        pipeline.validate()
    return pipelines


# Names of the modules imported from a file by path: a run records their file as its source.
_FILE_MODULES: set[str] = set()


def loaded_from_file(module_name: str) -> bool:
    """Whether ``module_name`` was imported from a file named by path (``import_file``)."""
    return module_name in _FILE_MODULES


def import_file(path: Path) -> ModuleType:
    """Import a Python file under a stable module name, so worker processes can import it too.

    The module is remembered as loaded from its file (:func:`loaded_from_file`).
    """
    module = _import_file(path)
    _FILE_MODULES.add(module.__name__)
    return module


def _import_file(path: Path) -> ModuleType:
    """``import_file`` without the bookkeeping.

    The file's folder goes on ``sys.path`` and the module is imported by its stem,
    which child processes (spawned or forked) and pickle resolve the same way. If the
    stem is taken by another module, a name derived from the absolute path is used.
    """
    path = path.expanduser().resolve()
    if not path.is_file():
        raise PipelineNotFound(f"no such file: {path}")
    stem = path.stem
    existing = sys.modules.get(stem)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == path:
        return existing
    folder = str(path.parent)
    if existing is None and stem.isidentifier():
        if folder not in sys.path:
            sys.path.insert(0, folder)
        spec = importlib.util.find_spec(stem)
        if spec is not None and spec.origin and Path(spec.origin).resolve() == path:
            try:
                return importlib.import_module(stem)
            except PipelineError:
                raise
            except Exception as exc:
                raise _import_failure(exc, _short(str(path)), str(path)) from exc
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    name = f"_mlops_file_{digest}_{stem if stem.isidentifier() else 'module'}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PipelineNotFound(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with replacing_registrations():  # a file named by path defines what its names mean
            spec.loader.exec_module(module)
    except PipelineError:
        del sys.modules[name]
        raise
    except Exception as exc:
        del sys.modules[name]
        raise _import_failure(exc, _short(str(path)), str(path)) from exc
    except BaseException:
        del sys.modules[name]
        raise
    return module


def import_ref(ref: str) -> ModuleType:
    """Import what ``mlops list`` is given: a ``.py`` file or a dotted module name.

    Every mistake (no such file, a folder, a module that is not there or fails
    to import) is a :class:`PipelineNotFound` with one line, as for ``mlops run``.
    """
    if Path(ref).expanduser().is_dir():
        raise PipelineNotFound(f"{ref} is a folder: name a .py file or a module")
    if ref.endswith(".py"):
        return import_file(Path(ref))
    return _import_module(ref, ref)


def _pipeline_in(module: ModuleType, attr: str | None, ref: str) -> Pipeline:
    if attr is not None:
        value = getattr(module, attr, None)
        if isinstance(value, Pipeline):
            return value
        by_name = registered(attr)
        if by_name is not None and by_name.module == module.__name__:
            return by_name
        raise PipelineNotFound(f"{ref}: module '{module.__name__}' has no pipeline '{attr}'")
    found = [v for v in vars(module).values() if isinstance(v, Pipeline)]
    unique = {id(p): p for p in found}
    if len(unique) == 1:
        return next(iter(unique.values()))
    names = ", ".join(sorted(p.name for p in unique.values())) or "none"
    raise PipelineNotFound(f"{ref}: say which pipeline with '{ref}:NAME' (found: {names})")


def load_pipeline(ref: str) -> Pipeline:
    """Resolve ``name``, ``pkg.module:name`` or ``path/to/file.py[:name]`` to a pipeline.

    The pipeline is validated before it is returned.
    """
    target, _, attr = ref.partition(":")
    name = attr or None
    pipeline: Pipeline | None
    if target.endswith(".py"):
        pipeline = _pipeline_in(import_file(Path(target)), name, ref)
    elif name is not None:
        pipeline = _pipeline_in(_import_module(target, ref), name, ref)
    else:
        pipeline = registered(target)
        if pipeline is None:
            known = ", ".join(p.name for p in all_registered()) or "none registered"
            raise PipelineNotFound(f"no pipeline named '{target}' (known: {known})")
    pipeline.validate()
    return pipeline


def pipeline_of_run(run: Run) -> Pipeline:
    """The pipeline a past run executed, loaded from where the run says it came from.

    ``Run.source`` names a module or a file; another pipeline of the same name
    (another file, or the same name registered by an app) is not taken for it.
    """
    source, name = run.source, run.pipeline
    current = registered(name)
    if not source:
        if current is None:
            raise PipelineNotFound(
                f"run {run.pk}'s pipeline '{name}' was defined interactively and is not "
                "defined in this process"
            )
        return current
    if current is not None and current.source == source:
        return current
    try:
        pipeline = load_pipeline(source)
    except (PipelineNotFound, OSError, ImportError, SyntaxError) as exc:
        raise PipelineNotFound(
            f"run {run.pk}'s pipeline came from {source}, which cannot be loaded now: {exc}"
        ) from None
    return pipeline


def get_pipeline(name: str) -> Pipeline:
    """The registered pipeline called ``name``; PipelineNotFound if there is none."""
    pipeline = registered(name)
    if pipeline is None:
        known = ", ".join(p.name for p in all_registered()) or "none registered"
        raise PipelineNotFound(f"no pipeline named '{name}' (known: {known})")
    return pipeline


def all_pipelines() -> list[Pipeline]:
    """Every registered pipeline, sorted by name."""
    return all_registered()
