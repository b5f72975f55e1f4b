"""URLs of django-mlops: ``path("mlops/", include("django_mlops.urls"))``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from .api.site import api

__all__ = ["app_name", "urlpatterns"]

app_name = "mlops"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", api.urls),
]
