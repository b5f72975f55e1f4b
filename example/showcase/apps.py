"""App config of the showcase app (its ``pipelines.py`` is discovered by django_mlops)."""

from django.apps import AppConfig


class ShowcaseConfig(AppConfig):
    """The example pipelines: iris, diabetes and digits."""

    name = "showcase"
    verbose_name = "Showcase pipelines"
