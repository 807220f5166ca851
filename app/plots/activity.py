"""The activity heatmap: a scrolling space × time kymograph (1D) or the ``L × L`` sheet (2D).

Both show ``u`` or ``r`` (a selector in the header) on a colour scale whose levels change only when the
activity outgrows them, so colours stay comparable from frame to frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtWidgets import QComboBox

from canns_engine import Frame

from .base import FrameView, LevelTracker, scroll_window, set_axis_range, show_time_window
from .history import KymographBuffer, TraceBuffer, break_at_wraps, wrap_position
from .interaction import InteractiveViewBox

DEFAULT_WINDOW = 50.0
MAX_IMAGE_ROWS = 256
"""A kymograph of more neurons draws every n-th one (the plot is rarely taller than this in pixels)."""
QUANTITIES = {"u": "synaptic input u", "r": "firing rate r"}


class _HeatmapView(FrameView):
    """An image with a colour bar and a ``u``/``r`` selector (shared by both heatmaps)."""

    def __init__(self, parent=None, viewbox: pg.ViewBox | None = None, **axes) -> None:
        super().__init__(parent)
        self.quantity = "u"
        self.selector = QComboBox()
        for key, label in QUANTITIES.items():
            self.selector.addItem(label, key)
        self.selector.setToolTip("Which state variable the heatmap shows")
        self.selector.currentIndexChanged.connect(self._on_selector_changed)
        self.add_header_widget(self.selector, "Show")
        self.plot = self.add_plot(0, 0, viewbox=viewbox, **axes)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), width=12, interactive=False, colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.levels = LevelTracker()

    def set_quantity(self, quantity: str) -> None:
        """Show ``"u"`` or ``"r"``."""
        self.selector.setCurrentIndex(list(QUANTITIES).index(quantity))

    def _on_selector_changed(self, index: int) -> None:
        self.quantity = self.selector.itemData(index)
        self.style_colorbar(self.colorbar, QUANTITIES[self.quantity])
        self.levels.reset()
        self._on_quantity_changed()
        self.redraw()

    def _on_quantity_changed(self) -> None:
        """Subclass hook (a kymograph drops its history: it stored the other variable)."""

    def _apply_theme(self, theme) -> None:
        self.colorbar.setColorMap(pg.colormap.get(theme.activity_cmap))
        self.style_colorbar(self.colorbar, QUANTITIES[self.quantity])

    def _show_image(self, data: np.ndarray, rect: QRectF) -> None:
        levels = self.levels.update(data)
        self.image.setImage(data, autoLevels=False, levels=levels)
        self.image.setRect(rect)
        if tuple(self.colorbar.levels()) != levels:
            self.colorbar.setLevels(levels)


class KymographView(_HeatmapView):
    """1D: activity of every neuron (vertical) against simulated time (horizontal), scrolling, with the
    stimulus and decoded bump positions drawn over it."""

    title = "Activity"

    def __init__(self, parent=None) -> None:
        super().__init__(parent, x=("time t", "τ units"), y=("position x", "rad"))
        self.window = DEFAULT_WINDOW
        self._buffer: KymographBuffer | None = None
        self._traces = TraceBuffer(2)
        self.stim_curve = self.add_curve(self.plot, connect="finite")
        self.decoded_curve = self.add_curve(self.plot, connect="finite")
        self.set_legend([("decoded bump", "decoded", "line"), ("stimulus", "stimulus", "thin")])
        self._apply_theme(self.theme)

    def set_window(self, window: float) -> None:
        """Span of the time axis (simulated time)."""
        self.window = float(window)
        if self._buffer is not None:
            self._buffer = self._buffer.resampled(self.window)
        self.redraw()

    def _apply_theme(self, theme) -> None:
        super()._apply_theme(theme)
        self.stim_curve.setPen(theme.pen(theme.stimulus, 1.0))
        self.decoded_curve.setPen(theme.pen(theme.decoded, 2.0))

    def _on_quantity_changed(self) -> None:
        if self._buffer is not None:
            self._buffer.clear()

    def _ingest(self, frame: Frame) -> None:
        if self._buffer is None:
            self._buffer = KymographBuffer(len(frame.x), self.window)
        self._buffer.add(frame.t, frame.u if self.quantity == "u" else frame.r)
        self._traces.append(frame.t, [frame.stim_pos, frame.decoded_pos])

    def _clear(self) -> None:
        self._buffer = None
        self._traces.clear()
        self.levels.reset()

    def _draw(self, frame: Frame) -> None:
        x = frame.x
        z_min, z_range = float(x[0]), float(x[-1] - x[0])
        stride = max(1, len(x) // MAX_IMAGE_ROWS)  # no more rows than the screen shows
        t_end = self._buffer.end_time() if self._buffer is not None else frame.t
        start, _ = scroll_window(t_end, self.window)
        show_time_window(self.plot, start, self.window)
        got = self._buffer.image(stride) if self._buffer is not None else None
        if got is not None:
            data, t0 = got
            # rows are neurons: centre each row on its neuron (first and last share one angle)
            drow = z_range * stride / (len(x) - 1)
            rect = QRectF(t0 - start, z_min - drow / 2, data.shape[1] * self._buffer.dt_col, drow * len(data))
            self._show_image(data, rect)
        rows = self._traces.rows(since=start)
        for curve, column in ((self.stim_curve, 1), (self.decoded_curve, 2)):
            t, y = break_at_wraps(rows[:, 0] - start, wrap_position(rows[:, column], z_min, z_range), z_range)
            curve.setData(t, y, connect="finite", skipFiniteCheck=True)
        set_axis_range(self.plot, "y", z_min, z_min + z_range)


class SheetView(_HeatmapView):
    """2D: the ``L × L`` sheet, with the stimulus centre (○) and the decoded centre (+) marked.
    Pressing or dragging moves the stimulus; Shift+click injects a pulse."""

    title = "Activity"

    stimulus_moved = Signal(object)  # (x, y)
    stimulus_released = Signal()
    pulse_requested = Signal(object)

    def __init__(self, parent=None) -> None:
        self._vb = InteractiveViewBox(lockAspect=True)
        super().__init__(parent, viewbox=self._vb, x=("position x", "rad"), y=("position y", "rad"))
        self.stim_marker = pg.ScatterPlotItem(symbol="o", size=22, brush=None)
        self.decoded_marker = pg.ScatterPlotItem(symbol="+", size=18)
        self.plot.addItem(self.stim_marker)
        self.plot.addItem(self.decoded_marker)
        self.set_legend([("decoded bump", "decoded", "✚"), ("stimulus", "stimulus", "◯")])
        self.setToolTip("Press or drag to move the stimulus there; Shift+click for a brief pulse")
        self._vb.pressed.connect(self._on_viewbox_pressed)
        self._vb.released.connect(self.stimulus_released)
        self._vb.shift_clicked.connect(self._on_viewbox_shift_clicked)
        self._apply_theme(self.theme)

    def _apply_theme(self, theme) -> None:
        super()._apply_theme(theme)
        self.stim_marker.setPen(theme.pen(theme.stimulus, 2.0))
        self.stim_marker.setBrush(None)
        self.decoded_marker.setPen(theme.pen(theme.decoded, 2.0))
        self.decoded_marker.setBrush(pg.mkBrush(theme.decoded))

    def _draw(self, frame: Frame) -> None:
        x = frame.x
        z_min, z_range = float(x[0]), float(x[-1] - x[0])
        d = z_range / (len(x) - 1)
        data = frame.u if self.quantity == "u" else frame.r
        self._show_image(data, QRectF(z_min - d / 2, z_min - d / 2, z_range + d, z_range + d))
        stim = np.asarray(frame.stim_pos, dtype=float)
        if np.isfinite(stim).all():
            sx, sy = wrap_position(stim, z_min, z_range)
            self.stim_marker.setData([sx], [sy])
        else:
            self.stim_marker.setData([], [])
        dec = np.asarray(frame.decoded_pos, dtype=float)
        self.decoded_marker.setData(*([[p] for p in dec] if np.isfinite(dec).all() else ([], [])))
        set_axis_range(self.plot, "x", z_min, z_min + z_range)
        set_axis_range(self.plot, "y", z_min, z_min + z_range)

    def _on_viewbox_pressed(self, point: QPointF) -> None:
        self.stimulus_moved.emit((float(point.x()), float(point.y())))

    def _on_viewbox_shift_clicked(self, point: QPointF) -> None:
        self.pulse_requested.emit((float(point.x()), float(point.y())))
