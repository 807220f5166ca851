"""Opening and saving experiments: presets (``.json`` manifests) and sessions (``.canns``).

A small adapter over ``canns_engine.manifest`` and ``canns_engine.session`` so the window has one call
for each direction. ``canns_engine.session`` is imported on first use: it brings in h5py, 0.2 s that the
window does not need before it is first shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QWidget

from canns_engine import CannsEngineError, Simulation
from canns_engine.manifest import build_simulation, manifest_of

SESSION_SUFFIX = ".canns"
PRESET_SUFFIX = ".json"
OPEN_FILTER = "CANN Studio experiments (*.canns *.json);;Sessions (*.canns);;Presets (*.json);;All files (*)"
SAVE_FILTERS = {SESSION_SUFFIX: "Session with recording (*.canns)",
                PRESET_SUFFIX: "Preset, settings only (*.json)"}


class UnsupportedModelError(CannsEngineError):
    """The file describes a model type this window has no views for (yet)."""

    def __init__(self, model_type: str, path: Path) -> None:
        super().__init__(f"{path.name}: this experiment uses a {model_type} network, which this version "
                         f"of CANN Studio cannot show yet.")
        self.model_type = model_type


@dataclass
class OpenedExperiment:
    """A file read from disk: its manifest and, for a session, the loaded session."""

    path: Path
    manifest: dict[str, Any]
    session: Any | None = None  # canns_engine.session.LoadedSession

    @property
    def steps(self) -> int:
        """Steps the session had run (0 for a preset)."""
        return 0 if self.session is None else int(self.session.steps)

    def build(self, **overrides: Any) -> Simulation:
        """The Simulation at step 0 (``overrides`` as for :class:`Simulation`)."""
        if self.session is not None:
            return self.session.build_simulation(**overrides)
        return build_simulation(self.manifest, source=str(self.path), **overrides)


def peek_model_type(path: Path) -> str | None:
    """The model type named in a JSON preset, without validating it (``None`` if unreadable)."""
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["model"]["type"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def open_experiment(path: str | Path, is_supported) -> OpenedExperiment:
    """Read a preset or a session.

    Raises
    ------
    UnsupportedModelError
        The model type has no views here (checked before the engine validates it).
    SessionFormatError
        Anything else wrong with the file (the message names the file and the problem).
    """
    path = Path(path)
    model_type = peek_model_type(path) if path.suffix.lower() != SESSION_SUFFIX else None
    if model_type is not None and not is_supported(model_type):
        raise UnsupportedModelError(model_type, path)
    from canns_engine import session

    loaded = session.open_experiment(path)
    opened = OpenedExperiment(path, loaded.manifest, loaded if loaded.steps or loaded.events else None)
    if not is_supported(opened.manifest["model"]["type"]):
        raise UnsupportedModelError(opened.manifest["model"]["type"], path)
    return opened


def save_experiment(path: str | Path, sim: Simulation, *, name: str, description: str,
                    view: dict[str, Any]) -> None:
    """Write ``sim`` as a session (``.canns``: manifest, edits and recording) or a preset (``.json``:
    the current settings only). Call while no worker steps ``sim``."""
    from canns_engine import session

    path = Path(path)
    if path.suffix.lower() == PRESET_SUFFIX:
        session.save_preset(path, manifest_of(sim, name=name, description=description, view=view))
    else:
        session.save_session(path, sim, name=name, description=description, view=view)


def save_manifest(path: str | Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest`` as it is to a ``.json`` file, atomically (for experiments whose manifests the
    basic models' validation does not cover, such as path integration)."""
    from canns_engine.atomic import atomic_output

    text = json.dumps(manifest, indent=2) + "\n"
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def ask_open_path(parent: QWidget, folder: str = "") -> Path | None:
    """File ▸ Open dialog."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open experiment", folder, OPEN_FILTER)
    return Path(path) if path else None


def ask_save_path(parent: QWidget, suggestion: str) -> Path | None:
    """File ▸ Save As dialog; the suffix follows the chosen filter when the name has none."""
    filters = ";;".join(SAVE_FILTERS.values())
    path, chosen = QFileDialog.getSaveFileName(parent, "Save experiment", suggestion, filters)
    if not path:
        return None
    path = Path(path)
    if path.suffix.lower() not in SAVE_FILTERS:
        suffix = next((s for s, f in SAVE_FILTERS.items() if f == chosen), SESSION_SUFFIX)
        path = path.with_name(path.name + suffix)
    return path
