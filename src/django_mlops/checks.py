"""System checks (ids ``django_mlops.E001``-``E014``, ``E020``-``E021`` (API), ``E030``-``E034``
(registry), ``W001``, ``W020``, ``W021``, ``W022`` (DRF's browsable API), ``W040``
(plotly.js for the charts)).

The checks read the raw ``settings.MLOPS`` so that a wrong type is reported
with a hint rather than raised from deep inside the runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.utils.module_loading import import_string

from .conf import DEFAULTS

__all__ = ["check_settings"]

_DOCS = "See docs/settings.md."


def _is_positive_number(value: Any, *, integer: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value > 0 and (isinstance(value, int) or not integer)


def _check_storage(value: Any) -> list[CheckMessage]:
    if value is None:
        return []
    if not isinstance(value, str) or not value:
        return [
            Error("MLOPS['ARTIFACT_STORAGE'] must be a string.", hint=_DOCS, id="django_mlops.E006")
        ]
    if value in getattr(settings, "STORAGES", {}):
        return []
    try:
        import_string(value)
    except ImportError:
        return [
            Error(
                f"MLOPS['ARTIFACT_STORAGE'] = {value!r} is neither a STORAGES alias nor an "
                "importable Storage class.",
                hint="Name a key of settings.STORAGES or a dotted path to a Storage class.",
                id="django_mlops.E006",
            )
        ]
    return []


def _check_executors(config: dict[str, Any]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    executors = config.get("EXECUTORS", {})
    if not isinstance(executors, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and "." in v for k, v in executors.items()
    ):
        errors.append(
            Error(
                "MLOPS['EXECUTORS'] must map executor names to dotted class paths.",
                hint=_DOCS,
                id="django_mlops.E004",
            )
        )
        executors = {}
    known = {**DEFAULTS["EXECUTORS"], **executors}
    default = config.get("DEFAULT_EXECUTOR", DEFAULTS["DEFAULT_EXECUTOR"])
    if default not in known:
        errors.append(
            Error(
                f"MLOPS['DEFAULT_EXECUTOR'] = {default!r} is not a known executor.",
                hint=f"Use one of {sorted(known)} or add it to MLOPS['EXECUTORS'].",
                id="django_mlops.E003",
            )
        )
    return errors


def _check_start_method(config: dict[str, Any]) -> list[CheckMessage]:
    method = config.get("PROCESS_START_METHOD")
    if method is None:
        return []
    from .executors.processes import available_start_methods

    offered = available_start_methods()
    if method in offered:
        return []
    return [
        Error(
            f"MLOPS['PROCESS_START_METHOD'] = {method!r} is not a start method available here.",
            hint=f"Use one of {offered}, or None for the platform's default.",
            id="django_mlops.E010",
        )
    ]


def _check_values(config: dict[str, Any]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    inline = config.get("INLINE_ARTIFACT_MAX_BYTES", 0)
    if not isinstance(inline, int) or isinstance(inline, bool) or inline < 0:
        errors.append(
            Error(
                "MLOPS['INLINE_ARTIFACT_MAX_BYTES'] must be an int >= 0.",
                hint=_DOCS,
                id="django_mlops.E002",
            )
        )
    workers = config.get("MAX_WORKERS")
    if workers is not None and not _is_positive_number(workers, integer=True):
        errors.append(
            Error(
                "MLOPS['MAX_WORKERS'] must be a positive int or None.",
                hint=_DOCS,
                id="django_mlops.E005",
            )
        )
    flush = config.get("RECORD_FLUSH_SECONDS", 1.0)
    if not _is_positive_number(flush, integer=False):
        errors.append(
            Error(
                "MLOPS['RECORD_FLUSH_SECONDS'] must be a positive number.",
                hint=_DOCS,
                id="django_mlops.E007",
            )
        )
    heartbeat = config.get("HEARTBEAT_SECONDS", 5.0)
    stale = config.get("RUN_STALE_SECONDS", 60.0)
    if not _is_positive_number(heartbeat, integer=False) or not _is_positive_number(
        stale, integer=False
    ):
        errors.append(
            Error(
                "MLOPS['HEARTBEAT_SECONDS'] and MLOPS['RUN_STALE_SECONDS'] must be positive "
                "numbers.",
                hint=_DOCS,
                id="django_mlops.E011",
            )
        )
    elif stale <= 2 * heartbeat:
        errors.append(
            Error(
                "MLOPS['RUN_STALE_SECONDS'] must be more than twice MLOPS['HEARTBEAT_SECONDS'], "
                "or a live run would be taken for a stopped one.",
                hint=_DOCS,
                id="django_mlops.E012",
            )
        )
    live = config.get("LIVE_SECONDS", 1.0)
    if not _is_positive_number(live, integer=False):
        errors.append(
            Error(
                "MLOPS['LIVE_SECONDS'] must be a positive number.",
                hint=_DOCS,
                id="django_mlops.E015",
            )
        )
    concurrency = config.get("WORKER_CONCURRENCY", 1)
    if not _is_positive_number(concurrency, integer=True):
        errors.append(
            Error(
                "MLOPS['WORKER_CONCURRENCY'] must be a positive int.",
                hint=_DOCS,
                id="django_mlops.E013",
            )
        )
    poll = config.get("WORKER_POLL_SECONDS")
    if poll is not None and not _is_positive_number(poll, integer=False):
        errors.append(
            Error(
                "MLOPS['WORKER_POLL_SECONDS'] must be a positive number or None.",
                hint=_DOCS,
                id="django_mlops.E014",
            )
        )
    modules = config.get("PIPELINE_MODULES", [])
    if (
        isinstance(modules, str)
        or not isinstance(modules, Sequence)
        or not all(isinstance(m, str) for m in modules)
    ):
        errors.append(
            Error(
                "MLOPS['PIPELINE_MODULES'] must be a list of strings.",
                hint="Dotted module names or paths to .py files.",
                id="django_mlops.E008",
            )
        )
    for key in ("HOME", "PROJECT_ROOT"):
        value = config.get(key)
        if (
            value is not None
            and not isinstance(value, str | bytes)
            and not hasattr(value, "__fspath__")
        ):
            errors.append(
                Error(f"MLOPS['{key}'] must be a path or None.", hint=_DOCS, id="django_mlops.E009")
            )
    return errors


def _check_api(config: dict[str, Any]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for key in ("API_MAX_BODY_BYTES", "API_PAGE_SIZE", "API_MAX_PAGE_SIZE"):
        if not _is_positive_number(config.get(key, DEFAULTS[key]), integer=True):
            errors.append(
                Error(f"MLOPS['{key}'] must be a positive int.", hint=_DOCS, id="django_mlops.E020")
            )
    if not errors and config.get("API_PAGE_SIZE", DEFAULTS["API_PAGE_SIZE"]) > config.get(
        "API_MAX_PAGE_SIZE", DEFAULTS["API_MAX_PAGE_SIZE"]
    ):
        errors.append(
            Error(
                "MLOPS['API_PAGE_SIZE'] must not exceed MLOPS['API_MAX_PAGE_SIZE'].",
                hint=_DOCS,
                id="django_mlops.E021",
            )
        )
    return errors


@register(Tags.compatibility)
def check_api_docs(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The API's interactive docs need django-ninja's static files (never a CDN)."""
    if "ninja" in settings.INSTALLED_APPS:
        return []
    return [
        Warning(
            "'ninja' is not in INSTALLED_APPS: the API's interactive docs (api/docs) show only "
            "a link to the OpenAPI document.",
            hint="Add 'ninja' to INSTALLED_APPS so Swagger UI is served from your static files.",
            id="django_mlops.W021",
        )
    ]


