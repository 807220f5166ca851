"""Unexpected exceptions: log them and tell the user where the log is, instead of vanishing silently.

A GUI started by double-click has no console, so an uncaught exception printed to stderr is lost, and
PySide6 reports exceptions raised in slots through ``sys.excepthook`` and then carries on. The hook
installed here

* writes the traceback to the log (see :mod:`app.logging_setup`),
* and, when a ``QApplication`` exists and there is a screen, shows one error dialog with the message
  and the log file's path (queued to the GUI thread when the exception happened in a worker thread).

It never imports Qt itself: without a ``QApplication`` (headless ``run``/``info``, tests, early start-up)
it only logs. On the ``offscreen``/``minimal`` platforms no dialog is shown either, as a modal dialog
with nobody to close it would hang a headless run. Hard crashes (segfaults in native code) are written
by :mod:`faulthandler` to ``canns-studio-faults.log`` next to the log.
"""

from __future__ import annotations

import faulthandler
import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import IO

log = logging.getLogger("canns_studio.crash")

HEADLESS_PLATFORMS = ("offscreen", "minimal")
"""Qt platforms with no user to close a dialog: errors are only logged there."""

_fault_file: IO[str] | None = None  # kept open for faulthandler for the life of the process


class CrashReporter:
    """Logs unexpected exceptions and shows at most one error dialog at a time."""

    def __init__(self, log_path: Path):
        self.log_path = Path(log_path)
        self._dialog_open = False

    def handle(self, exc_type: type[BaseException], exc: BaseException,
               tb: TracebackType | None, thread_name: str | None = None) -> None:
        """Log the exception and show the dialog (the body of both excepthooks)."""
        where = f" in thread {thread_name}" if thread_name else ""
        log.critical("Unexpected error%s", where, exc_info=(exc_type, exc, tb))
        message = "".join(traceback.format_exception_only(exc_type, exc)).strip()
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        self._show_soon(message, details)

    def excepthook(self, exc_type: type[BaseException], exc: BaseException,
                   tb: TracebackType | None) -> None:
        """``sys.excepthook``: Ctrl+C keeps its usual behaviour; everything else is reported."""
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        name = None if threading.current_thread() is threading.main_thread() else \
            threading.current_thread().name
        self.handle(exc_type, exc, tb, name)

    def threading_excepthook(self, args: threading.ExceptHookArgs) -> None:
        """``threading.excepthook``: exceptions escaping a Python thread's ``run``."""
        if args.exc_type is SystemExit:  # the default hook ignores it too
            return
        name = args.thread.name if args.thread is not None else "?"
        self.handle(args.exc_type, args.exc_value, args.exc_traceback, name)

    def _show_soon(self, message: str, details: str) -> None:
        widgets = sys.modules.get("PySide6.QtWidgets")
        if widgets is None:
            return
        app = widgets.QApplication.instance()
        if not isinstance(app, widgets.QApplication) or app.platformName() in HEADLESS_PLATFORMS:
            return
        if threading.current_thread() is threading.main_thread():
            self._show(message, details)
        else:  # widgets live in the GUI thread only: queue the dialog there
            from PySide6.QtCore import QTimer

            QTimer.singleShot(0, app, lambda: self._show(message, details))

    def _show(self, message: str, details: str) -> None:
        if self._dialog_open:  # an error while the dialog is up (or a burst of them): logged only
            return
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QMessageBox

        self._dialog_open = True
        try:
            box = QMessageBox(QMessageBox.Icon.Critical, "CANN Studio — unexpected error",
                              f"Something went wrong:\n\n{message}")
            box.setInformativeText(
                "The details were written to the log file:\n"
                f"{self.log_path}\n\n"
                "CANN Studio may be unstable now: save your work under a new name and restart it.")
            box.setDetailedText(details)
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # copy the path
            box.exec()
        except Exception:  # a broken Qt must not turn one error into an endless loop of them
            log.exception("could not show the error dialog")
        finally:
            self._dialog_open = False


def install_excepthook(log_path: Path) -> CrashReporter:
    """Route uncaught exceptions (main and other threads) to the log and an error dialog.

    Call it right after :func:`app.logging_setup.setup_logging`, with the path that returned, and before
    the ``QApplication`` is created: errors are logged from then on, and shown as a dialog as soon as the
    application exists. Also turns on :mod:`faulthandler` into ``canns-studio-faults.log`` beside the log.
    Returns the reporter (tests call its methods directly).
    """
    global _fault_file
    reporter = CrashReporter(log_path)
    sys.excepthook = reporter.excepthook
    threading.excepthook = reporter.threading_excepthook
    if _fault_file is None:
        try:
            _fault_file = open(Path(log_path).with_name("canns-studio-faults.log"), "a",  # noqa: SIM115
                               encoding="utf-8")
            faulthandler.enable(_fault_file)
        except OSError:
            log.warning("faulthandler disabled: cannot open its file next to %s", log_path)
    return reporter
