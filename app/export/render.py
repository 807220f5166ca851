"""Offscreen rendering of the views: Frame in, RGB image out, at an exact size, with a time stamp.

:class:`PanelRenderer` owns a widget that is never shown on screen (``WA_DontShowOnScreen``) — the
app's :class:`~app.plots.panel.ViewPanel` by default, so a movie looks exactly like the window — and
paints it into one reused ``QImage`` per frame. This works without a display (``QT_QPA_PLATFORM=
offscreen``) and never touches the live window's widgets, so the app can keep running.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication, QWidget

from canns_engine import Frame

from .image import publication_style

PanelFactory = Callable[[str], QWidget]
"""Builds the widget to film for a model type; it must have ``show_frame(frame)``."""


def ensure_app() -> QApplication:
    """The running QApplication, or a new one (the command line renders without a window)."""
    app = QApplication.instance()
    return app if app is not None else QApplication(sys.argv[:1])


def view_panel(model_type: str) -> QWidget:
    """The app's composite view panel for ``model_type`` (imported here: only movies need it)."""
    from app.plots.panel import ViewPanel

    return ViewPanel(model_type)


def select_views(panel: QWidget, names: Iterable[str] | None) -> None:
    """Show only the views ``names`` of ``panel`` (its ``views`` dict); ``None`` shows them all."""
    views: dict[str, QWidget] = getattr(panel, "views", {}) or {}
    wanted = set(views) if names is None else set(names)
    unknown = wanted - set(views)
    if names is not None and unknown:
        raise ValueError(f"no view named {', '.join(sorted(unknown))}; views: {', '.join(views) or 'none'}")
    for name, view in views.items():
        view.setVisible(name in wanted)


class PanelRenderer:
    """Render Frames through a widget into ``(height, width, 3)`` uint8 RGB arrays.

    Parameters
    ----------
    size : (int, int)
        Width and height of the images, in pixels.
    views : iterable of str, optional
        The views to film (names of the panel's ``views``); default: the whole panel.
    timestamp : bool
        Paint ``t = …`` in the top-left corner.
    light : bool
        Black on white (:func:`~app.export.image.publication_style`) instead of the app's theme.
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
        self._style = contextlib.ExitStack()
        self._image = QImage(*self.size, QImage.Format.Format_RGB888)
        self._font = QFont()
        self._font.setPixelSize(max(10, self.size[1] // 32))

    def _panel_for(self, frame: Frame) -> QWidget:
        if self._panel is None or frame.model_type != self._model_type:
            self.close()
            panel = self._factory(frame.model_type)
            panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
            panel.resize(*self.size)
            select_views(panel, self.views)
            panel.show()
            self._panel, self._model_type = panel, frame.model_type
            self._style = contextlib.ExitStack()
            panel.show_frame(frame)  # create the plot items before styling them
            self._style.enter_context(publication_style(panel, self.light))
        return self._panel

    def render(self, frame: Frame) -> np.ndarray:
        """Draw ``frame`` and return the image (a copy, safe to keep)."""
        panel = self._panel_for(frame)
        panel.show_frame(frame)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest.value)  # settle layouts only
        image = self._image
        image.fill(QColor("white") if self.light else panel.palette().window().color())
        painter = QPainter(image)
        try:
            panel.render(painter, QPoint(0, 0))
            if self.timestamp:
                self._stamp(painter, frame)
        finally:
            painter.end()
        width, height = self.size
        raw = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(height, image.bytesPerLine())
        return raw[:, : 3 * width].reshape(height, width, 3).copy()

    def _stamp(self, painter: QPainter, frame: Frame) -> None:
        text = f"t = {frame.t:.2f}"
        painter.setFont(self._font)
        pad = max(4, self.size[1] // 90)
        box = painter.fontMetrics().boundingRect(text).adjusted(-pad, -pad // 2, pad, pad // 2)
        box.moveTopLeft(QPoint(pad, pad))
        painter.fillRect(box, QColor(255, 255, 255, 200) if self.light else QColor(0, 0, 0, 160))
        painter.setPen(QColor("black") if self.light else QColor("white"))
        painter.drawText(QRectF(box), Qt.AlignmentFlag.AlignCenter, text)

    def close(self) -> None:
        """Restore the styling and delete the offscreen widget."""
        self._style.close()
        if self._panel is not None:
            self._panel.close()
            self._panel.deleteLater()
            self._panel = None

    def __enter__(self) -> PanelRenderer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["PanelRenderer", "ensure_app", "select_views", "view_panel"]
