"""``ui``: serve the website on 127.0.0.1 with an embedded worker, and print a login link.

Standalone only (a project serves its site itself). The local user ``mlops`` (a
superuser without a password) is created on first use; the printed link logs it
in once (see :mod:`django_mlops.web.onetime`). Runs queued from the site are
taken by a ``mlops worker`` child process, stopped with the server.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from typing import Any

from .base import EXIT_OK, CommandFailed, Console

__all__ = ["register"]

LOCAL_USER = "mlops"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ui`` to the subcommand parsers."""
    ui = subparsers.add_parser(
        "ui",
        help="Serve the website on 127.0.0.1 (standalone mode).",
        description="Serve the website on 127.0.0.1 with an embedded worker and print a "
        "one-time login link.",
    )
    ui.add_argument(
        "pipelines",
        nargs="*",
        metavar="FILE_OR_MODULE",
        help="Pipeline files or modules to show, besides those of recorded runs.",
    )
    ui.add_argument("--port", type=int, default=8000, metavar="N", help="Port (8000).")
    ui.add_argument(
        "--no-worker", action="store_true", help="Do not start a worker for queued runs."
    )
    ui.set_defaults(handler=ui_command)


def _local_user() -> Any:
    from django.contrib.auth import get_user_model

    users = get_user_model()
    user = users.objects.filter(username=LOCAL_USER).first()
    if user is None:
        user = users.objects.create_superuser(LOCAL_USER, email="", password=None)
    return user


def _load_pipelines(refs: list[str], console: Console) -> None:
    """Import the named pipeline files/modules, then (best effort) those of recorded runs."""
    from ..discovery import import_ref
    from ..errors import PipelineError, PipelineNotFound
    from ..models import Run

    for ref in refs:
        try:
            import_ref(ref)
        except (PipelineNotFound, PipelineError) as exc:
            raise CommandFailed(str(exc)) from None
    recorded = Run.objects.exclude(source="").order_by().values_list("source", flat=True)
    sources = sorted(set(recorded.distinct()[:200]))
    for source in sources:
        target = source.rpartition(":")[0]
        try:
            import_ref(target)
        except (PipelineNotFound, PipelineError, OSError, ImportError) as exc:
            console.warn(f"mlops: the pipelines of {source} are not shown: {exc}")


def _start_worker() -> subprocess.Popen[bytes]:
    # The child dies with us (start_new_session=False) and shares MLOPS_HOME.
    return subprocess.Popen([sys.executable, "-m", "django_mlops.cli", "worker"], env=os.environ)


def ui_command(args: argparse.Namespace, console: Console) -> int:
    """Serve until interrupted."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    from ..standalone.bootstrap import STANDALONE_SETTINGS
    from ..web.onetime import issue

    if os.environ.get("DJANGO_SETTINGS_MODULE") != STANDALONE_SETTINGS:
        raise CommandFailed(
            "mlops ui serves the standalone site; in a Django project, serve the project "
            "(python manage.py runserver) with django_mlops.urls mounted"
        )
    if not 0 < args.port < 65536:
        raise CommandFailed(f"--port must be between 1 and 65535, not {args.port}")
    _load_pipelines(args.pipelines, console)
    token = issue(_local_user().pk)
    worker = None if args.no_worker else _start_worker()
    url = f"http://127.0.0.1:{args.port}/mlops/login/once/{token}/"
    console.line(f"django-mlops is served at http://127.0.0.1:{args.port}/mlops/")
    console.line(f"Open this link to log in (it works once): {url}")
    console.out.flush()
    try:
        run("127.0.0.1", args.port, StaticFilesHandler(get_wsgi_application()), threading=True)
    except OSError as exc:
        raise CommandFailed(f"cannot serve on 127.0.0.1:{args.port}: {exc}") from None
    except KeyboardInterrupt:
        console.line("stopped")
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    return EXIT_OK
