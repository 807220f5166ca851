"""Per-user log file for CANN Studio: the only place a double-clicked app can tell what went wrong.

An app started from a desktop icon (or a Windows ``gui-scripts`` launcher, or a PyInstaller windowed
bundle) has no console: ``sys.stderr`` is ``None`` or goes nowhere. So every run logs to a rotating file
in the platform's per-user log folder:

* Linux: ``$XDG_STATE_HOME/canns-studio/log/canns-studio.log`` (``~/.local/state/...`` by default);
* macOS: ``~/Library/Logs/CANN Studio/canns-studio.log``;
* Windows: ``%LOCALAPPDATA%\\canns-studio\\Logs\\canns-studio.log``.

When that folder cannot be written (read-only home, sandbox), the log goes to the temporary folder
instead. A console, when there is one, also gets warnings and errors (everything with ``debug``).

Standard library only: it is set up before numba or Qt are imported, so their import errors are logged.
"""

from __future__ import annotations

import getpass
import logging
import logging.handlers
import os
import platform
import sys
import tempfile
from pathlib import Path

LOG_NAME = "canns-studio.log"
MAX_BYTES = 1_000_000
"""Size at which the log rotates; with :data:`BACKUPS` old files, at most ~4 MB on disk."""
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"

log = logging.getLogger("canns_studio")


def user_log_dir() -> Path:
    """The platform's per-user folder for CANN Studio's log files (not created here)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "canns-studio" / "Logs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / "CANN Studio"
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "canns-studio" / "log"


def user_temp_dir() -> Path:
    """``<tmp>/canns-studio-<user>``: the last-resort writable folder (the user name keeps users of a
    shared /tmp apart)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"canns-studio-{user}"


def _fallback_log_dir() -> Path:
    return user_temp_dir() / "log"


def _open_handler(folder: Path) -> logging.handlers.RotatingFileHandler | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return logging.handlers.RotatingFileHandler(
            folder / LOG_NAME, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        return None


def _app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("canns-studio")
    except PackageNotFoundError:
        return "unknown"


def setup_logging(debug: bool = False) -> Path:
    """Send the root logger to the per-user log file (and to stderr when there is one); return its path.

    Safe to call more than once: handlers from an earlier call are replaced, not duplicated.
    ``debug`` (or the environment variable ``CANNS_STUDIO_DEBUG=1``) logs everything at DEBUG level,
    and echoes it all to the console; otherwise INFO goes to the file and WARNING up to the console.

    Raises
    ------
    OSError
        Only when neither the per-user folder nor the temporary folder can hold a file.
    """
    debug = debug or os.environ.get("CANNS_STUDIO_DEBUG", "") not in ("", "0")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "canns_studio", False)]:
        root.removeHandler(handler)
        handler.close()

    preferred = user_log_dir()
    file_handler = _open_handler(preferred)
    if file_handler is None:
        file_handler = _open_handler(_fallback_log_dir())
    if file_handler is None:
        raise OSError(f"cannot write a log file in {preferred} nor in {_fallback_log_dir()}")
    handlers: list[logging.Handler] = [file_handler]
    if sys.stderr is not None:  # None under pythonw.exe and in windowed bundles
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.DEBUG if debug else logging.WARNING)
        handlers.append(console)
    formatter = logging.Formatter(FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.canns_studio = True  # type: ignore[attr-defined]  # marks ours for a later call
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    logging.captureWarnings(True)

    path = Path(file_handler.baseFilename)
    if path.parent != preferred:
        log.warning("log folder %s is not writable; logging to %s", preferred, path)
    log.info("CANN Studio %s starting: Python %s on %s, frozen=%s, pid %d", _app_version(),
             platform.python_version(), platform.platform(), getattr(sys, "frozen", False), os.getpid())
    return path
