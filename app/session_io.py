"""Autosave and crash recovery of the current experiment.

:func:`install_session_services` gives a window an :class:`AutosaveService`: every N seconds (a
preference under File ▸ Autosave, default one minute) the experiment is written, if it changed, to a
file of this app instance in the per-user data folder. An autosave holds the manifest and the edit log,
not the recording — cheap to write and safe to read while a run goes on, because a replay recomputes
the recording exactly. A clean exit deletes it. A crash leaves it, so the next start asks "Recover
unsaved experiment?" and reopens it through the window's ``open_path`` (which replays it).

Each instance holds a ``QLockFile`` next to its autosave, so two running windows never take each
other's files for crash leftovers. The service only needs ``window.controller.simulation``; it uses the
window's ``experiment_name``, ``experiment_description``, ``view_options()``, ``open_path()``,
``path`` and ``menu_file`` when they exist.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, QSettings, QStandardPaths, QTimer
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QWidget

from canns_engine import CannsEngineError

log = logging.getLogger(__name__)

INTERVALS = (0, 30, 60, 120, 300, 600)
"""Autosave choices in seconds (0: off)."""
DEFAULT_INTERVAL = 60
SETTINGS_KEY = "session/autosave_seconds"
SUFFIX = ".canns"


def autosave_folder() -> Path:
    """``<per-user app data>/autosave`` (created on demand)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".canns-studio") / "autosave"


def orphaned_autosaves(folder: Path) -> list[tuple[Path, QLockFile]]:
    """Autosaves whose instance is gone (crashed), each with its lock now held by us, newest first."""
    found = []
    for path in sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True):
        lock = QLockFile(str(path.with_suffix(".lock")))
        lock.setStaleLockTime(0)  # stale only when its process is gone, however old
        if lock.tryLock(0):  # a live instance holds its own lock; a dead one's lock is stale
            found.append((path, lock))
    return found


