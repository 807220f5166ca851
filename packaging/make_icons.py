"""Render the app icon (``resources/icons/canns-studio.svg``) into the formats each platform wants.

::

    python packaging/make_icons.py [OUT_DIR]        (default: build/icons)

writes ``canns-studio-<N>.png`` for the Linux icon theme (N = 16 … 512), ``canns-studio.ico`` for the
Windows executable and installer, ``canns-studio.icns`` for the macOS ``.app``, and a copy of the SVG.
Qt renders the SVG (headless, no display needed) and Pillow writes ICO/ICNS, so this runs on any of the
three systems. The spec file runs it before every build (it takes well under a second).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "resources" / "icons" / "canns-studio.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(out_dir: Path, source: Path = SOURCE) -> dict[str, Path]:
    """Write every icon file into ``out_dir``; returns them by kind (``"ico"``, ``"icns"``, ``"svg"``,
    ``"png<N>"``).

    Raises
    ------
    FileNotFoundError
        When the SVG is missing.
    ValueError
        When Qt cannot parse it.
    """
    if not source.is_file():
        raise FileNotFoundError(f"the app icon is missing: {source}")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # fonts for any <text> in the SVG
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise ValueError(f"Qt cannot read the SVG icon {source}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for size in PNG_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out_dir / f"canns-studio-{size}.png"
        if not image.save(str(path)):
            raise OSError(f"could not write {path}")
        written[f"png{size}"] = path
    largest = Image.open(written[f"png{PNG_SIZES[-1]}"])
    written["ico"] = out_dir / "canns-studio.ico"
    largest.save(written["ico"], sizes=[(s, s) for s in ICO_SIZES])
    written["icns"] = out_dir / "canns-studio.icns"
    largest.save(written["icns"])
    written["svg"] = out_dir / "canns-studio.svg"
    shutil.copyfile(source, written["svg"])
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "build" / "icons"
    for kind, path in render(target).items():
        print(f"{kind:>7}  {path}")
