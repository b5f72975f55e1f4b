"""The REST API (django-ninja) at ``<mount>/api/``: routers per resource, schemas, auth, errors.

``django_mlops.urls`` mounts :data:`django_mlops.api.site.api`; see docs/api.md.
"""
