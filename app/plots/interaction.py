"""Mouse interaction shared by the views: press or drag to place the stimulus, Shift+click to pulse,
hover to inspect.

pyqtgraph delivers drags to the ViewBox under the mouse; this ViewBox turns them into signals carrying
data coordinates instead of panning the plot.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal


class InteractiveViewBox(pg.ViewBox):
    """A ViewBox that reports left-button presses/drags, Shift+clicks and hovers in data coordinates."""

    pressed = Signal(QPointF)  # left press or drag position (data coordinates)
    released = Signal()  # the drag ended
    shift_clicked = Signal(QPointF)  # Shift + left click
    hovered = Signal(object)  # QPointF in data coordinates, or None when the mouse left

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.setAcceptHoverEvents(True)

    def mouseClickEvent(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return super().mouseClickEvent(ev)
        ev.accept()
        pos = self.mapSceneToView(ev.scenePos())
        if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.shift_clicked.emit(pos)
        else:
            self.pressed.emit(pos)
            self.released.emit()

    def mouseDragEvent(self, ev, axis=None) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        self.pressed.emit(self.mapSceneToView(ev.scenePos()))
        if ev.isFinish():
            self.released.emit()

    def hoverEvent(self, ev) -> None:
        if ev.isExit():
            self.hovered.emit(None)
        else:
            self.hovered.emit(self.mapSceneToView(ev.scenePos()))
