"""Django settings for the processes the fault tests start (``DJANGO_SETTINGS_MODULE``).

The standalone settings, with what a test needs to control from the environment:
``MLOPS_TEST_PROCESS_DB`` is ``sqlite`` (a file in ``MLOPS_HOME``) or the name of a
PostgreSQL database (the test process's own test database), ``MLOPS_TEST_BUSY_TIMEOUT``
is SQLite's busy timeout (PostgreSQL's lock_timeout) in seconds, and
``MLOPS_TEST_MLOPS`` is JSON merged over ``MLOPS``.
"""

import json
import os

from django_mlops.standalone import settings as _standalone

# The standalone module declares an empty __all__: take its settings by name.
globals().update({k: v for k, v in vars(_standalone).items() if k.isupper()})
DATABASES = _standalone.DATABASES
MLOPS_HOME = _standalone.MLOPS_HOME

_DB = os.environ.get("MLOPS_TEST_PROCESS_DB", "sqlite")
if _DB == "sqlite":
    DATABASES["default"]["OPTIONS"]["timeout"] = float(
        os.environ.get("MLOPS_TEST_BUSY_TIMEOUT", "30")
    )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("MLOPS_TEST_PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("MLOPS_TEST_PGPORT", "5432"),
            "NAME": _DB,
            "USER": "postgres",
        }
    }
    if os.environ.get("MLOPS_TEST_BUSY_TIMEOUT"):
        # PostgreSQL's counterpart of the busy timeout: how long a statement waits for a lock.
        milliseconds = int(float(os.environ["MLOPS_TEST_BUSY_TIMEOUT"]) * 1000)
        DATABASES["default"]["OPTIONS"] = {"options": f"-c lock_timeout={milliseconds}"}
MLOPS = {
    **_standalone.MLOPS,
    "HOME": str(MLOPS_HOME),
    **json.loads(os.environ.get("MLOPS_TEST_MLOPS", "{}")),
}
