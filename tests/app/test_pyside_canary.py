"""Canary for the PySide6 6.12.0 + CPython 3.11 abort: void-returning Qt calls dropped a reference to
None, and after ~1,000 of them the interpreter died with ``Fatal Python error: none_dealloc``.

Run in a subprocess, so an abort fails this test instead of killing the test run.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from PySide6.QtCore import QObject
obj = QObject()
before = sys.getrefcount(None)
for i in range(5000):
    obj.setObjectName(f"canary{i}")
after = sys.getrefcount(None)
print(before, after)
assert after >= before - 50, f"None lost {before - after} references in 5,000 void Qt calls"
"""


def test_void_qt_calls_keep_references_to_none():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    before, after = map(int, done.stdout.split())
    assert after >= before - 50
