"""Images of views for papers: PNG at a chosen DPI and SVG, optionally on a light background.

A view is any widget holding pyqtgraph plots. PNG and SVG come from pyqtgraph's exporters applied to the
view's graphics scene (so SVG stays vector), written atomically. :func:`publication_style` temporarily
turns a view light (white background, black axes, labels and legend text) and restores it afterwards;
movies use it too.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from canns_engine.session import atomic_output

SCREEN_DPI = 96.0
"""Logical dots per inch of a view on screen: a view W pixels wide prints W / 96 inches wide."""
IMAGE_FORMATS = {".png": "PNG", ".svg": "SVG"}
INK = QColor(0, 0, 0)
PAPER = QColor(255, 255, 255)


def graphics_views(widget: QWidget) -> list[pg.GraphicsView]:
    """The pyqtgraph canvases in ``widget`` (itself included), largest first."""
    found = [widget] if isinstance(widget, pg.GraphicsView) else []
    found += widget.findChildren(pg.GraphicsView)
    return sorted(found, key=lambda v: v.width() * v.height(), reverse=True)


@contextlib.contextmanager
def publication_style(widget: QWidget, enabled: bool = True) -> Iterator[None]:
    """Within the block, ``widget``'s plots are black on white; their own style comes back afterwards."""
    if not enabled:
        yield
        return
    undo = []
    for view in graphics_views(widget):
        brush = view.backgroundBrush()
        view.setBackground(PAPER)
        undo.append(lambda v=view, b=brush: v.setBackgroundBrush(b))
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                pen, text_pen = item.pen(), item.textPen()
                item.setPen(INK)
                item.setTextPen(INK)
                undo.append(lambda a=item, p=pen, t=text_pen: (a.setPen(p), a.setTextPen(t)))
            elif isinstance(item, pg.LabelItem):
                color = item.opts.get("color")
                item.setText(item.text, color=INK)
                undo.append(lambda i=item, c=color: i.setText(i.text, color=c))
            elif isinstance(item, pg.LegendItem):
                brush_l = item.brush()
                text = item.labelTextColor() or pg.mkColor(pg.getConfigOption("foreground"))
                item.setBrush(pg.mkBrush(255, 255, 255, 200))
                item.setLabelTextColor(INK)
                undo.append(lambda i=item, b=brush_l, t=text: (i.setBrush(b), i.setLabelTextColor(t)))
    sheet = widget.styleSheet()
    widget.setStyleSheet(f"{sheet}\nQWidget {{ background-color: white; color: black; }}")
    try:
        yield
    finally:
        if isValid(widget):  # not if Qt already deleted it (interpreter exit)
            widget.setStyleSheet(sheet)
            for restore in reversed(undo):
                restore()


def _explicit_closes(node) -> None:
    """Replace each SVG "close path" (``Z``) by a line back to the subpath's start, in ``node``."""
    for element in node.getElementsByTagName("path"):
        tokens, start = [], None
        for token in element.getAttribute("d").split():
            if token in ("Z", "z"):
                if start is not None:
                    tokens.append(f"L{start}")
                continue
            if token[0] in "Mm":
                start = token[1:]
            tokens.append(token)
        element.setAttribute("d", " ".join(tokens))


@contextlib.contextmanager
def _svg_closed_paths_fix() -> Iterator[None]:
    """Work around pyqtgraph 0.14.0's SVG exporter failing on the ``Z`` that Qt ≥ 6.10 writes for closed
    paths (pyqtgraph issue #3495, "SVGExporter cannot handle closed paths")."""
    module = sys.modules[SVGExporter.__module__]
    original = module.correctCoordinates

    def correct(node, defs, item, options):
        _explicit_closes(node)
        return original(node, defs, item, options)

    module.correctCoordinates = correct
    try:
        yield
    finally:
        module.correctCoordinates = original


def export_view_image(view: QWidget, path: str | os.PathLike[str], *, dpi: float = 300.0,
                      light: bool = True) -> Path:
    """Save ``view`` as PNG (``dpi`` sets the pixel size and the file's DPI) or SVG (vector).

    The format comes from the extension. Raises ``ValueError`` for an unknown extension or a view
    without a pyqtgraph canvas.
    """
    path = Path(path)
    kind = IMAGE_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"{path}: images can be .png or .svg (got {path.suffix or 'no extension'!r})")
    if not 10 <= dpi <= 2400:
        raise ValueError(f"DPI must be between 10 and 2400, got {dpi!r}")
    canvases = graphics_views(view)
    if not canvases:
        raise ValueError(f"the view {view.objectName() or type(view).__name__} has no plot to export")
    scene = canvases[0].scene()
    with publication_style(view, light), atomic_output(path) as tmp:
        background = PAPER if light else canvases[0].backgroundBrush().color()
        if kind == "SVG":
            exporter = SVGExporter(scene)
            exporter.parameters()["background"] = background
            with _svg_closed_paths_fix():
                tmp.write_bytes(exporter.export(toBytes=True))
        else:
            exporter = ImageExporter(scene)
            params = exporter.parameters()
            params["background"] = background
            params["width"] = max(1, round(canvases[0].width() * dpi / SCREEN_DPI))
            image: QImage = exporter.export(toBytes=True)
            dots_per_meter = round(dpi / 0.0254)
            image.setDotsPerMeterX(dots_per_meter)
            image.setDotsPerMeterY(dots_per_meter)
            if not image.save(str(tmp), "PNG"):
                raise OSError(f"{path}: could not write the PNG image")
    return path


__all__ = ["IMAGE_FORMATS", "export_view_image", "graphics_views", "publication_style"]
