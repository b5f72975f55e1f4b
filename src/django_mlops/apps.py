"""The Django app configuration."""

from __future__ import annotations

from django.apps import AppConfig


class DjangoMlopsConfig(AppConfig):
    """django-mlops: registers the system checks and discovers pipelines at startup."""

    name = "django_mlops"
    label = "django_mlops"
    verbose_name = "ML Ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register checks, connect the settings receiver, import ``pipelines`` modules."""
        from . import checks, conf  # noqa: F401  (importing registers checks and receiver)
        from .discovery import autodiscover

        # Like admin.autodiscover(): definition errors surface at startup.
        autodiscover()
