"""An axis that lays out its ticks cheaply: the scrolling time axes do it on every frame.

pyqtgraph's :class:`~pyqtgraph.AxisItem` recomputes its tick layout (positions, labels, label sizes) in
Python whenever its range changes; a scrolling time axis changes range every frame, and that layout was
the largest single cost of drawing a frame (~1–2 ms per axis). :class:`LeanAxisItem` produces the same
picture — the same tick values, lengths, alphas, labels and the same rules for which labels fit — with
less work: label sizes come from the font metrics (not a painter) once per string and are remembered,
ticks are plain floats instead of ``Point`` objects, and each tick level is drawn with one ``drawLines``
call. It paints straight onto the view instead of recording a QPicture and replaying it (pyqtgraph's
way), which for an axis laid out anew on every frame was pure overhead (~2.5 ms of a ~19 ms CANN1D-512
frame, three scrolling axes and six static ones). It is cached as a pixmap between changes, and it can
label a shifted range (:meth:`LeanAxisItem.set_offset`), so a scrolling view keeps its range still.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from math import ceil

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

_ALIGN = {
    "left": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
    "right": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
    "top": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
    "bottom": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
}
_TEXT_CACHE_LIMIT = 4096


class LeanAxisItem(pg.AxisItem):
    """A drop-in :class:`pyqtgraph.AxisItem` with a faster tick layout (no grid lines).

    With a grid (``grid`` not ``False``) it falls back to pyqtgraph's own layout.
    """

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self._text_sizes: dict[str, tuple[float, float]] = {}
        self._text_font: str | None = None
        self._metrics: QFontMetricsF | None = None
        self._digit_width = 0.0
        self._specs = None
        self._max_text_size: float | None = None
        self._pens_of: QPen | None = None  # the tick pen that _level_pens were made from
        self._level_pens: dict[int, QPen] = {}
        self.offset = 0.0
        # Painted from a pixmap that is redrawn only when the axis changes: most axes never change while
        # a run scrolls, yet the views repaint every frame (~0.7 ms of a CANN1D-512 frame).
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_offset(self, offset: float) -> None:
        """Label the axis as if its range were shifted by ``offset``: a view that scrolls through time
        keeps its range fixed (``0 … window``) and plots ``t - offset``, while its axis shows ``t``.
        (Not with a grid, where pyqtgraph's own layout draws the axis.)"""
        offset = float(offset)
        if offset != self.offset:
            self.offset = offset
            self.picture = None
            self.update()

    def _text_size(self, text: str) -> tuple[float, float]:
        """Width and height of a tick label as pyqtgraph measures it (height × 0.8), remembered.

        pyqtgraph asks the painter for the label's bounding rectangle; for a one-line label that is its
        advance width and the font's line height, which the font metrics give at a fifth of the cost (a
        scrolling axis at full speed shows new labels on every frame).
        """
        size = self._text_sizes.get(text)
        if size is None:
            if len(self._text_sizes) > _TEXT_CACHE_LIMIT:
                self._text_sizes.clear()
            metrics = self._metrics
            size = self._text_sizes[text] = (metrics.horizontalAdvance(text), metrics.height() * 0.8)
        return size

    def tickValues(self, minVal: float, maxVal: float, size: float):
        """pyqtgraph's tick values, with its duplicate test (``np.isclose``, ``rtol=0``) done on a sorted
        list: the same values, in the same order (checked on random ranges), at a third of the cost of
        doing it with small numpy arrays (~25 against ~65 µs for three levels)."""
        if self.logMode:
            return super().tickValues(minVal, maxVal, size)
        low, high = sorted((minVal, maxVal))
        scale = self.scale
        low, high = low * scale, high * scale
        ticks = []
        seen: list[float] = []  # the values of the coarser levels, sorted
        for spacing, offset in self.tickSpacing(low, high, size):
            start = ceil((low - offset) / spacing) * spacing + offset
            tolerance = spacing / scale * 0.01
            values = []
            for n in range(int((high - start) / spacing) + 1):
                value = (n * spacing + start) / scale
                i = bisect_left(seen, value - tolerance)
                if i == len(seen) or seen[i] > value + tolerance:
                    values.append(value)
            for value in values:
                insort(seen, value)
            ticks.append((spacing / scale, values))
        return ticks

    def generateDrawSpecs(self, p: QPainter):
        if self.grid is not False:
            return super().generateDrawSpecs(p)
        style = self.style
        if style["tickFont"] is not None:
            p.setFont(style["tickFont"])
        font_key = p.font().key()
        if font_key != self._text_font:
            self._text_font = font_key
            self._metrics = QFontMetricsF(p.font())
            self._digit_width = min(self._metrics.horizontalAdvance(d) for d in "0123456789")
            self._text_sizes.clear()
            self._max_text_size = None
        bounds = self.mapRectFromParent(self.geometry())
        orientation = self.orientation
        if orientation == "left":
            span = (bounds.topRight() + pg.QtCore.QPointF(-1.0, -1.0),
                    bounds.bottomRight() + pg.QtCore.QPointF(-1.0, 1.0))
            tick_start = tick_stop = bounds.right()
            tick_dir, axis = -1, 0
        elif orientation == "right":
            span = (bounds.topLeft() + pg.QtCore.QPointF(1.0, -1.0),
                    bounds.bottomLeft() + pg.QtCore.QPointF(1.0, 1.0))
            tick_start = tick_stop = bounds.left()
            tick_dir, axis = 1, 0
        elif orientation == "top":
            span = (bounds.bottomLeft() + pg.QtCore.QPointF(-1.0, -1.0),
                    bounds.bottomRight() + pg.QtCore.QPointF(1.0, -1.0))
            tick_start = tick_stop = bounds.bottom()
            tick_dir, axis = -1, 1
        else:
            span = (bounds.topLeft() + pg.QtCore.QPointF(-1.0, 1.0),
                    bounds.topRight() + pg.QtCore.QPointF(1.0, 1.0))
            tick_start = tick_stop = bounds.top()
            tick_dir, axis = 1, 1
        # without a grid the ticks start at the axis line (pyqtgraph: tickBounds = bounds)
        points = [self.mapToDevice(point) for point in span]
        if None in points:
            return None
        length_px = QLineF(points[0], points[1]).length()
        if length_px == 0:
            return None

        if self._tickLevels is None:
            tick_levels = self.tickValues(self.range[0] + self.offset, self.range[1] + self.offset, length_px)
            tick_strings = None
        else:
            tick_levels = [(None, [v for v, _ in level]) for level in self._tickLevels]
            tick_strings = [[s for _, s in level] for level in self._tickLevels]

        low, high = self.range[0] + self.offset, self.range[1] + self.offset
        dif = high - low
        if dif == 0:
            scale, offset = 1.0, 0.0
        elif axis == 0:
            scale = -bounds.height() / dif
            offset = low * scale - bounds.height()
        else:
            scale = bounds.width() / dif
            offset = low * scale
        ends = (low * scale - offset, high * scale - offset)
        x_min, x_max = min(ends), max(ends)

        tick_positions: list[list[float | None]] = []
        tick_specs: list[tuple[QPen, list[QLineF]]] = []
        base_pen = self.tickPen()
        for i, (_, ticks) in enumerate(tick_levels):
            tick_length = style["tickLength"] / (i * 0.5 + 1.0)
            pen = self._level_pen(base_pen, i)
            end = tick_stop + tick_length * tick_dir
            positions: list[float | None] = []
            lines = []
            for v in ticks:
                x = v * scale - offset
                if x < x_min or x > x_max:
                    positions.append(None)
                    continue
                positions.append(x)
                lines.append(QLineF(x, tick_start, x, end) if axis == 1 else QLineF(tick_start, x, end, x))
            tick_positions.append(positions)
            tick_specs.append((pen, lines))

        if style["stopAxisAtTick"][0] is True:
            first = min(min(x for x in level if x is not None) for level in tick_positions)
            if axis == 0:
                span[0].setY(max(span[0].y(), first))
            else:
                span[0].setX(max(span[0].x(), first))
        if style["stopAxisAtTick"][1] is True:
            last = max(max(x for x in level if x is not None) for level in tick_positions)
            if axis == 0:
                span[1].setY(min(span[1].y(), last))
            else:
                span[1].setX(min(span[1].x(), last))
        axis_spec = (self.pen(), span[0], span[1])

        text_specs: list[tuple[QRectF, Qt.AlignmentFlag, str]] = []
        if not style["showValues"]:
            return axis_spec, tick_specs, text_specs

        text_offset = style["tickTextOffset"][axis]
        offset_px = max(0, style["tickLength"]) + text_offset
        flags = _ALIGN[orientation] | Qt.TextFlag.TextDontClip
        own = pg.AxisItem.boundingRect(self)  # pyqtgraph's rectangle (ours is a pixel larger)
        text_size = text_size2 = last_text_size2 = 0.0
        text_sizes: list[tuple[float, float]] = []
        for i in range(min(len(tick_levels), style["maxTextLevel"] + 1)):
            if i > 0 and tick_strings is None and text_sizes:
                # Skip a level that is sure to be too crowded before making and measuring its labels:
                # each label is at least one digit wide (or one line high), so this bound never exceeds
                # what the test below computes. A scrolling axis gets new labels on every frame.
                shown = sum(x is not None for x in tick_positions[i])
                smallest = self._digit_width if axis == 1 else text_sizes[0][1]
                least = (text_size + shown * smallest) / length_px
                if any(len(text_specs) >= n and least >= limit for n, limit in style["textFillLimits"]):
                    break
            if tick_strings is None:
                spacing, values = tick_levels[i]
                strings = self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing)
            else:
                strings = list(tick_strings[i])
            if len(strings) == 0:
                continue
            positions = tick_positions[i]
            sizes: list[tuple[float, float] | None] = []
            for j, s in enumerate(strings):
                if positions[j] is None:
                    sizes.append(None)
                else:
                    sizes.append(self._text_size(s))
                    text_sizes.append(sizes[-1])
            if text_sizes:
                if axis == 0:
                    text_size = sum(h for _, h in text_sizes)
                    text_size2 = max(w for w, _ in text_sizes)
                else:
                    text_size = sum(w for w, _ in text_sizes)
                    text_size2 = max(h for _, h in text_sizes)
            else:
                text_size = text_size2 = 0.0
            if i > 0:  # always label the top level; stop when the labels get crowded
                fill = float(text_size) / length_px
                if any(len(text_specs) >= n and fill >= limit for n, limit in style["textFillLimits"]):
                    break
            last_text_size2 = text_size2
            for j, s in enumerate(strings):
                x = positions[j]
                if x is None:
                    continue
                width, height = sizes[j]
                if orientation == "left":
                    rect = QRectF(tick_stop - offset_px - width, x - height / 2, width, height)
                elif orientation == "right":
                    rect = QRectF(tick_stop + offset_px, x - height / 2, width, height)
                elif orientation == "top":
                    rect = QRectF(x - width / 2.0, tick_stop - offset_px - height, width, height)
                else:
                    rect = QRectF(x - width / 2.0, tick_stop + offset_px, width, height)
                if own & rect != rect:
                    continue
                text_specs.append((rect, flags, s))
        if last_text_size2 != self._max_text_size:  # pyqtgraph re-sizes the axis on every call
            self._max_text_size = last_text_size2
            self._updateMaxTextSize(last_text_size2)
        return axis_spec, tick_specs, text_specs

    def _level_pen(self, base_pen: QPen, level: int) -> QPen:
        """The pen of a tick level: ``base_pen`` (the tick pen) with pyqtgraph's alpha for the level,
        remembered until the tick pen changes."""
        if base_pen != self._pens_of:
            self._pens_of, self._level_pens = base_pen, {}
        pen = self._level_pens.get(level)
        if pen is None:
            alpha = self.style["tickAlpha"]
            if alpha is None:
                alpha = 255 / (level + 1)
            elif isinstance(alpha, float):
                alpha = min(255, max(0, round(alpha * 255)))
            pen = base_pen
            if base_pen.brush().style() == Qt.BrushStyle.SolidPattern:
                pen = QPen(base_pen)
                color = QColor(pen.color())
                color.setAlpha(int(alpha))
                pen.setColor(color)
            self._level_pens[level] = pen
        return pen

    def boundingRect(self) -> QRectF:
        """pyqtgraph's rectangle grown by a pixel: the axis line reaches one pixel past the axis' own
        rectangle, which the cached pixmap (clipped to this rectangle) would otherwise cut off."""
        rect = super().boundingRect()
        return rect if self.grid is not False else rect.adjusted(-1.0, -1.0, 1.0, 1.0)

    def paint(self, p: QPainter, opt, widget) -> None:
        """Draw straight onto the view's painter. pyqtgraph records the axis into a QPicture and replays
        it; a scrolling axis is laid out anew on every frame, so the recording was pure overhead. The
        layout is kept until pyqtgraph invalidates it (``picture`` set to ``None``)."""
        if self.grid is not False:
            return super().paint(p, opt, widget)
        p.save()
        try:
            if self.picture is None:
                if self.style["tickFont"]:
                    p.setFont(self.style["tickFont"])
                self._specs = self.generateDrawSpecs(p)
                self.picture = True  # pyqtgraph's "layout is valid" flag; it resets it to None
            if self._specs is not None:
                self.drawPicture(p, *self._specs)
        finally:
            p.restore()
        return None

    def drawPicture(self, p: QPainter, axisSpec, tickSpecs, textSpecs) -> None:
        if self.grid is not False:
            return super().drawPicture(p, axisSpec, tickSpecs, textSpecs)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pen, p1, p2 = axisSpec
        p.setPen(pen)
        p.drawLine(p1, p2)
        for pen, lines in tickSpecs:
            if lines:
                p.setPen(pen)
                p.drawLines(lines)
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        p.setClipRect(pg.AxisItem.boundingRect(self).toAlignedRect(), Qt.ClipOperation.IntersectClip)
        for rect, flags, text in textSpecs:
            p.drawText(rect, int(flags), text)
        return None
