"""The serving benchmark's project: settings, WSGI entry, gunicorn config, set-up scripts.

Used by ``bench/bench_serving.py`` and ``tests/test_bench_serving.py`` with
``bench/`` on ``sys.path`` (``PYTHONPATH``), so it imports as ``serve_bench``.
"""
