"""The website's routes (included by ``django_mlops.urls``, namespace ``mlops``)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path
from django.views.generic import RedirectView

from . import (
    downloads,
    experiments_charts,
    experiments_compare,
    experiments_table,
    model_pages,
    onetime,
    pipelines,
    runs,
    share,
    tasks,
)

__all__ = ["urlpatterns"]

urlpatterns: list[URLPattern] = [
    path("", RedirectView.as_view(pattern_name="mlops:pipelines"), name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="mlops/login.html", next_page="mlops:pipelines"),
        name="login",
    ),
    path("login/once/<str:token>/", onetime.login_once, name="login-once"),
    path("logout/", auth_views.LogoutView.as_view(next_page="mlops:login"), name="logout"),
    path("pipelines/", pipelines.pipeline_list, name="pipelines"),
    path("pipelines/<str:name>/", pipelines.pipeline_detail, name="pipeline"),
    path("pipelines/<str:name>/nodes/<path:node>/", pipelines.node_detail, name="node"),
    path(
        "pipelines/<str:name>/picture.<str:fmt>",
        downloads.pipeline_picture,
        name="pipeline-picture",
    ),
    path("pipelines/<str:name>/share/", share.share_list, name="share-list"),
    path("share/<int:link_id>/revoke/", share.share_revoke, name="share-revoke"),
    path("share/<str:signed>/", share.share_view, name="share"),
    path("share/<str:signed>/picture.<str:fmt>", share.share_picture, name="share-picture"),
    path("experiments/", experiments_table.experiment_list, name="experiments"),
    path("experiments/compare", experiments_compare.experiment_compare, name="experiments-compare"),
    path("experiments/changes", experiments_compare.experiment_changes, name="experiments-changes"),
    path("experiments/curves", experiments_charts.experiment_curves, name="experiments-curves"),
    path("experiments/columns/", experiments_table.experiment_columns, name="experiments-columns"),
    path(
        "experiments/<str:pipeline>/",
        experiments_table.experiment_list,
        name="experiments-pipeline",
    ),
    path(
        "experiments/<str:pipeline>/columns/",
        experiments_table.experiment_columns,
        name="experiments-columns-pipeline",
    ),
    path("runs/", runs.run_list, name="runs"),
    path("runs/<int:run_id>/", runs.run_detail, name="run"),
    path("runs/<int:run_id>/live/", runs.run_live, name="run-live"),
    path("runs/<int:run_id>/timeline/", runs.run_timeline, name="run-timeline"),
    path("runs/<int:run_id>/cancel/", runs.run_cancel, name="run-cancel"),
    path("runs/<int:run_id>/retry/", runs.run_retry, name="run-retry"),
    path("runs/<int:run_id>/tasks/<path:node>/", tasks.task_panel, name="task"),
    path("runs/<int:run_id>/picture.<str:fmt>", downloads.run_picture, name="run-picture"),
    path("models/", model_pages.model_list, name="models"),
    path("models/<str:name>/", model_pages.model_detail, name="model"),
    path("models/<str:name>/promote/", model_pages.model_promote, name="model-promote"),
    path("models/<str:name>/predict/", model_pages.model_predict, name="model-predict"),
]
