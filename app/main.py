"""Start the CANN Studio window: ``main(argv)`` (``python -m app [FILE]``, ``make run``, the launchers).

Order matters and is kept here: the numba cache folder, the log file and the crash dialog are set up
first (``app.startup.prepare_gui``, before numba is imported), then Qt, the theme and the window. The
window is created inside :func:`main` and deleted after the event loop ends, and ``aboutToQuit`` waits
for every worker, so nothing outlives the application (widgets alive at interpreter exit crash it).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Open the window, optionally with an experiment; returns the exit code.

    Parameters
    ----------
    argv : list of str, optional
        ``[FILE]``: a ``.json`` preset or ``.canns`` session to open (default: ``sys.argv[1:]``).
        Arguments starting with ``-`` are passed to Qt.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    files = [a for a in args if not a.startswith("-")]
    from .startup import prepare_gui, report_first_window

    prepare_gui()
    from PySide6.QtWidgets import QApplication
    from superqt.utils import WorkerBase

    from canns_engine.sink import spill_to_disk

    from . import resources
    from .settings import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication([sys.argv[0], *(a for a in args if a.startswith("-"))])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    from PySide6.QtGui import QIcon

    app.setWindowIcon(QIcon(str(resources.icon_path("canns-studio.svg"))))
    app.aboutToQuit.connect(lambda: WorkerBase.await_workers(msecs=3000))
    spill_to_disk()  # a very long run continues on disk instead of filling memory

    from .main_window import MainWindow

    window = MainWindow(files[0] if files else None)
    window.show()
    report_first_window(window)
    code = app.exec()
    window.controller.shutdown()
    del window
    return code


if __name__ == "__main__":
    sys.exit(main())
