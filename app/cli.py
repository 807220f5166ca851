"""The ``canns-studio`` command: the GUI by default, ``run``/``info``/``warm-up`` headless, ``--version``.

::

    canns-studio [FILE]                 open the app (FILE: a .canns session or a .json preset)
    canns-studio run FILE [options]     run an experiment without a GUI (canns-studio run --help)
    canns-studio info FILE              print a session's or preset's summary
    canns-studio warm-up [MODEL ...]    compile the models' kernels now (the app's first start does it)
    canns-studio --version

Only the GUI path imports Qt; ``--version`` imports nothing heavy at all.
"""

from __future__ import annotations

import sys

HEADLESS_COMMANDS = frozenset({"run", "info", "warm-up"})
USAGE = __doc__.split("::", 1)[1].split("\n\n")[1]


def version() -> str:
    """The installed version, read from the package metadata (no engine or Qt import)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("canns-studio")
    except PackageNotFoundError:
        return "0+unknown"


def main(argv: list[str] | None = None) -> int:
    """Dispatch the command line; returns the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] in (["--version"], ["-V"]):
        print(f"canns-studio {version()}")
        return 0
    if args[:1] in (["--help"], ["-h"]):
        print(f"usage:\n{USAGE}")
        return 0
    if args and args[0] in HEADLESS_COMMANDS:
        from canns_engine.cli import main as headless_main

        return headless_main(args, movie_writer=_write_movie)
    from app.main import main as gui_main

    return gui_main(args)


def _write_movie(*args, **kwargs) -> None:
    """Render a recording to a movie with the app's views, offscreen (Qt is imported only here)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.export.movie import export_recording_movie

    export_recording_movie(*args, **kwargs)


if __name__ == "__main__":
    sys.exit(main())
