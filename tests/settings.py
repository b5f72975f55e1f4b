"""Settings for the test suite: SQLite by default, PostgreSQL with MLOPS_TEST_DATABASE=postgres."""

import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

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
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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
STATIC_URL = "/static/"
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js for the experiments charts, from the installed plotly package.
    "django_mlops.staticfinders.PlotlyFinder",
]

if os.environ.get("MLOPS_TEST_DATABASE") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("MLOPS_TEST_PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("MLOPS_TEST_PGPORT", "5432"),
            "NAME": "test",
            "USER": "postgres",
            # One test database per session: several suites may run at once.
            "TEST": {"NAME": f"test_django_mlops_{os.getpid()}"},
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Artifacts of the whole session in one throwaway folder; tests wanting their own
# use the tmp_mlops_home fixture.
_HOME = Path(tempfile.mkdtemp(prefix="mlops-tests-"))
MLOPS = {"HOME": str(_HOME), "RECORD_FLUSH_SECONDS": 0.2}
