"""URLs of the demo project: the admin, and django-mlops at ``/mlops/``."""

from importlib.util import find_spec

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
]

# The site and API (django_mlops.urls) arrive with the website issue; until then the
# demo still starts, with runs and records browsable in the admin.
if find_spec("django_mlops.urls") is not None:
    urlpatterns.append(path("mlops/", include("django_mlops.urls")))
    home = "/mlops/"
else:
    home = "/admin/django_mlops/run/"
urlpatterns.append(path("", RedirectView.as_view(url=home), name="home"))
