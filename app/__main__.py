"""``python -m app [FILE]``: open CANN Studio (see :func:`app.main.main`)."""

import sys

from app.main import main

sys.exit(main())
