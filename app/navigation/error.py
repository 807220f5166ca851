"""Decoding error (distance between decoded and true position) against time, scrolling."""

from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from canns_engine.hierarchical import NavigationFrame

from ..theme import Theme
from .base import NavigationView

ERROR_WINDOW = 200.0
"""Simulated seconds shown."""


class ErrorView(NavigationView):
    """Decoding error (cm) over the last :data:`ERROR_WINDOW` seconds, with its mean in the title."""

    title = "Decoding error"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._t: deque[float] = deque()
        self._error: deque[float] = deque()
        self.plot = self.add_plot(0, 0, x=("t", "s"), y=("error", "cm"))
        self.curve = pg.PlotDataItem()
        self.plot.addItem(self.curve)
        self.plot.enableAutoRange(axis="y")
        self.set_legend([("|decoded − true|", "error", "line")])
        self._apply_theme(self.theme)

    @property
    def history(self) -> tuple[np.ndarray, np.ndarray]:
        """Times (s) and errors (m) kept."""
        return np.asarray(self._t), np.asarray(self._error)

    def _apply_theme(self, theme: Theme) -> None:
        self.curve.setPen(theme.pen(theme.error, 1.0))

    def _ingest(self, frame: NavigationFrame) -> None:
        self._t.append(frame.t)
        self._error.append(float(np.hypot(*(frame.decoded - frame.position))))
        while self._t and self._t[0] < frame.t - ERROR_WINDOW:
            self._t.popleft()
            self._error.popleft()

    def _clear(self) -> None:
        self._t.clear()
        self._error.clear()

    def _draw(self, frame: NavigationFrame) -> None:
        t, error = self.history
        self.curve.setData(t, 100 * error)
        self.plot.setXRange(max(frame.t - ERROR_WINDOW, 0.0), max(frame.t, ERROR_WINDOW), padding=0)
        self.set_title(self.plot, f"Decoding error · mean {100 * error.mean():.1f} cm over the last "
                                  f"{t[-1] - t[0]:.0f} s")
