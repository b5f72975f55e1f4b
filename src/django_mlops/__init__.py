"""django-mlops: ML Ops without the bloat, as a Django app."""