class AutosaveService(QObject):
    """Writes the window's experiment to its autosave file every :attr:`interval` seconds if it changed.

    Parameters
    ----------
    window : QWidget
        The main window (see the module docstring for what is used).
    folder : Path, optional
        Where autosaves live (default :func:`autosave_folder`).
    settings : QSettings, optional
        Where the interval preference is kept.
    """

    def __init__(self, window: QWidget, *, folder: Path | None = None,
                 settings: QSettings | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.folder = folder or autosave_folder()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.settings = settings or QSettings()
        self.path = self.folder / f"session-{uuid.uuid4().hex[:12]}{SUFFIX}"
        self._lock = QLockFile(str(self.path.with_suffix(".lock")))
        self._lock.setStaleLockTime(0)  # never expires while we live; stale only once we are gone
        if not self._lock.tryLock(0):
            raise OSError(f"cannot lock the autosave file {self.path}")
        self._saved_state: tuple[int, int, int] | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.autosave_now)
        self.set_interval(self.interval)

    @property
    def interval(self) -> int:
        """Seconds between autosaves (0: off)."""
        value = self.settings.value(SETTINGS_KEY, DEFAULT_INTERVAL, type=int)
        return value if value in INTERVALS else DEFAULT_INTERVAL

    def set_interval(self, seconds: int) -> None:
        """Change (and remember) the interval; 0 turns autosave off and deletes this instance's file."""
        if seconds not in INTERVALS:
            raise ValueError(f"autosave interval must be one of {INTERVALS} seconds, got {seconds!r}")
        self.settings.setValue(SETTINGS_KEY, seconds)
        if seconds:
            self._timer.start(seconds * 1000)
        else:
            self._timer.stop()
            self.discard()

    def _state(self, sim: Any) -> tuple[int, int, int]:
        return id(sim), sim.step_index, len(sim.events)

    def autosave_now(self) -> bool:
        """Write the experiment if it changed since the last autosave; True when a file was written.

        Safe while a run goes on: only the manifest, the edit log and the step count are read.
        """
        controller = getattr(self.window, "controller", None)
        sim = getattr(controller, "simulation", None)
        if sim is None:
            return False
        state = self._state(sim)
        if state == self._saved_state:
            return False
        if sim.step_index == 0 and not sim.events:  # nothing that could be lost
            self.discard()
            self._saved_state = state
            return False
        view = self.window.view_options() if hasattr(self.window, "view_options") else {}
        try:
            from canns_engine.session import save_session  # h5py: on first use, not at start-up

            save_session(self.path, sim, recording=False, view=view,
                         name=getattr(self.window, "experiment_name", "Untitled experiment"),
                         description=getattr(self.window, "experiment_description", ""))
        except (CannsEngineError, OSError, TypeError, ValueError) as exc:
            log.warning("autosave to %s failed: %s", self.path, exc)
            return False
        self._saved_state = state
        return True

    def discard(self) -> None:
        """Delete this instance's autosave (a clean exit, or nothing left to protect)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._saved_state = None

    def shutdown(self) -> None:
        """A clean exit: stop, delete the autosave and release the lock."""
        self._timer.stop()
        self.discard()
        self._lock.unlock()


def offer_recovery(window: QWidget, folder: Path, *, ask: Any = None) -> Path | None:
    """Ask about the newest crash leftover in ``folder`` and reopen it if wanted; returns what was opened.

    Every leftover is deleted afterwards (recovered or not), so the question comes once. ``ask`` (for
    tests) replaces the dialog: ``ask(text) -> bool``.
    """
    orphans = orphaned_autosaves(folder)
    if not orphans:
        return None
    newest, _ = orphans[0]
    try:
        from canns_engine.session import load_session

        loaded = load_session(newest, states=False)
        what = (f"“{loaded.manifest['name']}”, {loaded.steps:,} steps with {len(loaded.events)} edit(s)")
    except CannsEngineError as exc:
        log.warning("unreadable autosave %s: %s", newest, exc)
        what = None
    recovered = None
    if what is not None:
        text = f"CANN Studio did not close normally last time. Recover the unsaved experiment {what}?"
        if ask is None:
            answer = QMessageBox.question(window, "Recover unsaved experiment?", text,
                                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            wanted = answer == QMessageBox.StandardButton.Yes
        else:
            wanted = ask(text)
        if wanted and _reopen_untitled(window, newest):
            recovered = newest
    for path, lock in orphans:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        lock.unlock()
    return recovered


def _reopen_untitled(window: QWidget, path: Path) -> bool:
    """Open an autosave through the window; once it is loaded it has no file (Save asks where)."""
    open_path = getattr(window, "open_path", None)
    if open_path is None:
        return False
    controller = getattr(window, "controller", None)
    if controller is not None and hasattr(controller, "simulation_changed") and hasattr(window, "path"):
        def forget_path(*_: Any) -> None:
            controller.simulation_changed.disconnect(forget_path)
            window.path = None

        controller.simulation_changed.connect(forget_path)
    return bool(open_path(path, remember=False))


def _interval_text(seconds: int) -> str:
    return "Off" if seconds == 0 else f"Every {seconds} s" if seconds < 60 else f"Every {seconds // 60} min"


def _add_interval_menu(window: QWidget, service: AutosaveService) -> None:
    """File ▸ Autosave ▸ Off / Every 30 s / …, placed before the last group (Quit) of the File menu."""
    menu_file = getattr(window, "menu_file", None)
    if menu_file is None:
        return
    separators = [a for a in menu_file.actions() if a.isSeparator()]
    menu = QMenu("Auto&save", menu_file)
    if separators:
        menu_file.insertMenu(separators[-1], menu)
    else:
        menu_file.addMenu(menu)
    group = QActionGroup(menu)
    for seconds in INTERVALS:
        action = QAction(_interval_text(seconds), menu, checkable=True)
        action.setChecked(seconds == service.interval)
        action.triggered.connect(lambda _=False, s=seconds: service.set_interval(s))
        group.addAction(action)
        menu.addAction(action)


def install_session_services(window: QWidget, *, folder: Path | None = None,
                             settings: QSettings | None = None, recover: bool = True) -> AutosaveService:
    """Give ``window`` autosave (with a File ▸ Autosave menu) and, at start, crash recovery.

    The recovery question is asked once the event loop runs (after the window is shown).
    """
    service = AutosaveService(window, folder=folder, settings=settings)
    window.autosave = service
    _add_interval_menu(window, service)
    QApplication.instance().aboutToQuit.connect(service.shutdown)
    if recover:
        QTimer.singleShot(0, lambda: offer_recovery(window, service.folder))
    return service


__all__ = ["AutosaveService", "install_session_services", "offer_recovery", "orphaned_autosaves"]
