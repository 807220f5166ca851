"""The transport bar: run/pause, step, reset, speed, fast-forward, pulse and stimulus release.

The actions themselves belong to the main window (they also sit in the menus with their shortcuts);
this toolbar shows them next to the speed control.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolBar, QWidget


def speed_text(speed: float | None) -> str:
    """``"10 τ/s"``, ``"0.5 τ/s"`` or ``"max"``."""
    return "max" if speed is None else f"{speed:g} τ/s"


class SpeedControl(QWidget):
    """A slider over a speed ladder with its value as text.

    Speed is the real-time factor: simulated time (in units of τ) per wall-clock second; ``None`` (the
    last step of the ladder) runs as fast as the engine can.

    Parameters
    ----------
    speeds : sequence of float or None
        The ladder, slowest first (``app.controller.SPEEDS``).
    default : float
        The initial speed.
    """

    speed_changed = Signal(object)  # float or None

    def __init__(self, speeds: tuple[float | None, ...], default: float,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.speeds = speeds
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(QLabel("Speed"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, len(speeds) - 1)
        self.slider.setPageStep(1)
        self.slider.setFixedWidth(150)
        self.slider.setValue(speeds.index(default))
        self.slider.setToolTip("Simulated time per second of real time (+ / − keys); 'max' runs as fast "
                               "as the engine can")
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        layout.addWidget(self.slider)
        self.label = QLabel(speed_text(default))
        self.label.setMinimumWidth(64)
        layout.addWidget(self.label)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)

    def speed(self) -> float | None:
        return self.speeds[self.slider.value()]

    def set_speed(self, speed: float | None) -> None:
        """Select the ladder step nearest to ``speed``."""
        if speed is None:
            self.slider.setValue(len(self.speeds) - 1)
            return
        finite = [s for s in self.speeds if s is not None]
        self.slider.setValue(self.speeds.index(min(finite, key=lambda s: abs(s - speed) / s)))

    def faster(self) -> None:
        self.slider.setValue(self.slider.value() + 1)

    def slower(self) -> None:
        self.slider.setValue(self.slider.value() - 1)

    def _on_slider_value_changed(self, index: int) -> None:
        self.label.setText(speed_text(self.speeds[index]))
        self.speed_changed.emit(self.speeds[index])


class TransportBar(QToolBar):
    """Toolbar with the simulation actions and the speed control."""

    def __init__(self, actions: dict[str, QAction], speed: SpeedControl,
                 parent: QWidget | None = None) -> None:
        super().__init__("Transport", parent)
        self.setObjectName("transport_toolbar")
        self.setMovable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in ("run", "step", "reset"):
            self.addAction(actions[name])
        self.addSeparator()
        self.speed = speed
        self.addWidget(speed)
        self.addAction(actions["fast_forward"])
        self.addSeparator()
        self.addAction(actions["pulse"])
        self.addAction(actions["release"])
