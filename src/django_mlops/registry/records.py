"""The registry's Django models: registered models, their versions, aliases and alias history.

Defined here and re-exported by ``django_mlops.models`` (Django finds them there).
A version is immutable once written: it points at its artifact (PROTECT), the run
and task that made it, and carries its signature and the library versions it was
trained with, so it can be explained and rebuilt later. Aliases are the only
mutable part, and every change of one is an :class:`AliasChange` row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["AliasChange", "ModelAlias", "ModelVersion", "RegisteredModel"]

_NAME_LENGTH = 200


class RegisteredModel(models.Model):
    """A named model (``iris-classifier``) whose versions are registered by runs."""

    name = models.CharField(max_length=_NAME_LENGTH, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(
        default=timezone.now, help_text="When the last version was registered."
    )

    class Meta:
        """Ordering and the registry's permissions."""

        ordering = ["name"]
        permissions = [
            ("promote_model", "Can point model aliases at versions"),
            ("predict", "Can call model predictions"),
        ]

    def __str__(self) -> str:
        return self.name


class ModelFormat(models.TextChoices):
    """How a version's artifact encodes the model."""

    JOBLIB = "joblib", "joblib"
    SKOPS = "skops", "skops"


class ModelVersion(models.Model):
    """One registered version of a model, with everything needed to trust and rebuild it."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(help_text="1, 2, 3... per model.")
    artifact = models.ForeignKey(
        "django_mlops.Artifact", on_delete=models.PROTECT, related_name="model_versions"
    )
    sha256 = models.CharField(
        max_length=64, help_text="SHA-256 of the artifact bytes; checked on every load."
    )
    format = models.CharField(max_length=16, choices=ModelFormat.choices)
    type_name = models.CharField(max_length=255, blank=True, help_text="The model's class.")
    signature = models.JSONField(default=dict, blank=True, help_text="Inputs, from sample_input.")
    libraries = models.JSONField(
        default=dict, blank=True, help_text="Distribution → version the model was trained with."
    )
    metrics = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    run = models.ForeignKey(
        "django_mlops.Run",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="model_versions",
    )
    task = models.ForeignKey(
        "django_mlops.TaskRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="model_versions",
        help_text="The task that registered it (its node's code, inputs and params).",
    )
    node = models.CharField(max_length=_NAME_LENGTH, blank=True)
    source = models.JSONField(
        default=dict,
        blank=True,
        help_text="For an imported version: where it came from (the exporting installation).",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        """Ordering and constraints."""

        ordering = ["model", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="mlops_modelversion_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.version}"


class ModelAlias(models.Model):
    """A movable name (``production``, ``staging``) pointing at one version of a model."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=_NAME_LENGTH)
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="aliases")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        """Ordering and constraints."""

        ordering = ["model", "name"]
        constraints = [
            models.UniqueConstraint(fields=["model", "name"], name="mlops_modelalias_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.name}"


class AliasChange(models.Model):
    """One move of an alias: who, when, from which version to which, and why."""

    model = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="alias_changes"
    )
    alias = models.CharField(max_length=_NAME_LENGTH)
    from_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The numbers too: a deleted version must not erase what the trail said.
    from_number = models.PositiveIntegerField(null=True, blank=True)
    to_number = models.PositiveIntegerField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        """Ordering."""

        ordering = ["model", "-changed_at", "-id"]

    def __str__(self) -> str:
        old = "none" if self.from_number is None else f"v{self.from_number}"
        new = "none" if self.to_number is None else f"v{self.to_number}"
        return f"{self.model.name}@{self.alias}: {old} -> {new}"
