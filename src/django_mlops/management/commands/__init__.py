"""``python manage.py mlops``."""
