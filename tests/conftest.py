"""Root fixtures shared by every test area."""

from __future__ import annotations

import sys
from pathlib import Path

# Make `tests.lib` importable as `lib` from any test folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))
