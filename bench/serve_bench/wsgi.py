"""The WSGI application gunicorn serves in the serving bench (``serve_bench.wsgi:application``)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serve_bench.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
