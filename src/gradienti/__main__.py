"""``python -m gradienti`` is the ``gradienti`` command."""

import sys

from .cli import main

sys.exit(main())
