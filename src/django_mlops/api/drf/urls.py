"""The DRF routes, included by ``django_mlops.urls`` under ``drf/``."""

from __future__ import annotations

from django.urls import URLPattern, path

from .views import PredictView

__all__ = ["urlpatterns"]

urlpatterns: list[URLPattern] = [
    path("models/<str:name>/predict", PredictView.as_view(), name="drf-predict"),
]
