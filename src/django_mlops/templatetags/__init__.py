"""Template tags of django-mlops' pages (``{% load mlops %}``)."""
