"""The behaviour every live view shares: frames in, themed pyqtgraph plots out.

A view is a QWidget holding a pyqtgraph ``GraphicsLayoutWidget`` (and optionally a small header row of
controls). It gets two calls:

* ``ingest(frame)`` for every frame the engine produces (cheap: histories only), and
* ``show_frame(frame)`` to draw (ingests first, so a caller that only has ``show_frame``, like the movie
  exporter, gets the same picture).

Plots have no grid and curves are solid and not antialiased by default: with the raster paint engine,
alpha-blended grid lines and dash patterns cost more than all the data (measured: 3–4× per view).

A frame older than the last one (a reset) or on a different grid (``num`` changed) clears the view's
history by itself. Views never touch the Simulation: everything they draw comes from the
:class:`~canns_engine.Frame`, so all views drawing the same frame agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsView, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from canns_engine import Frame

from ..theme import DARK, Theme
from .axis import LeanAxisItem

AXIS_SIDES = ("left", "bottom", "right", "top")


def _unbreakable(text: str) -> str:
    """``text`` as rich text that never breaks across lines: a legend entry stays whole, "place-cell"
    included (Qt breaks a line after a hyphen)."""
    return text.replace(" ", "&nbsp;").replace("-", "\u2011")  # non-breaking space and hyphen


@dataclass
class _PlotSpec:
    plot: pg.PlotItem
    title: str
    x: tuple[str, str]
    y: tuple[str, str]


class FrameView(QWidget):
    """Base class of the live views.

    Subclasses build their plots in ``__init__`` with :meth:`add_plot`, and implement :meth:`_draw`
    (and, when they keep a history, :meth:`_ingest` and :meth:`_clear`). Colours come from
    :attr:`theme`; :meth:`_apply_theme` re-pens curves after a theme switch.
    """

    title = ""
    """Name of the view (dock title, PNG name)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: Theme = DARK
        self.frames_drawn = 0
        self.drawing_enabled = True
        self.frame: Frame | None = None  # the frame drawn last
        self._ingested: Frame | None = None
        self._plots: list[_PlotSpec] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self._header = QHBoxLayout()
        self._header.setContentsMargins(8, 2, 6, 0)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)  # a narrow dock wraps the legend instead of growing
        self._header.addWidget(self.legend, 1)
        self._header.addStretch(1)
        layout.addLayout(self._header)
        self._legend_items: list[tuple[str, str, str]] = []
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setContentsMargins(4, 2, 8, 4)
        # The scene's background is an opaque colour that covers the whole viewport: saying so spares Qt
        # repainting the dock and the main window underneath on every frame.
        self.graphics.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        # Most of a view changes every frame: repainting the bounding rectangle of what changed is
        # cheaper than the minimal region (measured ~25 % less paint time; the region is split into
        # many rectangles, each clipped separately).
        self.graphics.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        layout.addWidget(self.graphics, 1)

    # -- building -----------------------------------------------------------------------------------
    def add_header_widget(self, widget: QWidget, label: str = "") -> None:
        """Put a control at the right of the row above the plots."""
        if isinstance(widget, QLabel):
            widget.setWordWrap(True)
        if label:
            self._header.addWidget(QLabel(label))
        self._header.addWidget(widget)

    def set_axis_label(self, plot: pg.PlotItem, side: str, name: str, unit: str = "") -> None:
        """Change an axis label of a plot made by :meth:`add_plot` (kept across theme switches)."""
        spec = next(s for s in self._plots if s.plot is plot)
        if side == "left":
            spec.y = (name, unit)
        else:
            spec.x = (name, unit)
        self._style_plot(spec)

    def set_title(self, plot: pg.PlotItem, title: str) -> None:
        """Change the title of a plot made by :meth:`add_plot` (kept across theme switches)."""
        spec = next(s for s in self._plots if s.plot is plot)
        spec.title = title
        plot.setTitle(title or None, color=self.theme.foreground, size="9pt")

    def style_colorbar(self, bar: pg.ColorBarItem, label: str) -> None:
        """Axis and label of a colour bar in the theme's colours."""
        bar.axis.setPen(pg.mkPen(self.theme.muted))
        bar.axis.setTextPen(pg.mkPen(self.theme.foreground))
        bar.axis.enableAutoSIPrefix(False)
        bar.axis.setLabel(label, color=self.theme.foreground, **{"font-size": "9pt"})

    def set_legend(self, items: list[tuple[str, str, str]]) -> None:
        """The legend in the header row: ``(text, theme colour name, symbol)`` per entry (symbol:
        ``"line"``, ``"thin"``, ``"area"`` or any glyph). Outside the plots, it never hides data."""
        self._legend_items = list(items)
        self._render_legend()

    def _render_legend(self) -> None:
        glyphs = {"line": "━━", "thin": "──", "area": "▆▆"}
        parts = [f'<span style="color:{getattr(self.theme, color)}">{glyphs.get(symbol, symbol)}</span>'
                 f"&nbsp;{_unbreakable(text)}" for text, color, symbol in self._legend_items]
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    def add_plot(self, row: int, col: int, *, title: str = "", x: tuple[str, str] = ("", ""),
                 y: tuple[str, str] = ("", ""), rowspan: int = 1, colspan: int = 1,
                 viewbox: pg.ViewBox | None = None) -> pg.PlotItem:
        """A themed plot with axis labels ``(name, unit)``; the mouse does not pan or zoom it."""
        plot = pg.PlotItem(viewBox=viewbox, axisItems={side: LeanAxisItem(side) for side in AXIS_SIDES})
        plot.hideAxis("top")  # given axes are all shown; pyqtgraph's default is left and bottom only
        plot.hideAxis("right")
        self.graphics.addItem(plot, row, col, rowspan, colspan)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        for side in AXIS_SIDES:  # hidden axes too: with it, every range change re-lays out their label
            plot.getAxis(side).enableAutoSIPrefix(False)
        self._plots.append(_PlotSpec(plot, title, x, y))
        self._style_plot(self._plots[-1])
        return plot

    @staticmethod
    def add_curve(target: pg.PlotItem | pg.ViewBox, **kwargs) -> LiveCurve:
        """A live curve in ``target`` (see :class:`LiveCurve`)."""
        curve = LiveCurve(**kwargs)
        target.addItem(curve)
        return curve

    # -- frames -------------------------------------------------------------------------------------
    def ingest(self, frame: Frame) -> None:
        """Take ``frame`` into the history (each frame once; a reset or a new grid clears it)."""
        last = self._ingested
        if frame is last:
            return
        if last is not None and (frame.step < last.step or frame.x.shape != last.x.shape
                                 or frame.model_type != last.model_type):
            self.reset()
        self._ingest(frame)
        self._ingested = frame

    def show_frame(self, frame: Frame) -> None:
        """Ingest ``frame`` and draw it (unless drawing is disabled, e.g. in a hidden dock)."""
        self.ingest(frame)
        self.frame = frame
        if self.drawing_enabled:
            self._render(frame)
            self.frames_drawn += 1

    def reset(self) -> None:
        """Forget the history (the next frame starts a new one)."""
        self._ingested = None
        self._clear()

    def set_drawing_enabled(self, enabled: bool) -> None:
        """Skip drawing while hidden; draw the newest frame when shown again."""
        self.drawing_enabled = enabled
        if enabled and self.frame is not None:
            self._render(self.frame)

    def redraw(self) -> None:
        """Draw the last frame again (after a theme or option change)."""
        if self.frame is not None and self.drawing_enabled:
            self._render(self.frame)

    def _render(self, frame: Frame) -> None:
        """Draw ``frame`` and settle the scene for painting.

        pyqtgraph defers a view box's new range (its transform) until just before the scene paints;
        applied there, it moves every item again and schedules a second full repaint of the view. Settling
        it here lets one paint per frame show everything.
        """
        self._draw(frame)
        self.graphics.scene().prepareForPaint()

    def _ingest(self, frame: Frame) -> None:
        """Subclass hook: add ``frame`` to a history."""

    def _clear(self) -> None:
        """Subclass hook: empty the history."""

    def _draw(self, frame: Frame) -> None:
        raise NotImplementedError

    # -- theme --------------------------------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        """Recolour the view for ``theme`` and redraw."""
        self.theme = theme
        self.graphics.setBackground(theme.background)
        for spec in self._plots:
            self._style_plot(spec)
        self._render_legend()
        self._apply_theme(theme)
        self.redraw()

    def _apply_theme(self, theme: Theme) -> None:
        """Subclass hook: re-pen curves and markers."""

    def _style_plot(self, spec: _PlotSpec) -> None:
        theme, plot = self.theme, spec.plot
        axis_pen = pg.mkPen(theme.muted)
        text_pen = pg.mkPen(theme.foreground)
        for side in ("left", "bottom", "right", "top"):
            axis = plot.getAxis(side)
            axis.setPen(axis_pen)
            axis.setTextPen(text_pen)
        style = {"color": theme.foreground, "font-size": "9pt"}
        if spec.x[0]:
            plot.setLabel("bottom", _label(*spec.x), **style)
        if spec.y[0]:
            plot.setLabel("left", _label(*spec.y), **style)
        if spec.title:
            plot.setTitle(spec.title, color=theme.foreground, size="9pt")


