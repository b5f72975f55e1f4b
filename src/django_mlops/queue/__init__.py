"""The run queue: queued Run rows, the claims and leases on them, and ``mlops worker``.

``enqueue_run`` is how the API and the website start a run: it validates what is
asked and answers with a ``queued`` Run row at once; a worker executes it.
"""

from .enqueue import enqueue_run

__all__ = ["enqueue_run"]
