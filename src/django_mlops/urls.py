"""django-mlops' URLs: ``path("mlops/", include("django_mlops.urls"))`` in a project's urls.

Namespace ``mlops``. The website's pages are in ``django_mlops.web.urls``, the REST API
(namespace ``mlops:api``) in ``django_mlops.api.site``, the DRF predict endpoint
(``mlops:drf-predict``) in ``django_mlops.api.drf.urls``.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from .api.site import api

__all__ = ["app_name", "urlpatterns"]

app_name = "mlops"

# The APIs first: a predict call is the request served most often, and Django tries
# patterns in order (the pages' ~50 patterns cost it about 0.1 ms). No page path
# starts with "api/" or "drf/", so the order changes what is tried, never what matches.
urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", api.urls),
    path("drf/", include("django_mlops.api.drf.urls")),
    path("", include("django_mlops.web.urls")),
]
