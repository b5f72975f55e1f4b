"""URLs of the test project: the admin, and django-mlops at /mlops/ (as the demo mounts it)."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("mlops/", include("django_mlops.urls")),
]
