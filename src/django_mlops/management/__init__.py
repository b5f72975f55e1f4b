"""Django management commands of django-mlops."""
