"""Lets the unit tests import their pure test data (``factories``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
