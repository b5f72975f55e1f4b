"""Models pages: the list, a model's page (versions, aliases, audit trail, try-it, curl).

Reading needs ``django_mlops.view_registeredmodel``; the Promote form needs
``promote_model`` and goes through the registry's ``set_alias`` (as the REST
API's promote does); the try-it form needs ``predict`` and goes through
``serve_prediction`` (as both REST predict endpoints do). Each page costs a
fixed number of queries, whatever the number of versions or aliases.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ..models import AliasChange, ModelAlias, ModelVersion
from ..registry.aliases import check_alias_name, set_alias
from ..registry.errors import InputValidationError, ModelIntegrityError, ModelNotFoundError
from ..registry.listing import aliases_by_model, models_with_counts
from ..registry.serving import serve_prediction
from .access import requires
from .tryit import blank_form, curl_command, read_try_form, show_errors

__all__ = ["model_detail", "model_list", "model_predict", "model_promote"]

MODEL_VIEW = "django_mlops.view_registeredmodel"
PROMOTE = "django_mlops.promote_model"
PREDICT = "django_mlops.predict"
MODELS_PER_PAGE = 50
VERSIONS_PER_PAGE = 20
TRAIL_ROWS = 50
_COMMENT_MAX = 10_000


@require_GET
@requires(MODEL_VIEW)
def model_list(request: HttpRequest) -> HttpResponse:
    """Every registered model: description, latest version, aliases, last updated."""
    page = Paginator(models_with_counts(), MODELS_PER_PAGE).get_page(request.GET.get("page"))
    aliases = aliases_by_model([m.pk for m in page.object_list])
    rows = [{"model": m, "aliases": sorted(aliases.get(m.pk, {}).items())} for m in page]
    return render(request, "mlops/models/list.html", {"nav": "models", "rows": rows, "page": page})


def _model_or_404(name: str) -> Any:
    """The model ``name`` with ``version_total`` and ``latest`` (one query), or 404."""
    model = models_with_counts().filter(name=name).first()
    if model is None:
        raise Http404(f"no registered model named '{name}'")
    return model


def _targets(aliases: list[ModelAlias], latest: int | None) -> list[tuple[str, str]]:
    """The try-it form's choices: each alias, then each version number, newest first."""
    choices = [(f"alias:{a.name}", f"{a.name} (version {a.version.version})") for a in aliases]
    choices += [(f"version:{n}", f"version {n}") for n in range(latest or 0, 0, -1)]
    return choices


def _parse_target(text: str) -> tuple[str | None, int | None]:
    """``alias:production`` → ("production", None); ``version:3`` → (None, 3); else ValueError."""
    kind, _, value = text.partition(":")
    if kind == "alias" and value:
        return check_alias_name(value), None
    if kind == "version" and value.isdigit() and 0 < int(value) < 2**31:
        return None, int(value)
    raise ValueError(f"not a version or alias: {text!r}")


def _default_target(aliases: list[ModelAlias], latest: int | None) -> str:
    """What the try-it form calls first: the production alias, else the latest version."""
    if any(a.name == "production" for a in aliases):
        return "alias:production"
    return f"version:{latest}" if latest else ""


def _chosen_version(model: Any, target: str) -> ModelVersion | None:
    """The version ``target`` names now (one query), or None."""
    try:
        alias, number = _parse_target(target)
    except ValueError:
        return None
    rows = ModelVersion.objects.filter(model=model)
    if alias is not None:
        return rows.filter(aliases__name=alias).first()
    return rows.filter(version=number or 0).first()


def _endpoint_query(target: str) -> str:
    alias, number = _parse_target(target)
    return f"?alias={alias}" if alias is not None else f"?version={number}"


