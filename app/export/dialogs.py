"""The export dialogs: movie settings and image settings. They only collect choices; the actions run them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .movie import MovieSettings

RESOLUTIONS = ((640, 360), (854, 480), (1280, 720), (1920, 1080), (3840, 2160))
MOVIE_FILTER = "MP4 video (*.mp4);;Animated GIF (*.gif)"
IMAGE_FILTER = "PNG image (*.png);;SVG vector image (*.svg)"


def _ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def _file_row(edit: QLineEdit, browse) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    layout.addWidget(button)
    return row


class MovieDialog(QDialog):
    """Movie of the current experiment (re-run) or of a recorded session file with states.

    Parameters
    ----------
    views : list of str
        Names of the views that can be filmed.
    t_end : float
        Simulated time the current experiment has reached (the default time range).
    suggestion : Path
        Default output file.
    """

    def __init__(self, views: list[str], t_end: float, suggestion: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export movie")
        form = QFormLayout()
        self.rerun = QRadioButton("Re-run the current experiment")
        self.recorded = QRadioButton("Recorded session file (with states):")
        self.rerun.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.rerun)
        group.addButton(self.recorded)
        self.session_path = QLineEdit()
        self.session_path.setPlaceholderText("a .canns file recorded with full states")
        source = QVBoxLayout()
        source.addWidget(self.rerun)
        source.addWidget(self.recorded)
        source.addWidget(_file_row(self.session_path, self._browse_session))
        form.addRow("Source", source)
        self.whole = QCheckBox("Whole panel")
        self.whole.setChecked(True)
        self.view_boxes = {name: QCheckBox(name) for name in views}
        grid = QGridLayout()
        grid.addWidget(self.whole, 0, 0, 1, 3)
        for i, box in enumerate(self.view_boxes.values()):
            box.setChecked(True)
            box.setEnabled(False)
            grid.addWidget(box, 1 + i // 3, i % 3)
        self.whole.toggled.connect(lambda on: [b.setEnabled(not on) for b in self.view_boxes.values()])
        form.addRow("Views", grid)
        self.fps = QSpinBox(minimum=1, maximum=120, value=30, suffix=" frames/s")
        form.addRow("Frame rate", self.fps)
        self.resolution = QComboBox()
        for w, h in RESOLUTIONS:
            self.resolution.addItem(f"{w} × {h}", (w, h))
        self.resolution.setCurrentIndex(RESOLUTIONS.index((1280, 720)))
        form.addRow("Resolution", self.resolution)
        self.every_step = QCheckBox("one frame per recorded step")
        self.duration = QDoubleSpinBox(minimum=0.5, maximum=36_000, value=10.0, suffix=" s", decimals=1)
        self.every_step.toggled.connect(lambda on: self.duration.setEnabled(not on))
        length = QHBoxLayout()
        length.addWidget(self.duration)
        length.addWidget(self.every_step)
        form.addRow("Movie length", length)
        self.t_start = QDoubleSpinBox(minimum=0.0, maximum=1e9, value=0.0, decimals=2)
        self.t_stop = QDoubleSpinBox(minimum=0.0, maximum=1e9, value=max(t_end, 0.0), decimals=2)
        span = QHBoxLayout()
        span.addWidget(self.t_start)
        span.addWidget(QLabel("to"))
        span.addWidget(self.t_stop)
        form.addRow("Time range (t)", span)
        self.timestamp = QCheckBox("time stamp above the views")
        self.timestamp.setChecked(True)
        self.light = QCheckBox("light palette")
        style = QHBoxLayout()
        style.addWidget(self.timestamp)
        style.addWidget(self.light)
        form.addRow("Style", style)
        self.output = QLineEdit(str(suggestion))
        form.addRow("Save as", _file_row(self.output, self._browse_output))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(_ok_cancel(self))

    def _browse_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Recorded session", "", "Sessions (*.canns)")
        if path:
            self.session_path.setText(path)
            self.recorded.setChecked(True)

    def _browse_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save movie", self.output.text(), MOVIE_FILTER)
        if path:
            self.output.setText(path)

    def source_path(self) -> Path | None:
        """The session file to film, or ``None`` to re-run the current experiment."""
        text = self.session_path.text().strip()
        return Path(text) if self.recorded.isChecked() and text else None

    def settings(self) -> MovieSettings:
        """The choices as :class:`MovieSettings` (raises ``ValueError`` for an unusable file name)."""
        views = None if self.whole.isChecked() else [n for n, b in self.view_boxes.items() if b.isChecked()]
        if views == []:
            raise ValueError("choose at least one view")
        return MovieSettings(Path(self.output.text()), fps=self.fps.value(),
                             size=self.resolution.currentData(),
                             duration=None if self.every_step.isChecked() else self.duration.value(),
                             t_start=self.t_start.value(), t_stop=self.t_stop.value(), views=views,
                             timestamp=self.timestamp.isChecked(), light=self.light.isChecked())


class ImageDialog(QDialog):
    """Which view, at what DPI, in which palette; the file name is asked afterwards."""

    def __init__(self, views: list[str], current: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export image")
        form = QFormLayout(self)
        self.view = QComboBox()
        self.view.addItems(views)
        if current in views:
            self.view.setCurrentText(current)
        form.addRow("View", self.view)
        self.dpi = QSpinBox(minimum=72, maximum=1200, value=300, singleStep=50, suffix=" dpi")
        form.addRow("Resolution (PNG)", self.dpi)
        self.light = QCheckBox("light palette (for print)")
        self.light.setChecked(True)
        form.addRow("Style", self.light)
        form.addRow(_ok_cancel(self))


def ask_image_path(parent: QWidget, suggestion: Path) -> Path | None:
    """Save dialog for an image; adds ``.png`` when the name has no image extension."""
    path, chosen = QFileDialog.getSaveFileName(parent, "Save image", str(suggestion), IMAGE_FILTER)
    if not path:
        return None
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        path = path.with_name(path.name + (".svg" if "svg" in chosen.lower() else ".png"))
    return path


__all__ = ["ImageDialog", "MovieDialog", "ask_image_path"]
