"""Offscreen rendering of the views: Frame in, RGB image out, at an exact size, with a time stamp.

:class:`PanelRenderer` owns a widget that is never shown on screen (``WA_DontShowOnScreen``) — the
app's :class:`~app.plots.panel.ViewPanel` by default, so a movie looks exactly like the window — and
paints it into one reused ``QImage`` per frame. This works without a display (``QT_QPA_PLATFORM=
offscreen``) and never touches the live window's widgets, so the app can keep running.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRectF, Qt, qInstallMessageHandler
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsItem, QWidget

from canns_engine import Frame

from ..theme import DARK, LIGHT, configure_pyqtgraph
from .image import graphics_views

MAX_ZOOM_OUT = 1.5
"""A panel that needs more room than the movie size is laid out up to this much larger, rendered there
and scaled down smoothly (small but crisp text instead of squeezed, clipped plots)."""

PanelFactory = Callable[[str, bool], QWidget]
"""Builds the widget to film for a model type, light or dark; it must have ``show_frame(frame)``."""


def ensure_app() -> QApplication:
    """The running QApplication, or a new one set up like the app's (the command line has no window)."""
    app = QApplication.instance()
    if app is None:
        qInstallMessageHandler(_quiet_offscreen_warnings)
        app = QApplication(sys.argv[:1])
        configure_pyqtgraph()  # image axis order and antialiasing, as in the app
    return app


def _quiet_offscreen_warnings(kind: Any, context: Any, message: str) -> None:
    """Drop the offscreen platform's harmless "does not support propagateSizeHints" notice."""
    if "propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")


def view_panel(model_type: str, light: bool = False) -> QWidget:
    """The app's composite view panel for ``model_type`` in the light or the dark palette."""
    from app.plots.panel import ViewPanel

    return ViewPanel(model_type, theme=LIGHT if light else DARK)


def select_views(panel: QWidget, names: Iterable[str] | None) -> None:
    """Show only the views ``names`` of ``panel`` (its ``views`` dict); ``None`` shows them all."""
    views: dict[str, QWidget] = getattr(panel, "views", {}) or {}
    wanted = set(views) if names is None else set(names)
    unknown = wanted - set(views)
    if names is not None and unknown:
        raise ValueError(f"no view named {', '.join(sorted(unknown))}; views: {', '.join(views) or 'none'}")
    for name, view in views.items():
        view.setVisible(name in wanted)


def cache_text_items(widget: QWidget) -> None:
    """Paint axes, titles and legends from cached pixmaps, redrawn only when they change.

    Their text is most of the cost of a frame (pyqtgraph replays each axis picture, glyph by glyph,
    on every paint); caching them more than doubles the frame rate of a movie. Only for the
    offscreen panel: on screen the cache would blur when the window is scaled.
    """
    for view in graphics_views(widget):
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem | pg.LabelItem | pg.LegendItem):
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def _paint(device: QImage, draw: Callable[[QPainter], Any]) -> None:
    painter = QPainter(device)
    try:
        draw(painter)
    finally:
        painter.end()


class PanelRenderer:
    """Render Frames through a widget into ``(height, width, 3)`` uint8 RGB arrays.

    Parameters
    ----------
    size : (int, int)
        Width and height of the images, in pixels.
    views : iterable of str, optional
        The views to film (names of the panel's ``views``); default: the whole panel.
    timestamp : bool
        Add a strip above the views with ``t = …``.
    light : bool
        The app's light palette instead of the dark one.
    factory : callable, optional
        Builds the widget for a model type (default: :func:`view_panel`).
    """

    def __init__(self, size: tuple[int, int], *, views: Iterable[str] | None = None,
                 timestamp: bool = True, light: bool = False, factory: PanelFactory | None = None) -> None:
        ensure_app()
        self.size = (int(size[0]), int(size[1]))
        self.views = None if views is None else list(views)
        self.timestamp = timestamp
        self.light = light
        self._factory = factory or view_panel
        self._panel: QWidget | None = None
        self._model_type: str | None = None
        self._zoom_out = 1.0
        self._canvas: QImage | None = None  # the larger image of a zoomed-out panel
        self._image = QImage(*self.size, QImage.Format.Format_RGB888)
        self._strip = max(14, self.size[1] // 24) if timestamp else 0
        self._font = QFont()
        self._font.setPixelSize(max(10, round(self._strip * 0.7)))

    def _panel_for(self, frame: Frame) -> QWidget:
        if self._panel is None or frame.model_type != self._model_type:
            self.close()
            panel = self._factory(frame.model_type, self.light)
            theme = LIGHT if self.light else DARK
            # the views' header rows are plain widgets: give them the palette too (the app's style
            # sheet follows the window's theme, and the command line has none)
            panel.setStyleSheet(f"QWidget {{ background-color: {theme.background}; "
                                f"color: {theme.foreground}; }}")
            panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
            select_views(panel, self.views)
            width, height = self.size[0], self.size[1] - self._strip
            hint = panel.sizeHint()  # below it, plots get squeezed and clipped: lay out larger, scale down
            self._zoom_out = min(MAX_ZOOM_OUT, max(1.0, hint.width() / width, hint.height() / height))
            panel.resize(round(width * self._zoom_out), round(height * self._zoom_out))
            self._canvas = (QImage(panel.size(), QImage.Format.Format_RGB888) if self._zoom_out > 1
                            else None)
            panel.show()
            self._panel, self._model_type = panel, frame.model_type
            panel.show_frame(frame)  # create every plot item before caching
            cache_text_items(panel)
        return self._panel

    def render(self, frame: Frame) -> np.ndarray:
        """Draw ``frame`` and return the image (a copy, safe to keep)."""
        panel = self._panel_for(frame)
        panel.show_frame(frame)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest.value)  # settle layouts only
        image = self._image
        background = QColor((LIGHT if self.light else DARK).background)
        image.fill(background)
        canvas = self._canvas
        if canvas is not None:
            canvas.fill(background)
            _paint(canvas, lambda p: panel.render(p, QPoint(0, 0)))
            smaller = canvas.scaled(self.size[0], self.size[1] - self._strip,
                                    Qt.AspectRatioMode.IgnoreAspectRatio,
                                    Qt.TransformationMode.SmoothTransformation)
            _paint(image, lambda p: p.drawImage(0, self._strip, smaller))
        else:
            _paint(image, lambda p: panel.render(p, QPoint(0, self._strip)))
        if self.timestamp:
            _paint(image, lambda p: self._stamp(p, frame, background))
        width, height = self.size
        raw = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(height, image.bytesPerLine())
        return raw[:, : 3 * width].reshape(height, width, 3).copy()

    def _stamp(self, painter: QPainter, frame: Frame, background: QColor) -> None:
        painter.setFont(self._font)
        painter.setPen(QColor("black") if background.lightness() > 128 else QColor("white"))
        pad = self._strip // 2
        strip = QRectF(pad, 0, self.size[0] - 2 * pad, self._strip)
        align = Qt.AlignmentFlag
        painter.drawText(strip, align.AlignVCenter | align.AlignLeft, f"t = {frame.t:.2f}")
        right = f"{frame.model_type} · step {frame.step:,}"
        painter.drawText(strip, align.AlignVCenter | align.AlignRight, right)

    def close(self) -> None:
        """Delete the offscreen widget."""
        if self._panel is not None:
            self._panel.close()
            self._panel.deleteLater()
            self._panel = None

    def __enter__(self) -> PanelRenderer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["PanelRenderer", "ensure_app", "select_views", "view_panel"]
