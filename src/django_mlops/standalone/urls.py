"""URLs of the standalone site (``mlops ui``): the admin for now; the web UI mounts here later."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, path

__all__ = ["urlpatterns"]

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
]
