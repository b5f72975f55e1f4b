"""The website: server-rendered pages of pipelines and runs (mounted by ``django_mlops.urls``).

One module per page or job: ``pipelines`` (list, page, node details, the Run
form), ``runs`` (list, run page, task panel, cancel, retry), ``live`` (the one
small JSON answer a run page polls), ``timeline``, ``tracebacks``, ``share``
(signed read-only links), ``pictures`` (the cached DAG drawing and downloads),
and ``access`` (login and permissions for every view).
"""
