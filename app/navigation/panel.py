"""The path-integration panel: toolbar, arena, module and error views, and driving by mouse or keyboard.

Driving is closed loop: a drag in the arena steers the agent towards the cursor (slowing down as it gets
there), the arrow keys move it while held; releasing stops it (the command stays, at zero velocity). The
"Random walk" button hands the agent back to the task's random walk.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from canns_engine.hierarchical import NavigationFrame

from ..run_loop import RunState
from ..theme import DARK, Theme
from .arena import ArenaView
from .controller import NAVIGATION_SPEEDS, NavigationController
from .error import ErrorView
from .module import ModuleView

DRIVE_FACTOR = 2.0
"""Driving speed in units of the random walk's mean speed."""
ARRIVAL_TIME = 0.5
"""A steered agent slows down so as to reach the cursor in about this many seconds, plus two chunks (the
command is renewed once per chunk and arrives a chunk late: this keeps it from overshooting)."""
ARROWS = {Qt.Key.Key_Left: (-1.0, 0.0), Qt.Key.Key_Right: (1.0, 0.0), Qt.Key.Key_Up: (0.0, 1.0),
          Qt.Key.Key_Down: (0.0, -1.0)}


def _speed_text(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}×"


class NavigationPanel(QWidget):
    """Views and controls of one path-integration experiment, driven by ``controller``.

    Parameters
    ----------
    controller : NavigationController
        The experiment (the panel becomes its Qt parent and shuts it down when closed).
    parent : QWidget, optional
    """

    def __init__(self, controller: NavigationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        controller.setParent(self)
        self.theme: Theme = DARK
        self._target: np.ndarray | None = None  # cursor being steered towards
        self._held: list[Qt.Key] = []  # arrow keys held, in press order
        net = controller.simulation.net
        self.arena = ArenaView(*controller.arena_size)
        self.module_view = ModuleView(net.params.num_module, net.spacing)
        self.error_view = ErrorView()
        self.views = {"arena": self.arena, "modules": self.module_view, "error": self.error_view}
        for view in self.views.values():
            view.graphics.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._build_toolbar()
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.module_view)
        right.addWidget(self.error_view)
        right.setSizes([640, 260])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.arena)
        split.addWidget(right)
        split.setSizes([560, 440])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._toolbar)
        layout.addWidget(split, 1)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        controller.frame_ingested.connect(self._on_controller_frame_ingested)
        controller.frame_ready.connect(self._on_controller_frame_ready)
        controller.views_reset.connect(self._on_controller_views_reset)
        controller.run_state_changed.connect(self._on_controller_run_state_changed)
        controller.error_occurred.connect(self._on_controller_error_occurred)
        self.arena.steer_requested.connect(self._on_arena_steer_requested)
        self.set_theme(self.theme)
        controller.publish()

    def _build_toolbar(self) -> None:
        self.run_button = self._tool_button("Run", "Run or pause the simulation",
                                            self.controller.toggle_running)
        self.run_button.setCheckable(True)
        self.step_button = self._tool_button("Step", "Advance one display frame", self.controller.step_once)
        self.reset_button = self._tool_button("Reset", "Back to t = 0", self.controller.reset)
        self.walk_button = self._tool_button("Random walk", "Let the random walk drive the agent "
                                             "(drag in the arena or use the arrow keys to steer it yourself)",
                                             self._on_walk_button_clicked)
        self.walk_button.setCheckable(True)
        self.walk_button.setEnabled(self.controller.simulation.task is not None)
        self.speed_box = QComboBox()
        self.speed_box.setToolTip("Simulated seconds per second")
        for speed in NAVIGATION_SPEEDS:
            self.speed_box.addItem(_speed_text(speed), speed)
        self.speed_box.setCurrentIndex(NAVIGATION_SPEEDS.index(self.controller.speed))
        self.speed_box.currentIndexChanged.connect(self._on_speed_box_current_index_changed)
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.hint = QLabel("Drive: drag in the arena or hold the arrow keys")
        self.hint.setProperty("role", "hint")
        bar = self._toolbar = QHBoxLayout()
        for button in (self.run_button, self.step_button, self.reset_button, self.walk_button):
            bar.addWidget(button)
        bar.addWidget(QLabel("Speed"))
        bar.addWidget(self.speed_box)
        bar.addSpacing(12)
        bar.addWidget(self.hint, 1)

    def _tool_button(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    # -- frames -----------------------------------------------------------------------------------------
    def show_frame(self, frame: NavigationFrame) -> None:
        """Draw ``frame`` in every view (what the exporters call)."""
        for view in self.views.values():
            view.show_frame(frame)
        self.walk_button.setChecked(not frame.closed_loop)

    def set_theme(self, theme: Theme) -> None:
        """Recolour every view for ``theme``."""
        self.theme = theme
        for view in self.views.values():
            view.set_theme(theme)

    def _on_controller_frame_ingested(self, frame: NavigationFrame) -> None:
        for view in self.views.values():
            view.ingest(frame)
        if self._target is not None:
            self._steer(frame.position)

    def _on_controller_frame_ready(self, frame: NavigationFrame) -> None:
        self.show_frame(frame)

    def _on_controller_views_reset(self) -> None:
        self._target = None
        self._held.clear()
        for view in self.views.values():
            view.reset()

    def _on_controller_run_state_changed(self, state: RunState) -> None:
        running = state is RunState.RUNNING
        self.run_button.setChecked(running)
        self.run_button.setText("Pause" if running else "Run")

    def _on_controller_error_occurred(self, exc: Exception) -> None:
        self.hint.setText(f"The run stopped: {exc}")

    def _on_speed_box_current_index_changed(self, index: int) -> None:
        self.controller.set_speed(self.speed_box.itemData(index))

    # -- driving ----------------------------------------------------------------------------------------
    @property
    def drive_speed(self) -> float:
        """Speed (m/s) of the agent when the user drives it."""
        return DRIVE_FACTOR * self.controller.speed_scale

    def _on_walk_button_clicked(self, checked: bool) -> None:
        self._target = None
        self.controller.set_velocity(None if checked else (0.0, 0.0))

    def _on_arena_steer_requested(self, target: tuple[float, float] | None) -> None:
        self.setFocus()
        self.walk_button.setChecked(False)
        if target is None:
            self._target = None
            self.controller.set_velocity((0.0, 0.0))
            return
        self._target = np.asarray(target, dtype=float)
        frame = self.controller.latest_frame
        if frame is not None:
            self._steer(frame.position)

    def _steer(self, position: np.ndarray) -> None:
        """Command a velocity from ``position`` towards the cursor."""
        offset = self._target - position
        distance = float(np.hypot(*offset))
        if distance < 1e-9:
            self.controller.set_velocity((0.0, 0.0))
            return
        speed = min(self.drive_speed, distance / (ARRIVAL_TIME + 2 * self.controller.chunk_seconds))
        self.controller.set_velocity(offset / distance * speed)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        if key not in ARROWS:
            super().keyPressEvent(event)
            return
        if not event.isAutoRepeat() and key not in self._held:
            self._held.append(key)
            self._drive_keys()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        if key not in ARROWS:
            super().keyReleaseEvent(event)
            return
        if not event.isAutoRepeat() and key in self._held:
            self._held.remove(key)
            self._drive_keys()

    def _drive_keys(self) -> None:
        """Velocity from the arrow keys held (diagonals at the same speed); none held: stop."""
        self._target = None
        self.walk_button.setChecked(False)
        direction = np.sum([ARROWS[k] for k in self._held], axis=0) if self._held else np.zeros(2)
        norm = math.hypot(*direction)
        velocity = direction / norm * self.drive_speed if norm > 0 else np.zeros(2)
        self.controller.set_velocity(velocity)

    # -- lifetime ---------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the run and wait for its worker (call before discarding the panel)."""
        self.controller.shutdown()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
