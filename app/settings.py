"""User preferences kept between runs (QSettings): window geometry, dock layout, theme, recent files.

These are not part of an experiment: a session file never stores them, and they never change what a
simulation computes. Tests point QSettings at a temporary folder (``QSettings.setPath``) so they never
touch the user's real preferences.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "CANN Studio"
APPLICATION = "CANN Studio"
MAX_RECENT = 8
LAYOUT_VERSION = 3
"""Bumped whenever the set of docks changes, so an old saved layout is ignored instead of misapplied."""
THEMES = ("dark", "light")


class Settings:
    """Typed accessors over one :class:`QSettings` store.

    Parameters
    ----------
    store : QSettings, optional
        Defaults to the per-user store of CANN Studio.
    """

    def __init__(self, store: QSettings | None = None) -> None:
        # INI everywhere (not the registry or plists): one readable file, and QSettings.setPath can move it
        self._store = store if store is not None else QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)

    # -- window ---------------------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        """Saved main-window geometry, or ``None``."""
        value = self._store.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_geometry(self, value: QByteArray) -> None:
        self._store.setValue("window/geometry", value)

    def dock_state(self) -> QByteArray | None:
        """Saved dock/toolbar layout of the current :data:`LAYOUT_VERSION`, or ``None``."""
        if self._store.value("window/layout_version", 0, type=int) != LAYOUT_VERSION:
            return None
        value = self._store.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_dock_state(self, value: QByteArray) -> None:
        self._store.setValue("window/state", value)
        self._store.setValue("window/layout_version", LAYOUT_VERSION)

    def clear_layout(self) -> None:
        """Forget geometry and dock layout (View ▸ Reset layout)."""
        for key in ("window/geometry", "window/state", "window/layout_version"):
            self._store.remove(key)

    # -- appearance -----------------------------------------------------------------------------------
    def theme(self) -> str:
        """``"dark"`` or ``"light"`` (dark by default)."""
        value = self._store.value("appearance/theme", "dark", type=str)
        return value if value in THEMES else "dark"

    def set_theme(self, name: str) -> None:
        if name not in THEMES:
            raise ValueError(f"theme must be one of {THEMES}, got {name!r}")
        self._store.setValue("appearance/theme", name)

    # -- files ----------------------------------------------------------------------------------------
    def recent_files(self) -> list[Path]:
        """Recently opened or saved experiments that still exist, newest first."""
        raw = self._store.value("files/recent", [], type=list) or []
        return [Path(p) for p in raw if isinstance(p, str) and Path(p).exists()][:MAX_RECENT]

    def add_recent_file(self, path: str | Path) -> None:
        """Put ``path`` at the top of the recent-files list."""
        path = str(Path(path).resolve())
        recent = [str(p) for p in self.recent_files() if str(p) != path]
        self._store.setValue("files/recent", [path, *recent][:MAX_RECENT])

    def clear_recent_files(self) -> None:
        self._store.remove("files/recent")

    def sync(self) -> None:
        """Write pending changes to disk."""
        self._store.sync()
