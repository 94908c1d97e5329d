"""Make ``detectors`` resolve to the project package, not to the ``tests/detectors`` folder.

pytest puts ``tests/`` on ``sys.path`` (for ``tests/conftest.py``), where ``tests/detectors`` would
otherwise be imported as a namespace package shadowing ours. ``pythonpath = ["."]`` in the pytest
options makes this unnecessary.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[3])
if sys.path[:1] != [_ROOT]:
    sys.path.insert(0, _ROOT)
for _name in [m for m in sys.modules if m == "detectors" or m.startswith("detectors.")]:
    if getattr(sys.modules[_name], "__file__", None) is None:
        del sys.modules[_name]
