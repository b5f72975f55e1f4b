"""Stakeholder links: a pipeline's picture and its latest run's states, read-only, no login.

A link is ``share/<signed token>/``: the token of a :class:`ShareLink` row,
signed with ``SECRET_KEY`` (salt ``django_mlops.share``), so a link cannot be
guessed or altered, and a revoked row closes it at once. The page shows the
steps, their descriptions and states, and nothing else: no data, logs, params
or errors. Listing and creating links needs ``view_sharelink``/``add_sharelink``;
revoking needs ``change_sharelink``.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..models import Run, ShareLink, TaskRun
from ..picture import pipeline_svg
from .access import requires
from .pictures import svg_response
from .pipelines import pipeline_or_404

__all__ = ["link_url", "share_list", "share_picture", "share_revoke", "share_view"]

_SALT = "django_mlops.share"


def link_url(request: HttpRequest, link: ShareLink) -> str:
    """The absolute signed address of ``link``."""
    signed = signing.Signer(salt=_SALT).sign(link.token)
    return request.build_absolute_uri(reverse("mlops:share", args=[signed]))


def _link_or_404(signed: str) -> ShareLink:
    try:
        token = signing.Signer(salt=_SALT).unsign(signed)
    except signing.BadSignature:
        raise Http404("no such link") from None
    link = ShareLink.objects.filter(token=token, revoked_at__isnull=True).first()
    if link is None:
        raise Http404("this link was revoked or never existed")
    return link


@require_http_methods(["GET", "POST"])
@requires("django_mlops.view_sharelink")
def share_list(request: HttpRequest, name: str) -> HttpResponse:
    """A pipeline's links (active and revoked); POST makes a new one (``add_sharelink``)."""
    pipeline = pipeline_or_404(name)
    if request.method == "POST":
        if not request.user.has_perm("django_mlops.add_sharelink"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("you lack the permission django_mlops.add_sharelink")
        label = request.POST.get("label", "").strip()[:200]
        link = ShareLink.objects.create(
            pipeline=pipeline.name,
            token=secrets.token_urlsafe(24),
            label=label,
            created_by=request.user,  # type: ignore[misc]
        )
        messages.success(request, f"New link: {link_url(request, link)}")
        return redirect("mlops:share-list", name=pipeline.name)
    links = ShareLink.objects.filter(pipeline=pipeline.name).select_related("created_by")
    rows = [(link, link_url(request, link) if link.active else "") for link in links]
    context = {
        "nav": "pipelines",
        "pipeline": pipeline,
        "rows": rows,
        "can_add": request.user.has_perm("django_mlops.add_sharelink"),
        "can_revoke": request.user.has_perm("django_mlops.change_sharelink"),
    }
    return render(request, "mlops/share/list.html", context)


@require_POST
@requires("django_mlops.change_sharelink")
def share_revoke(request: HttpRequest, link_id: int) -> HttpResponse:
    """Close a link for good."""
    link = get_object_or_404(ShareLink, pk=link_id)
    if link.revoked_at is None:
        ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        messages.success(request, f"Link #{link.pk} is revoked.")
    return redirect("mlops:share-list", name=link.pipeline)


def _latest_states(pipeline: str) -> tuple[Run | None, dict[str, str]]:
    run = Run.objects.filter(pipeline=pipeline).exclude(status="queued").first()
    if run is None:
        return None, {}
    return run, dict(TaskRun.objects.filter(run=run).values_list("node", "state"))


def _shared_svg(link: ShareLink) -> tuple[str, Run | None]:
    pipeline = pipeline_or_404(link.pipeline)
    run, states = _latest_states(pipeline.name)
    known = {n.name for n in pipeline.nodes}
    return pipeline_svg(pipeline, states={k: v for k, v in states.items() if k in known}), run


@require_GET
def share_view(request: HttpRequest, signed: str) -> HttpResponse:
    """The stakeholder page: no login, nothing but the picture, descriptions and states."""
    link = _link_or_404(signed)
    pipeline = pipeline_or_404(link.pipeline)
    svg, run = _shared_svg(link)
    context = {
        "pipeline": pipeline,
        "svg": svg,
        "run": run,
        "signed": signed,
        "steps": [n for n in pipeline.nodes if not n.is_concept],
        "concepts": [n for n in pipeline.nodes if n.is_concept],
    }
    response = render(request, "mlops/share/view.html", context)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"  # the link is the key: never pass it on
    return response


@require_GET
def share_picture(request: HttpRequest, signed: str, fmt: str) -> HttpResponse:
    """The shared picture as SVG or PNG."""
    link = _link_or_404(signed)
    svg, _ = _shared_svg(link)
    return svg_response(svg, fmt, link.pipeline)
