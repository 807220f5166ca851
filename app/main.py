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

    from canns_engine.sink import spill_to_disk

    from . import resources
    from .settings import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication([sys.argv[0], *(a for a in args if a.startswith("-"))])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    from PySide6.QtGui import QIcon

    app.setWindowIcon(QIcon(str(resources.icon_path("canns-studio.svg"))))
    app.setDesktopFileName("canns-studio")  # Wayland/taskbars find the icon by the .desktop name
    stragglers: list[bool] = []
    app.aboutToQuit.connect(lambda: stragglers.append(not _stop_workers()))
    spill_to_disk()  # a very long run continues on disk instead of filling memory

    from .main_window import MainWindow
    from .session_io import install_session_services

    window = MainWindow(files[0] if files else None, defer_open=True)
    window.controller.compile_in_helpers = True  # first start: compile in helper processes, all models
    install_session_services(window)  # autosave, crash recovery
    open_files_from_the_desktop(app, window)
    window.show()
    report_first_window(window, then=window.open_initial)  # the window first, then its experiment
    code = app.exec()
    window.controller.shutdown()
    import shiboken6

    shiboken6.delete(window)  # now, not at interpreter exit (widgets alive then crash the process)
    if any(stragglers):
        _exit_now(code)
    return code


def open_files_from_the_desktop(app, window) -> None:
    """Open the files macOS hands over in ``QFileOpenEvent``s (a double-clicked ``.canns`` session, or one
    dropped on the Dock icon) in ``window``. Linux and Windows pass such files on the command line."""
    from PySide6.QtCore import QEvent, QObject

    class FileOpenFilter(QObject):
        def eventFilter(self, watched, event) -> bool:
            if event.type() == QEvent.Type.FileOpen and event.file():
                window.open_path(event.file())
                return True
            return False

    app.installEventFilter(FileOpenFilter(window))  # parented: removed with the window


def _stop_workers() -> bool:
    """Stop the helper processes compiling kernels, and give running workers 3 s to stop at quit; False
    if one is still busy (compiling kernels in this process)."""
    from .controller import KERNELS
    from .workers import Worker

    KERNELS.stop()

    if Worker.await_workers(msecs=3000):
        return True
    import logging

    logging.getLogger(__name__).warning("quitting with %d worker(s) still busy", len(Worker.running))
    return False


def _exit_now(code: int) -> None:
    """End the process without waiting for a worker that is still compiling kernels.

    numba's compilation cannot be interrupted, and Qt's thread pool would keep the process alive until
    it ends (up to a minute on a first start). Everything worth keeping is saved by now (settings and
    autosave at close), and numba writes its cache files atomically (temporary file, then rename), so
    abandoning the compilation loses only that work.
    """
    import logging
    import os

    logging.getLogger(__name__).warning("exiting without waiting for the kernel compilation to finish")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
