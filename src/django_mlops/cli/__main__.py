"""``python -m django_mlops.cli``: the ``mlops`` console script."""

import sys

from .console import main

sys.exit(main())
