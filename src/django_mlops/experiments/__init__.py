"""Experiments: runs side by side. ``query`` is the filter language of the runs table and API."""
