"""Tracking: decoded bump position against the stimulus position over time, and the tracking error.

Positions are wrapped into the feature space and the lines break where they wrap, so a bump crossing
±π does not draw a vertical stroke. In 2D there is one position plot per axis.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from canns_engine import Frame

from .activity import DEFAULT_WINDOW
from .base import FrameView, LevelTracker, scroll_window, set_axis_range, show_time_window
from .history import TraceBuffer, break_at_wraps, wrap_position

MIN_ERROR_RANGE = 0.1
"""Smallest span of the error axis (rad), so a perfect tracker does not magnify numerical noise."""


class TrackingView(FrameView):
    """Stimulus (dashed) and decoded bump (solid) positions, and the wrapped distance between them."""

    title = "Tracking"

    def __init__(self, ndim: int = 1, parent=None) -> None:
        super().__init__(parent)
        self.ndim = ndim
        self.window = DEFAULT_WINDOW
        self._traces = TraceBuffer(2 * ndim + 1)  # stim (ndim), decoded (ndim), error
        names = ["x"] if ndim == 1 else ["x", "y"]
        self.position_plots, self.stim_curves, self.decoded_curves = [], [], []
        for row, axis in enumerate(names):
            plot = self.add_plot(row, 0, y=(f"position {axis}", "rad"))
            self.stim_curves.append(self.add_curve(plot, connect="finite"))
            self.decoded_curves.append(self.add_curve(plot, connect="finite"))
            self.position_plots.append(plot)
        self.set_legend([("decoded bump", "decoded", "line"), ("stimulus", "stimulus", "thin"),
                         ("tracking error", "error", "area")])
        self.error_plot = self.add_plot(len(names), 0, x=("time t", "τ units"), y=("error", "rad"))
        self.error_curve = self.add_curve(self.error_plot, connect="finite")
        self.no_error_note = pg.TextItem("no stimulus on: no tracking error", anchor=(0.5, 0.5))
        self.no_error_note.setParentItem(self.error_plot.vb)
        self.error_plot.vb.sigResized.connect(self._on_error_plot_resized)
        for plot in self.position_plots:  # they share the error plot's time axis, at the bottom
            plot.setXLink(self.error_plot)
            plot.hideAxis("bottom")
        self.graphics.ci.layout.setRowStretchFactor(len(names), 1)
        for row in range(len(names)):
            self.graphics.ci.layout.setRowStretchFactor(row, 2)
        self._error_levels = LevelTracker()
        self._apply_theme(self.theme)

    def _on_error_plot_resized(self) -> None:
        self.no_error_note.setPos(self.error_plot.vb.boundingRect().center())

    def set_window(self, window: float) -> None:
        """Span of the time axis (simulated time)."""
        self.window = float(window)
        self.redraw()

    def _apply_theme(self, theme) -> None:
        for curve in self.stim_curves:
            curve.setPen(theme.pen(theme.stimulus, 1.0))
        for curve in self.decoded_curves:
            curve.setPen(theme.pen(theme.decoded, 2.0))
        self.error_curve.setPen(theme.pen(theme.error, 1.0))
        self.error_curve.setBrush(pg.mkBrush(theme.error + "30"))
        self.error_curve.setFillLevel(0.0)
        self.no_error_note.setColor(theme.muted)

    def _ingest(self, frame: Frame) -> None:
        stim = np.atleast_1d(np.asarray(frame.stim_pos, dtype=float))
        dec = np.atleast_1d(np.asarray(frame.decoded_pos, dtype=float))
        self._traces.append(frame.t, [*stim, *dec, frame.summary["error"]])

    def _clear(self) -> None:
        self._traces.clear()
        self._error_levels.reset()

    def last_plotted(self) -> dict[str, np.ndarray]:
        """The newest points on screen: ``{"t", "stimulus", "decoded", "error"}`` (for tests and exports)."""
        row = self._traces.last()
        if row is None:
            return {}
        n = self.ndim
        return {"t": row[0], "stimulus": row[1:1 + n], "decoded": row[1 + n:1 + 2 * n], "error": row[-1]}

    def _draw(self, frame: Frame) -> None:
        x = frame.x
        z_min, z_range = float(x[0]), float(x[-1] - x[0])
        start, _ = scroll_window(frame.t, self.window)
        show_time_window(self.error_plot, start, self.window)  # the position plots follow
        rows = self._traces.rows(since=start)
        t = rows[:, 0] - start  # plotted relative to the window's start
        for axis in range(self.ndim):
            for curve, column in ((self.stim_curves[axis], 1 + axis),
                                  (self.decoded_curves[axis], 1 + self.ndim + axis)):
                tt, y = break_at_wraps(t, wrap_position(rows[:, column], z_min, z_range), z_range)
                curve.setData(tt, y, connect="finite", skipFiniteCheck=True)
            set_axis_range(self.position_plots[axis], "y", z_min, z_min + z_range, padding=0.02)
        error = rows[:, -1]
        self.error_curve.setData(t, error, connect="finite", skipFiniteCheck=True)
        self.no_error_note.setVisible(not np.isfinite(error).any())
        top = max(self._error_levels.update(error)[1], MIN_ERROR_RANGE)
        set_axis_range(self.error_plot, "y", 0.0, top, padding=0.02)
