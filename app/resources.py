"""Where CANN Studio's resource files live: the one place that resolves ``resources/``.

Three layouts are supported:

* a source checkout: ``<repo>/resources`` next to the ``app`` package;
* an installed wheel: ``app/_resources`` (``pyproject.toml`` force-includes ``resources`` there);
* a PyInstaller bundle: ``<sys._MEIPASS>/resources``.

Everything else asks this module (:func:`resource_dir`, :func:`presets_dir`, :func:`icon_path`), so a
packaging change touches one file.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent


def _candidates() -> list[Path]:
    found = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        found.append(Path(bundle) / "resources")
    found.append(APP_DIR / "_resources")
    found.append(APP_DIR.parent / "resources")
    return found


@cache
def resource_dir() -> Path:
    """The ``resources`` folder of this installation.

    Raises
    ------
    FileNotFoundError
        When none of the known layouts has it (a broken install); the message lists where it looked.
    """
    candidates = _candidates()
    for folder in candidates:
        if folder.is_dir():
            return folder
    raise FileNotFoundError("CANN Studio's resources folder is missing; looked in "
                            + ", ".join(str(c) for c in candidates))


def presets_dir() -> Path:
    """Folder of the ready-made experiments (``.json`` manifests) shown on the welcome page."""
    return resource_dir() / "presets"


def preset_paths() -> list[Path]:
    """Every preset file, sorted by file name (the welcome page's order)."""
    folder = presets_dir()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def icon_path(name: str) -> Path:
    """Path of an icon file in ``resources/icons`` (e.g. ``"canns-studio.svg"``)."""
    return resource_dir() / "icons" / name


DEFAULT_PRESET = "smooth_tracking.json"
"""The experiment a new window (and File ▸ New) starts with."""


def default_preset_path() -> Path:
    """Path of the default experiment's preset."""
    return presets_dir() / DEFAULT_PRESET
