"""Entry point of the PyInstaller bundle: ``canns-studio`` with the same command line as the wheel's.

Order matters, which is why the bundle does not start at ``app.cli:main`` directly:

1. ``NUMBA_CACHE_DIR`` is pointed at a per-user writable folder *before* anything imports numba (the
   bundle's own folder may be read-only, and numba decides where its cache goes when it is imported);
2. for a GUI start (no arguments, or a file), the per-user log file and the crash dialog are set up
   before the app's modules are imported, so that even a module missing from the bundle is logged and
   shown instead of the double-clicked app vanishing without a word;
3. then ``app.cli.main`` dispatches exactly as ``canns-studio`` does from a wheel (``--version``, ``run``
   and ``info`` stay headless and never import Qt).
"""

import sys

from app.startup import configure_numba_cache, prepare_gui

configure_numba_cache()

from app.cli import HEADLESS_COMMANDS, main  # noqa: E402  (after the numba cache is configured)

NO_GUI_ARGS = {*HEADLESS_COMMANDS, "--version", "-V", "--help", "-h"}

if __name__ == "__main__":
    args = sys.argv[1:]
    if not (args and args[0] in NO_GUI_ARGS):
        prepare_gui()  # CANNS_STUDIO_DEBUG=1 in the environment turns on debug logging
    sys.exit(main(args))
