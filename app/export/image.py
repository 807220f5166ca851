"""Images of views for papers: PNG at a chosen DPI and SVG, optionally in the light theme.

A view is a widget holding pyqtgraph plots (the app's views). PNG and SVG come from pyqtgraph's
exporters applied to the view's graphics scene (so SVG stays vector), written atomically.
:func:`light_theme` temporarily switches a view to the app's light palette (dark text and
curves on white, the same colours as the light theme on screen) and back.
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

from canns_engine.atomic import atomic_output

from ..theme import LIGHT

SCREEN_DPI = 96.0
"""Logical dots per inch of a view on screen: a view W pixels wide prints W / 96 inches wide."""
IMAGE_FORMATS = {".png": "PNG", ".svg": "SVG"}
PAPER = QColor(255, 255, 255)


def graphics_views(widget: QWidget) -> list[pg.GraphicsView]:
    """The pyqtgraph canvases in ``widget`` (itself included), largest first."""
    found = [widget] if isinstance(widget, pg.GraphicsView) else []
    found += widget.findChildren(pg.GraphicsView)
    return sorted(found, key=lambda v: v.width() * v.height(), reverse=True)


@contextlib.contextmanager
def light_theme(widget: QWidget, enabled: bool = True) -> Iterator[None]:
    """Within the block, ``widget`` (a view with ``set_theme``) uses the light palette; then its own again.

    Widgets without themes are left as they are (the exporter still puts them on white).
    """
    previous = getattr(widget, "theme", None)
    if not enabled or previous is None or not hasattr(widget, "set_theme") or previous is LIGHT:
        yield
        return
    widget.set_theme(LIGHT)
    try:
        yield
    finally:
        if isValid(widget):  # not if Qt already deleted it (interpreter exit)
            widget.set_theme(previous)


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
    with light_theme(view, light), atomic_output(path) as tmp:
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


__all__ = ["IMAGE_FORMATS", "export_view_image", "graphics_views", "light_theme"]
