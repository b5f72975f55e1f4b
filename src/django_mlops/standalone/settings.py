"""Django settings for the ``mlops`` console script when there is no project.

Everything lives under ``MLOPS_HOME`` (default ``./.mlops``): the SQLite database,
the artifacts and a secret key generated on first use. ``mlops ui`` serves the
site on 127.0.0.1 only, hence ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django_mlops.conf import default_home

__all__: list[str] = []

MLOPS_HOME = default_home()
MLOPS_HOME.mkdir(parents=True, exist_ok=True)


def _secret_key(home: Path) -> str:
    """The key stored in ``home/secret_key``, created (mode 0600) on first use."""
    path = home / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        # O_EXCL: when two processes start at once, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


BASE_DIR = Path.cwd()
SECRET_KEY = _secret_key(MLOPS_HOME)
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the API docs' static files (Swagger UI)
    "rest_framework",  # the DRF predict endpoint's browsable API (templates, static files)
    "django_mlops",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "django_mlops.standalone.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": MLOPS_HOME / "db.sqlite3",
        # Worker threads and the runner write concurrently: wait rather than fail.
        "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js for the experiments charts, from the installed plotly package.
    "django_mlops.staticfinders.PlotlyFinder",
]
STATIC_ROOT = MLOPS_HOME / "static"
LOGIN_URL = "admin:login"

MLOPS = {"HOME": str(MLOPS_HOME)}
