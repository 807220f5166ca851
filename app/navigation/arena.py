"""The arena: the box, the true and the decoded path, both positions now, and the place-cell rate map.

A press-and-drag in the box steers the agent: :attr:`ArenaView.steer_requested` carries the cursor's
position in metres while the button is held and ``None`` when it is released.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QWidget

from canns_engine.hierarchical import NavigationFrame

from ..plots.base import LevelTracker
from ..theme import Theme
from .base import NavigationView

TRAIL_POINTS = 4000
"""Frames kept in the path trails."""


class _SteeringViewBox(pg.ViewBox):
    """A view box that reports left-button drags (in data coordinates) instead of panning."""

    def __init__(self, on_drag) -> None:
        super().__init__(lockAspect=True, enableMouse=False)
        self._on_drag = on_drag

    def mouseDragEvent(self, ev, axis=None) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        point = self.mapSceneToView(ev.scenePos())
        self._on_drag(None if ev.isFinish() else (point.x(), point.y()))


class ArenaView(NavigationView):
    """Top view of the box: the place-cell rate map underneath, true path (orange) and decoded path (cyan).

    Parameters
    ----------
    width, height : float
        Size of the box (m).
    parent : QWidget, optional
    """

    title = "Arena"
    steer_requested = Signal(object)  # (x, y) in m while dragging; None on release

    def __init__(self, width: float, height: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.size = (float(width), float(height))
        self._levels = LevelTracker()
        self._true: list[np.ndarray] = []
        self._decoded: list[np.ndarray] = []
        self.plot = self.add_plot(0, 0, x=("x", "m"), y=("y", "m"),
                                  viewbox=_SteeringViewBox(self.steer_requested.emit))
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.box = pg.PlotDataItem([0, width, width, 0, 0], [0, 0, height, height, 0])
        self.true_path = pg.PlotDataItem()
        self.decoded_path = pg.PlotDataItem()
        self.true_marker = pg.ScatterPlotItem(size=18, symbol="o")
        self.decoded_marker = pg.ScatterPlotItem(size=9, symbol="o")
        for item in (self.box, self.true_path, self.decoded_path, self.true_marker, self.decoded_marker):
            self.plot.addItem(item)
        margin = 0.03 * max(width, height)
        self.plot.setXRange(-margin, width + margin, padding=0)
        self.plot.setYRange(-margin, height + margin, padding=0)
        self.set_legend([("true path", "stimulus", "line"), ("decoded", "decoded", "line"),
                         ("place-cell rates", "muted", "area")])
        self._apply_theme(self.theme)

    def _apply_theme(self, theme: Theme) -> None:
        self.image.setColorMap(pg.colormap.get(theme.activity_cmap))
        self.box.setPen(theme.pen(theme.muted, 1.5))
        self.true_path.setPen(theme.pen(theme.stimulus, 4.0))  # wide and under: the decoded path
        self.decoded_path.setPen(theme.pen(theme.decoded, 1.5))  # mostly lies on it
        self.true_marker.setBrush(pg.mkBrush(None))
        self.true_marker.setPen(pg.mkPen(theme.stimulus, width=2.5))
        self.decoded_marker.setBrush(pg.mkBrush(theme.decoded))
        self.decoded_marker.setPen(pg.mkPen(theme.background, width=1.0))

    # -- frames -------------------------------------------------------------------------------------
    def _ingest(self, frame: NavigationFrame) -> None:
        self._true.append(frame.position)
        self._decoded.append(frame.decoded)
        if len(self._true) > TRAIL_POINTS:
            del self._true[: len(self._true) - TRAIL_POINTS]
            del self._decoded[: len(self._decoded) - TRAIL_POINTS]

    def _clear(self) -> None:
        self._true.clear()
        self._decoded.clear()
        self._levels.reset()

    def _draw(self, frame: NavigationFrame) -> None:
        rates = frame.place_rates
        side = rates.shape[0]
        width, height = self.size
        # place centres span the box from edge to edge
        dx, dy = width / max(side - 1, 1), height / max(side - 1, 1)
        self.image.setImage(rates, levels=self._levels.update(rates), autoLevels=False)
        self.image.setRect(QRectF(-dx / 2, -dy / 2, width + dx, height + dy))
        true, decoded = np.asarray(self._true), np.asarray(self._decoded)
        self.true_path.setData(true[:, 0], true[:, 1])
        self.decoded_path.setData(decoded[:, 0], decoded[:, 1])
        self.true_marker.setData([frame.position[0]], [frame.position[1]])
        self.decoded_marker.setData([frame.decoded[0]], [frame.decoded[1]])
        mode = "steered" if frame.closed_loop else "random walk"
        error = float(np.hypot(*(frame.decoded - frame.position)))
        self.set_title(self.plot, f"t = {frame.t:.1f} s · {mode} · error {100 * error:.1f} cm")
