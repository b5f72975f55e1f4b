"""A production-like Django project serving the registry: what the serving bench measures.

Standalone mode's settings (the same apps, middleware and URLs a user's ``mlops ui``
has), then what a deployment changes: ``DEBUG`` off, no browsable extras, the
database chosen by the environment:

- ``MLOPS_BENCH_DATABASE=sqlite`` (default): the file ``$MLOPS_HOME/db.sqlite3``;
- ``MLOPS_BENCH_DATABASE=postgres``: the database ``$MLOPS_BENCH_PGNAME`` on
  ``MLOPS_BENCH_PGHOST:MLOPS_BENCH_PGPORT`` (default 127.0.0.1:5432, user postgres),
  with persistent connections (``CONN_MAX_AGE``), as a deployment would have.
"""

from __future__ import annotations

import os

from django_mlops.standalone import settings as _standalone

# Every setting of standalone mode (its module declares an empty __all__), then ours.
globals().update({k: v for k, v in vars(_standalone).items() if k.isupper()})

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# Requests are served by long-lived workers: keep each worker's connection open.
_CONN_MAX_AGE = 600

if os.environ.get("MLOPS_BENCH_DATABASE", "sqlite") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("MLOPS_BENCH_PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("MLOPS_BENCH_PGPORT", "5432"),
            "NAME": os.environ.get("MLOPS_BENCH_PGNAME", "mlops_bench_serving"),
            "USER": "postgres",
            "CONN_MAX_AGE": _CONN_MAX_AGE,
        }
    }
else:
    DATABASES = {"default": {**_standalone.DATABASES["default"], "CONN_MAX_AGE": _CONN_MAX_AGE}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # Errors only: an access line per request would be measured too.
    "root": {"handlers": ["console"], "level": "WARNING"},
}