def _context(request: HttpRequest, model: Any, target: str | None) -> dict[str, Any]:
    """Everything the model's page shows, in a fixed number of queries."""
    aliases = list(
        ModelAlias.objects.filter(model=model)
        .select_related("version", "updated_by")
        .order_by("name")
    )
    on_version: dict[int, list[str]] = {}
    for alias in aliases:
        on_version.setdefault(alias.version.version, []).append(alias.name)
    rows = ModelVersion.objects.filter(model=model).select_related("run").order_by("-version")
    # The model row already counted its versions: the paginator need not count again.
    paginator = Paginator(rows, VERSIONS_PER_PAGE)
    paginator.count = model.version_total
    page = paginator.get_page(request.GET.get("page"))
    target = target or request.GET.get("target") or _default_target(aliases, model.latest)
    chosen = _chosen_version(model, target)
    signature = chosen.signature if chosen is not None else {}
    endpoint = request.build_absolute_uri(reverse("mlops:api:predict_model", args=[model.name]))
    changes = (
        AliasChange.objects.filter(model=model)
        .select_related("user")
        .order_by("-changed_at", "-id")
    )
    return {
        "nav": "models",
        "model": model,
        "aliases": aliases,
        "versions": [(v, on_version.get(v.version, [])) for v in page.object_list],
        "page": page,
        "trail": list(changes[:TRAIL_ROWS]),
        "trail_limit": TRAIL_ROWS,
        "can_promote": request.user.has_perm(PROMOTE),
        "can_predict": request.user.has_perm(PREDICT),
        "targets": _targets(aliases, model.latest),
        "target": target,
        "chosen": chosen,
        "form": blank_form(signature) if chosen is not None else None,
        "curl": curl_command(endpoint + _endpoint_query(target), signature) if chosen else "",
        "promote_errors": {},
        "promote_values": {"alias": "production", "version": model.latest or "", "comment": ""},
    }


@require_GET
@requires(MODEL_VIEW)
def model_detail(request: HttpRequest, name: str) -> HttpResponse:
    """A model's page: versions with lineage, aliases and Promote, audit trail, try-it, curl."""
    model = _model_or_404(name)
    return render(request, "mlops/models/detail.html", _context(request, model, None))


def _promote_fields(data: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The Promote form's values and its errors (by field)."""
    values = {
        "alias": data.get("alias", "").strip(),
        "version": data.get("version", "").strip(),
        "comment": data.get("comment", ""),
    }
    errors: dict[str, str] = {}
    try:
        check_alias_name(values["alias"])
    except ValueError as exc:
        errors["alias"] = str(exc)
    if not values["version"].isdigit() or not 0 < int(values["version"]) < 2**31:
        errors["version"] = "choose a version number"
    if len(values["comment"]) > _COMMENT_MAX or "\x00" in values["comment"]:
        errors["comment"] = f"at most {_COMMENT_MAX} characters, and no NUL character"
    return values, errors


@require_POST
@requires(MODEL_VIEW, PROMOTE)
def model_promote(request: HttpRequest, name: str) -> HttpResponse:
    """Point an alias at a version (``set_alias``: permission check and audit trail)."""
    model = _model_or_404(name)
    values, errors = _promote_fields(request.POST)
    if not errors:
        try:
            set_alias(
                model.name,
                values["alias"],
                int(values["version"]),
                user=request.user,
                comment=values["comment"],
            )
        except ModelNotFoundError as exc:
            errors["version"] = str(exc)
        else:
            messages.success(
                request, f"{values['alias']} now points at version {values['version']}."
            )
            return redirect(reverse("mlops:model", args=[model.name]) + "#aliases")
    context = _context(request, model, None)
    context.update(promote_errors=errors, promote_values=values)
    return render(request, "mlops/models/detail.html", context, status=400)


@require_POST
@requires(MODEL_VIEW, PREDICT)
def model_predict(request: HttpRequest, name: str) -> HttpResponse:
    """Predict the try-it form's record (``serve_prediction``); errors shown by their field."""
    model = _model_or_404(name)
    target = request.POST.get("target", "")
    context = _context(request, model, target)
    chosen = context["chosen"]
    if chosen is None:
        context["try_error"] = f"no version answers to {target!r}: choose one in the list"
        return render(request, "mlops/models/detail.html", context, status=400)
    form, records = read_try_form(chosen.signature, request.POST)
    context["form"] = form
    status = 200
    if records is not None and not any(f.errors for f in form.fields):
        alias, number = _parse_target(target)
        try:
            context["answer"] = serve_prediction(
                model.name, records, alias=alias, version=number, proba=form.proba
            )
        except InputValidationError as exc:
            show_errors(form, exc)
        except (ModelNotFoundError, ModelIntegrityError) as exc:
            context["try_error"] = str(exc)
    if "answer" not in context:
        status = 400
    return render(request, "mlops/models/detail.html", context, status=status)
