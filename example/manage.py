#!/usr/bin/env python
"""The demo project's command line: ``python manage.py mlops run iris`` and the like."""

import os
import sys


def main() -> None:
    """Run a Django management command with the demo's development settings by default."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
