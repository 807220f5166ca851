"""Entry point of the PyInstaller bundle: ``canns-studio`` with the same command line as the wheel's.

The bundle does not start at ``app.cli:main`` directly because ``NUMBA_CACHE_DIR`` must point at a
per-user writable folder *before* anything imports numba: the bundle's own folder may be read-only, and
numba decides where its cache goes when it is imported. Then ``app.cli.main`` dispatches exactly as
``canns-studio`` does from a wheel: ``--version``, ``run`` and ``info`` stay headless and never import
Qt; the GUI path (``app.main.main``) opens the per-user log file and installs the crash dialog before
it imports anything heavy.
"""

import sys

from app.startup import configure_numba_cache

configure_numba_cache()

from app.cli import main  # noqa: E402  (after the numba cache is configured)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
