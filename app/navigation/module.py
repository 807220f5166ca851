"""One module of the network: its grid-cell sheet (a rhombic tile of the hexagonal torus) and its three
band-cell rings (polar plots with the decoded phase of each ring)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QSpinBox, QWidget

from canns_engine.hierarchical import NavigationFrame

from ..plots.base import LevelTracker
from ..theme import Theme
from .base import NavigationView

BAND_NAMES = ("band x", "band y", "band z")
BAND_COLORS = ("u", "r", "weight")
"""Theme colours of bands x, y, z."""
RING_RADIUS = 1.0
RING_GAIN = 0.8
"""A ring's activity is drawn as radius RING_RADIUS + RING_GAIN · r / max r."""
SHEAR = QTransform(1.0, -1 / math.sqrt(3), 0.0, 2 / math.sqrt(3), 0.0, 0.0)
"""Phase (φx, φy) ↦ (φx, (2φy − φx)/√3): the sheet's hexagonal metric becomes the plane's, so a bump is round
and the torus a rhombus with 60° and 120° corners."""


def _sheared(phase: np.ndarray) -> tuple[float, float]:
    """Position of grid phase ``(φx, φy)`` on the drawn tile."""
    point = SHEAR.map(float(phase[0]), float(phase[1]))
    return point[0], point[1]


class ModuleView(NavigationView):
    """The grid sheet and band rings of the module chosen in the header spin box.

    Parameters
    ----------
    num_module : int
        Number of modules of the network.
    spacing : numpy.ndarray
        Grid spacing of each module (m), for the titles.
    parent : QWidget, optional
    """

    title = "Modules"

    def __init__(self, num_module: int, spacing: np.ndarray, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spacing = np.asarray(spacing, dtype=float)
        self.module_box = QSpinBox()
        self.module_box.setRange(1, num_module)
        self.module_box.setToolTip("Which module to show (1 = smallest grid spacing)")
        self.module_box.valueChanged.connect(self._on_module_box_value_changed)
        self.add_header_widget(self.module_box, "Module")
        self._levels = LevelTracker()
        self.sheet_plot = self.add_plot(0, 0, rowspan=3, x=("φx", "rad"), y=("(2φy − φx)/√3", "rad"))
        self.sheet_plot.setAspectLocked(True)
        half_height = 3 * math.pi / math.sqrt(3)  # the rhombus' vertical extent
        self.sheet_plot.setRange(xRange=(-math.pi, math.pi), yRange=(-half_height, half_height), padding=0.02)
        self.sheet = pg.ImageItem()
        self.sheet_plot.addItem(self.sheet)
        self.sheet_centre = pg.ScatterPlotItem(size=12, symbol="+")
        self.sheet_plot.addItem(self.sheet_centre)
        self.ring_plots: list[pg.PlotItem] = []
        self.ring_curves: list[pg.PlotDataItem] = []
        self.ring_bases: list[pg.PlotDataItem] = []
        self.ring_phases: list[pg.PlotDataItem] = []
        angle = np.linspace(0.0, 2 * math.pi, 121)
        reach = RING_RADIUS + RING_GAIN + 0.1
        for i, name in enumerate(BAND_NAMES):
            plot = self.add_plot(i, 1, title=name)
            plot.setAspectLocked(True)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            plot.setRange(xRange=(-reach, reach), yRange=(-reach, reach), padding=0)
            base = plot.plot(RING_RADIUS * np.cos(angle), RING_RADIUS * np.sin(angle))
            curve, phase = plot.plot(), plot.plot()
            self.ring_plots.append(plot)
            self.ring_bases.append(base)
            self.ring_curves.append(curve)
            self.ring_phases.append(phase)
        self.graphics.ci.layout.setColumnStretchFactor(0, 3)
        self.graphics.ci.layout.setColumnStretchFactor(1, 1)
        self.set_legend([("bump centre", "decoded", "+"), ("decoded phase", "foreground", "│")])
        self._apply_theme(self.theme)

    @property
    def module(self) -> int:
        """Index (0-based) of the module shown."""
        return self.module_box.value() - 1

    def set_module(self, index: int) -> None:
        """Show module ``index`` (0-based)."""
        self.module_box.setValue(index + 1)

    def _on_module_box_value_changed(self, _value: int) -> None:
        self._levels.reset()
        self.redraw()

    def _apply_theme(self, theme: Theme) -> None:
        self.sheet.setColorMap(pg.colormap.get(theme.activity_cmap))
        self.sheet_centre.setPen(pg.mkPen(theme.decoded, width=2))
        self.sheet_centre.setBrush(pg.mkBrush(theme.decoded))
        for base, curve, phase, color in zip(self.ring_bases, self.ring_curves, self.ring_phases,
                                             BAND_COLORS, strict=True):
            base.setPen(theme.pen(theme.muted, 1.0))
            curve.setPen(theme.pen(getattr(theme, color), 2.0))
            phase.setPen(theme.pen(theme.foreground, 2.0))

    def _draw(self, frame: NavigationFrame) -> None:
        m = self.module
        grid = frame.grid_r[m]
        n = grid.shape[0]
        step = 2 * math.pi / n  # neuron (row, col) sits at phase (−π + col·step, −π + row·step)
        self.sheet.setImage(grid, levels=self._levels.update(grid), autoLevels=False)
        self.sheet.setTransform(QTransform.fromScale(step, step)
                                * QTransform.fromTranslate(-math.pi - step / 2, -math.pi - step / 2) * SHEAR)
        cx, cy = _sheared(frame.grid_centre[m])
        self.sheet_centre.setData([cx], [cy])
        self.set_title(self.sheet_plot, f"Module {m + 1} · spacing {self.spacing[m]:.2f} m · grid cells")
        bands = frame.band_r[m]
        size = bands.shape[1]
        angle = np.append(np.linspace(-math.pi, math.pi, size, endpoint=False), math.pi)
        top = max(float(bands.max()), 1e-12)
        for i in range(3):
            radius = RING_RADIUS + RING_GAIN * np.append(bands[i], bands[i, 0]) / top
            self.ring_curves[i].setData(radius * np.cos(angle), radius * np.sin(angle))
            phi = float(frame.band_phase[m, i])
            reach = RING_RADIUS + RING_GAIN
            self.ring_phases[i].setData([0.0, reach * math.cos(phi)], [0.0, reach * math.sin(phi)])