@register(Tags.compatibility)
def check_drf_browsable_api(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """DRF's browsable API (HTML) needs ``rest_framework``'s templates and static files.

    A warning: without the app the DRF predict endpoint still answers JSON.
    """
    if "rest_framework" in settings.INSTALLED_APPS:
        return []
    return [
        Warning(
            "'rest_framework' is not in INSTALLED_APPS: the DRF predict endpoint "
            "(drf/models/{name}/predict) answers JSON only, without its browsable API.",
            hint="Add 'rest_framework' to INSTALLED_APPS (it is installed with django-mlops) "
            "so a browser gets the browsable API's page.",
            id="django_mlops.W022",
        )
    ]


def _check_registry(config: dict[str, Any]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    model_format = config.get("MODEL_FORMAT", "joblib")
    if model_format not in ("joblib", "skops"):
        errors.append(
            Error(
                f"MLOPS['MODEL_FORMAT'] = {model_format!r} is not a model format.",
                hint="Use 'joblib' (the default) or 'skops'.",
                id="django_mlops.E030",
            )
        )
    trusted = config.get("SKOPS_TRUSTED_TYPES", [])
    if (
        isinstance(trusted, str)
        or not isinstance(trusted, Sequence)
        or not all(isinstance(t, str) and t for t in trusted)
    ):
        errors.append(
            Error(
                "MLOPS['SKOPS_TRUSTED_TYPES'] must be a list of type names.",
                hint="Fully qualified names, e.g. ['sklearn.tree._tree.Tree'].",
                id="django_mlops.E031",
            )
        )
    size = config.get("MODEL_CACHE_SIZE", 8)
    if not _is_positive_number(size, integer=True):
        errors.append(
            Error(
                "MLOPS['MODEL_CACHE_SIZE'] must be a positive int.",
                hint=_DOCS,
                id="django_mlops.E032",
            )
        )
    if not _is_positive_number(
        config.get("PREDICT_MAX_ROWS", DEFAULTS["PREDICT_MAX_ROWS"]), integer=True
    ):
        errors.append(
            Error(
                "MLOPS['PREDICT_MAX_ROWS'] must be a positive int.",
                hint=_DOCS,
                id="django_mlops.E033",
            )
        )
    if not isinstance(config.get("PREDICT_ARROW_INPUTS", True), bool):
        errors.append(
            Error(
                "MLOPS['PREDICT_ARROW_INPUTS'] must be True or False.",
                hint=_DOCS,
                id="django_mlops.E034",
            )
        )
    return errors


@register(Tags.compatibility)
def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Validate ``settings.MLOPS``."""
    config = getattr(settings, "MLOPS", None)
    if config is None:
        return []
    if not isinstance(config, dict):
        return [
            Error(
                "settings.MLOPS must be a dict.",
                hint="MLOPS = {'HOME': ..., ...}; see docs/settings.md.",
                id="django_mlops.E001",
            )
        ]
    messages: list[CheckMessage] = [
        Warning(
            f"Unknown key MLOPS[{key!r}] is ignored.",
            hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
            id="django_mlops.W001",
        )
        for key in sorted(k for k in config if k not in DEFAULTS)
    ]
    messages += _check_values(config)
    messages += _check_executors(config)
    messages += _check_start_method(config)
    messages += _check_storage(config.get("ARTIFACT_STORAGE"))
    messages += _check_api(config)
    messages += _check_registry(config)
    return messages


@register(Tags.templates)
def check_website_apps(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The website's pages need django-htmx (it serves htmx) installed as an app.

    A warning, not an error: a project may use the records and the CLI without
    mounting the website, and must still migrate.
    """
    from django.apps import apps

    if apps.is_installed("django_htmx"):
        return []
    return [
        Warning(
            "django_mlops' website needs 'django_htmx' in INSTALLED_APPS: its pages fail "
            "without it.",
            hint="Add 'django_htmx' to INSTALLED_APPS (it is installed with django-mlops): "
            "its static files serve htmx to the pages.",
            id="django_mlops.W020",
        )
    ]


#: The finder that serves plotly.js to the experiments pages' charts.
PLOTLY_FINDER = "django_mlops.staticfinders.PlotlyFinder"


@register(Tags.staticfiles)
def check_plotly_finder(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The compare page's charts need plotly.js, served by ``PlotlyFinder`` from the package.

    A warning (``W040``), since the records, the API and the other pages work without it.
    """
    from django.apps import apps

    if not apps.is_installed("django.contrib.staticfiles"):
        return []
    finders = getattr(settings, "STATICFILES_FINDERS", [])
    if PLOTLY_FINDER in finders:
        return []
    return [
        Warning(
            "The experiments compare page draws its charts with plotly.js, which "
            f"'{PLOTLY_FINDER}' serves from the installed plotly package; it is not in "
            "STATICFILES_FINDERS, so the charts stay empty.",
            hint=f"Add '{PLOTLY_FINDER}' to STATICFILES_FINDERS (after Django's two finders).",
            id="django_mlops.W040",
        )
    ]
