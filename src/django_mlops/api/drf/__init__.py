"""The predict endpoint served by Django REST framework, with its browsable API.

``POST <mount>/drf/models/{name}/predict`` takes the same body and query as the
django-ninja endpoint and answers with the same bodies, because both are thin
adapters over the same code: the request schemas (``api.schemas.models``), the
body checks (``api.body``), the token check (``django_mlops.tokens``), the
shared request rules and prediction (``registry.serving``) and the mapping of
the registry's errors to answers (``api.errors.registry_error_answer``).

Imported only by ``django_mlops.urls`` (the ``drf/`` mount), so a process that
never serves HTTP never imports DRF.
"""
