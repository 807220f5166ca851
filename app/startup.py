"""What the GUI does before anything heavy is imported, and how long start-up took.

* :func:`configure_numba_cache` points ``NUMBA_CACHE_DIR`` at a per-user writable folder. It must run
  before numba is imported: a frozen bundle or a read-only install has no writable folder next to the
  code, where numba would otherwise put (or fail to find a place for) its cache.
* :func:`prepare_gui` does that, opens the per-user log file and installs the crash dialog: the three
  things a double-clicked app needs before Qt, numba and the main window are imported.
* :func:`report_first_window` logs the time from process start to the first painted window and, for
  measurements and smoke tests, closes the window again when ``CANNS_STUDIO_EXIT_AFTER_SHOWN`` is set.

Standard library only at import time (``app/__init__.py`` is empty, so importing this is cheap).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.crash_handler import install_excepthook
from app.logging_setup import setup_logging, user_temp_dir

log = logging.getLogger("canns_studio.startup")

EXIT_AFTER_SHOWN_ENV = "CANNS_STUDIO_EXIT_AFTER_SHOWN"
"""Seconds to keep the first window open before closing it (measurements, smoke tests); unset: stay."""
TIMING_PREFIX = "canns-studio: first window shown after"
"""Start of the stdout line printed when :data:`EXIT_AFTER_SHOWN_ENV` is set (scripts parse it)."""
READY_PREFIX = "canns-studio: experiment ready after"
"""Start of the second such line: when the window's content (``then`` of :func:`report_first_window`)
was ready."""


def _process_age() -> float:
    """Seconds since this process started (Linux: from /proc, so interpreter start-up counts); else 0."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


_T0 = time.perf_counter() - _process_age()


def elapsed() -> float:
    """Seconds since the process started (since this module was imported where /proc is missing)."""
    return time.perf_counter() - _T0


def user_cache_root() -> Path:
    """Per-user cache folder for numba (same place as ``canns_engine._cache.user_cache_root``).

    Repeated here because importing ``canns_engine`` would import numba — the thing this must precede.
    ``tests/test_packaging.py`` checks that both agree.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "canns-studio" / "numba"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def use_large_offscreen_screen(width: int = 1920, height: int = 1200) -> None:
    """Give Qt's offscreen platform (the default here when no platform is set) a ``width`` × ``height``
    screen instead of its 800 × 600, so a 1400 × 900 main window keeps its size (tests, screenshots).
    Call it before the QApplication exists; another platform is left alone."""
    import json

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if os.environ["QT_QPA_PLATFORM"] != "offscreen":
        return
    config = Path(tempfile.gettempdir()) / f"canns-studio-offscreen-{width}x{height}.json"
    config.write_text(json.dumps({"screens": [{"name": "offscreen", "x": 0, "y": 0, "width": width,
                                               "height": height, "logicalDpi": 96, "logicalBaseDpi": 96,
                                               "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def configure_numba_cache() -> Path:
    """Set ``NUMBA_CACHE_DIR`` to a writable per-user folder (unless it already names one); return it.

    Order of preference: an existing writable ``$NUMBA_CACHE_DIR``, :func:`user_cache_root`, then
    ``<tmp>/canns-studio-<user>/numba``. Call it before numba is imported; if numba already is, its live
    configuration is updated too (the engine adds its own ``engine-<fingerprint>`` sub-folder).
    """
    given = os.environ.get("NUMBA_CACHE_DIR")
    candidates = [Path(given)] if given else []
    candidates += [user_cache_root(), user_temp_dir() / "numba"]
    folder = next((c for c in candidates if _writable(c)), candidates[-1])
    if given and folder != Path(given):
        log.warning("NUMBA_CACHE_DIR=%s is not writable; using %s", given, folder)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    if "numba" in sys.modules:
        from numba.core import config

        config.CACHE_DIR = str(folder)
    return folder


def prepare_gui(debug: bool = False) -> Path:
    """Numba cache, per-user log file and crash dialog, in that order; returns the log file's path.

    Call it first thing when the GUI starts (before Qt, numba or the main window are imported);
    calling it again is harmless.
    """
    cache = configure_numba_cache()
    log_path = setup_logging(debug)
    install_excepthook(log_path)
    log.info("numba cache: %s; log file: %s", cache, log_path)
    return log_path


def report_first_window(window: Any, then: Callable[[], None] | None = None) -> None:
    """Log how long the process took to show ``window``; call it right after ``window.show()``.

    ``then`` runs right after that first paint (the main window opens its experiment there), and the time
    at which it returned is reported too (a line starting with :data:`READY_PREFIX`).

    The time is taken when the window is first exposed on screen and the event loop has painted it;
    the GUI thread's CPU time is logged beside it (on a busy machine the wall time is inflated by waiting
    for a core, the CPU time much less so).
    With ``CANNS_STUDIO_EXIT_AFTER_SHOWN=<seconds>`` the same time is printed to stdout (a line starting
    with :data:`TIMING_PREFIX`) and the window is closed after that many seconds, which ends the app.
    """
    from PySide6.QtCore import QEvent, QObject, QTimer

    handle = window.windowHandle()

    class _FirstExpose(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Expose and handle.isExposed():
                handle.removeEventFilter(self)
                QTimer.singleShot(0, window, _shown)  # after this expose's paint
            return False

    def _shown() -> None:
        seconds, cpu = elapsed(), time.thread_time()
        log.info("first window shown %.2f s after the process started (GUI thread's CPU time %.2f s)",
                 seconds, cpu)
        linger = os.environ.get(EXIT_AFTER_SHOWN_ENV)
        if linger and sys.stdout is not None:
            print(f"{TIMING_PREFIX} {seconds:.3f} s (GUI thread CPU {cpu:.3f} s)", flush=True)
        if then is not None:
            then()
            ready, cpu = elapsed(), time.thread_time()
            log.info("ready %.2f s after the process started (GUI thread's CPU time %.2f s)", ready, cpu)
            if linger and sys.stdout is not None:
                print(f"{READY_PREFIX} {ready:.3f} s (GUI thread CPU {cpu:.3f} s)", flush=True)
        if linger:
            QTimer.singleShot(round(float(linger) * 1000), window, window.close)

    if handle is not None and not handle.isExposed():
        watcher = _FirstExpose(window)
        handle.installEventFilter(watcher)
    else:  # already on screen (or no native window yet): the next event-loop turn is the best we have
        QTimer.singleShot(0, window, _shown)
