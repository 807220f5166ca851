"""Suite-wide set-up: every GUI test runs headless."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
