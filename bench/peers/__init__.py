"""The same no-op DAGs on django-mlops and on peer frameworks, one module per framework.

Each module exposes ``build(dag, func, workers)`` returning a zero-argument callable
that runs the whole DAG once; ``worker.py`` times it in a fresh process.
"""
