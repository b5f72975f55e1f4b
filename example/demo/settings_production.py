"""Production settings: the development settings hardened for ``manage.py check --deploy``.

The secret key and the host names come from the environment
(``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` as a comma-separated list), so
nothing secret is committed. Serve behind HTTPS; the proxy must set
``X-Forwarded-Proto`` for ``SECURE_PROXY_SSL_HEADER`` to be trusted.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403  (production starts from the development settings)
from .settings import BASE_DIR


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"set the {name} environment variable for production")
    return value


DEBUG = False
SECRET_KEY = _required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = [host.strip() for host in _required("DJANGO_ALLOWED_HOSTS").split(",") if host]
CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS if not host.startswith(".")]

# HTTPS everywhere: redirect, one year of HSTS, cookies only over TLS.
SECURE_SSL_REDIRECT = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# The database and artifacts may live elsewhere on a server.
if os.environ.get("DEMO_DATABASE_PATH"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["DEMO_DATABASE_PATH"],
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    }
MLOPS = {
    "HOME": os.environ.get("MLOPS_HOME", str(BASE_DIR / ".mlops")),
    "PROJECT_ROOT": str(BASE_DIR.parent),
}
