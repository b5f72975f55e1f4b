"""URLs of the standalone site (``mlops ui``): the website at ``/mlops/`` and the admin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView

__all__ = ["urlpatterns"]

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("mlops/", include("django_mlops.urls")),
    path("", RedirectView.as_view(url="/mlops/")),
]