class LiveCurve(pg.PlotCurveItem):
    """A curve whose data change every frame: a bare ``PlotCurveItem`` (a ``PlotDataItem`` adds a second
    item and bookkeeping the views never use), whose bounding rectangle is the visible area of its view.

    pyqtgraph computes a curve's bounding rectangle from its data (NaN-aware minima and maxima, pen
    padding in pixels) after every ``setData``, and Qt asks for it several times per frame: ~1.4 ms per
    frame for the curves of the ring views. The view box clips its children to itself, so the visible
    area (cached by pyqtgraph, renewed when the view changes) bounds whatever the curve can show.
    ``dataBounds`` (auto-range) is unchanged.
    """

    def boundingRect(self) -> QRectF:
        if self._boundingRect is None:
            view = self.viewRect()
            if view is None:  # not in a view box yet
                return super().boundingRect()
            dx, dy = view.width() * 0.01, view.height() * 0.01
            self._boundingRect = view.adjusted(-dx, -dy, dx, dy)
        return self._boundingRect

    def viewTransformChanged(self) -> None:
        self._cachedView = None  # PlotCurveItem's override forgets GraphicsItem's: renew the visible area
        super().viewTransformChanged()


def _label(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def set_axis_range(target: pg.PlotItem | pg.ViewBox, axis: str, low: float, high: float,
                   padding: float = 0.0) -> None:
    """``setXRange``/``setYRange`` only when the range changed: every call re-lays out the axis, and
    most ranges stay put from frame to frame."""
    key = (float(low), float(high), padding)
    cache = target.__dict__.setdefault("_canns_ranges", {})
    if cache.get(axis) == key:
        return
    cache[axis] = key
    (target.setXRange if axis == "x" else target.setYRange)(low, high, padding=padding)


SCROLL_STEPS = 60
"""A scrolling time axis advances in steps of 1/60 of its span (a sliver of blank space at the right
edge at most), so its ticks are laid out again every few frames instead of every frame."""


def scroll_window(t: float, window: float) -> tuple[float, float]:
    """The time range ``(start, end)`` of a scrolling view that must show up to time ``t``."""
    step = window / SCROLL_STEPS
    end = max(window, step * np.ceil(t / step - 1e-9))
    return end - window, end


def show_time_window(plot: pg.PlotItem, start: float, window: float) -> None:
    """Show the times ``start … start + window`` on ``plot`` (and the plots linked to it in x, which
    share its time axis), whose data must be plotted at ``t - start``.

    The view box keeps the fixed range ``0 … window`` and only the time axis' labels move
    (:meth:`LeanAxisItem.set_offset`). Moving the range itself makes pyqtgraph re-map every item of the
    view and re-lay out every axis (the static ones too) through a cascade of Python calls: ~2 ms of a
    ~15 ms CANN1D-512 frame, measured in alternation. Small times also keep their precision in a run of
    millions of time units.
    """
    set_axis_range(plot, "x", 0.0, window)
    plot.getAxis("bottom").set_offset(start)


class LevelTracker:
    """Colour levels ``(0, top)`` for an image stream that change rarely (no flicker, no autoLevels).

    ``top`` jumps up as soon as the data exceed it and comes down only when the data fall below a
    third of it, always to a "nice" number.
    """

    def __init__(self) -> None:
        self.top = 0.0

    def update(self, data: np.ndarray) -> tuple[float, float]:
        peak = float(np.max(data)) if data.size else 0.0
        if not np.isfinite(peak):  # NaN gaps or a diverging state: the finite values decide
            finite = data[np.isfinite(data)]
            peak = float(finite.max()) if finite.size else 0.0
        if peak > self.top or peak < self.top / 3 or self.top <= 0:
            self.top = nice_ceiling(peak)
        return 0.0, self.top

    def reset(self) -> None:
        self.top = 0.0


def nice_ceiling(value: float) -> float:
    """The next of 1, 2, 2.5, 5 × 10ⁿ at or above ``value`` (1e-6 for non-positive values)."""
    if not value > 0:
        return 1e-6
    exponent = np.floor(np.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        top = step * 10.0**exponent
        if top >= value * (1 - 1e-12):
            return float(top)
    return float(10.0 ** (exponent + 1))
