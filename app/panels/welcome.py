"""The welcome page: every ready-made experiment in ``resources/presets``, each with its explanation
and an Open button.

Presets are listed from their JSON without building them, so a preset for a model this version cannot
run (or a damaged file) still appears, with a clear note instead of an Open button that would fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class PresetInfo:
    """What the welcome page shows about one preset file."""

    path: Path
    name: str
    description: str
    model_type: str
    task_type: str
    problem: str  # why it cannot be opened here ('' when it can)
    order: float = float("inf")  # position on the page (the manifest's view.welcome_order)

    @property
    def supported(self) -> bool:
        return not self.problem


def read_preset_info(path: Path, is_supported: Callable[[str], bool]) -> PresetInfo:
    """Read the name, description and model of a preset without validating the experiment."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        model_type = str(data["model"]["type"])
        task = data.get("task")
        task_type = "free run" if task is None else str(task.get("type", "?"))
        name = str(data.get("name") or path.stem)
        description = str(data.get("description", ""))
        order = float((data.get("view") or {}).get("welcome_order", float("inf")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return PresetInfo(path, path.stem, "", "?", "?", f"Cannot read this file: {exc}")
    problem = "" if is_supported(model_type) else (
        f"Not supported yet: this version of CANN Studio cannot show {model_type} networks.")
    return PresetInfo(path, name, description, model_type, task_type, problem, order)


class PresetCard(QFrame):
    """One preset: title, model and protocol, explanation, and an Open button."""

    open_requested = Signal(Path)

    def __init__(self, info: PresetInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.setProperty("card", "preset")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        top = QHBoxLayout()
        title = QLabel(f"<b>{info.name}</b>")
        title.setWordWrap(True)
        top.addWidget(title, 1)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip(str(info.path))
        self.open_button.clicked.connect(lambda: self.open_requested.emit(info.path))
        top.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        meta = QLabel(f"{info.model_type} · {info.task_type} · {info.path.name}")
        meta.setProperty("role", "hint")
        meta.setWordWrap(True)
        layout.addWidget(meta)
        if info.description:
            text = QLabel(info.description)
            text.setWordWrap(True)
            layout.addWidget(text)
        if info.problem:
            note = QLabel(f"⚠ {info.problem}")
            note.setWordWrap(True)
            note.setStyleSheet("color: #ffb340;")
            layout.addWidget(note)
            self.open_button.setText("Details")
            self.open_button.setToolTip("Explain why this experiment cannot be opened")


class WelcomePage(QScrollArea):
    """The list of presets. ``open_requested(path)`` asks the window to open one.

    Parameters
    ----------
    paths : callable
        Returns the preset files to list (re-read by :meth:`refresh`).
    is_supported : callable
        Whether the window can run a model type.
    """

    open_requested = Signal(Path)

    def __init__(self, paths: Callable[[], list[Path]], is_supported: Callable[[str], bool],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._paths = paths
        self._is_supported = is_supported
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.cards: list[PresetCard] = []
        self.refresh()

    def refresh(self) -> None:
        """Re-read the preset folder."""
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        intro = QLabel("<b>Ready-made experiments.</b> Open one, press <b>Space</b> to run, and drag in "
                       "the bump-profile view to move the stimulus. Every experiment is a JSON file you "
                       "can edit and save again.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.cards = []
        infos = [read_preset_info(path, self._is_supported) for path in self._paths()]
        for info in sorted(infos, key=lambda i: (i.order, i.name)):
            card = PresetCard(info)
            card.open_requested.connect(self.open_requested)
            layout.addWidget(card)
            self.cards.append(card)
        if not self.cards:
            layout.addWidget(QLabel("No presets found (resources/presets is empty or missing)."))
        layout.addStretch(1)
        self.setWidget(body)
