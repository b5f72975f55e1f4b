"""The demo Django project that mounts django-mlops (settings, urls, WSGI/ASGI)."""
