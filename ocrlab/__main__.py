"""``python -m ocrlab``: see ``ocrlab.cli``."""
import sys

from .cli import main

sys.exit(main())
