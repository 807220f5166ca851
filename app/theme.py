"""Light and dark appearance: the Qt style (pyqtdarktheme) and the matching plot palette.

Every view takes its colours from a :class:`Theme`, so a quantity has the same colour everywhere (the
stimulus is always orange, the decoded bump position always cyan, ``u`` always blue …) and the plots
follow the window when the user switches theme. Only ``"dark"`` and ``"light"`` exist: qdarktheme's
``"auto"`` starts a ``gsettings monitor`` child process that keeps pipes open (see STACK_NOTES).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
import qdarktheme
from PySide6.QtWidgets import QApplication

THEME_NAMES = ("dark", "light")


@dataclass(frozen=True)
class Theme:
    """Colours of one appearance. Curve colours are named after the quantity they show."""

    name: str
    background: str
    foreground: str
    muted: str
    u: str
    r: str
    inp: str
    stimulus: str
    decoded: str
    v: str
    error: str
    weight: str
    highlight: str
    warning: str
    danger: str
    activity_cmap: str = "inferno"
    weight_cmap: str = "viridis"

    def pen(self, color: str, width: float = 2.0, style: str = "solid") -> pg.QtGui.QPen:
        """A cosmetic pen of ``color`` (a :class:`Theme` field value), optionally dashed/dotted.

        The views use whole-pixel widths (2 for the main curves, 1 for the others): curves are not
        antialiased, so a fractional width renders as a line that is unevenly thick, and the 1.5/2.5-px
        pens they had cost more to draw (CANN1D-512 draw cost, blocks of frames alternated in one
        process: 15.3 → 13.7 ms a frame)."""
        styles = {"solid": pg.QtCore.Qt.PenStyle.SolidLine, "dash": pg.QtCore.Qt.PenStyle.DashLine,
                  "dot": pg.QtCore.Qt.PenStyle.DotLine}
        return pg.mkPen(color, width=width, style=styles[style])


DARK = Theme(
    name="dark", background="#1b1d21", foreground="#d7dae0", muted="#8b919c",
    u="#5aa9ff", r="#b48cff", inp="#ff9f1c", stimulus="#ff9f1c", decoded="#2ee6d6", v="#ff6fb5",
    error="#ff5c5c", weight="#9be564", highlight="#2ee6d6", warning="#ffb340", danger="#ff5c5c",
)
LIGHT = Theme(
    name="light", background="#ffffff", foreground="#26292e", muted="#6b7280",
    u="#1d63c9", r="#7b3fd6", inp="#e07b00", stimulus="#e07b00", decoded="#0b8f86", v="#c2256b",
    error="#d12c2c", weight="#3f8f1a", highlight="#0b8f86", warning="#b86e00", danger="#c62828",
)
THEMES = {t.name: t for t in (DARK, LIGHT)}


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options: row-major images (``image[row = y, col = x]``); no antialiasing (it
    doubles the paint time of every view, see ``app/plots/base.py``)."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, useNumba=False)


def apply_theme(app: QApplication, name: str) -> Theme:
    """Style ``app`` as ``"dark"`` or ``"light"`` and return the plot palette to pass to the views."""
    if name not in THEMES:
        raise ValueError(f"theme must be one of {THEME_NAMES}, got {name!r}")
    theme = THEMES[name]
    accent = {"primary": theme.decoded}
    qdarktheme.setup_theme(name, custom_colors={f"[{name}]": accent},
                           additional_qss=_extra_qss(theme))
    pg.setConfigOptions(background=theme.background, foreground=theme.foreground)
    app.setProperty("canns_theme", name)
    return theme


def _extra_qss(theme: Theme) -> str:
    """Small additions: badges in the parameter panel and the message banner."""
    return f"""
    QLabel[badge="live"] {{ color: {theme.weight}; font-size: 9pt; }}
    QLabel[badge="rebuild"] {{ color: {theme.warning}; font-size: 9pt; }}
    QLabel[badge="reset"] {{ color: {theme.muted}; font-size: 9pt; }}
    QLabel[role="hint"] {{ color: {theme.muted}; }}
    QFrame[banner="error"] {{ background: {theme.danger}; border-radius: 4px; }}
    QFrame[banner="info"] {{ background: {theme.highlight}; border-radius: 4px; }}
    QFrame[banner] QLabel, QFrame[banner] QToolButton {{ color: #ffffff; background: transparent; }}
    QFrame[card="preset"] {{ border: 1px solid {theme.muted}; border-radius: 6px; }}
    """
