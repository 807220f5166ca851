"""Connectivity: the recurrent weights ``W`` as an image and as the profile ``W(x_c, x)``.

1D: the full ``num × num`` matrix (sub-sampled above 512 neurons, exactly at the kept neurons) and the
row of the centre neuron; hovering a neuron (in either plot) draws its row too. 2D: the weights from the
centre neuron to the whole sheet (``W`` has ``L⁴`` entries, too many to show) and their cross-section.
The weights are recomputed only when ``a``, ``J0`` or the grid change.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from canns_engine import Frame
from canns_engine.connectivity import conn_mat_1d, peak_weight

from .base import FrameView
from .interaction import InteractiveViewBox

MAX_MATRIX = 512


class ConnectivityView(FrameView):
    """Weight matrix (or centre kernel in 2D) and weight profiles, following ``a``, ``J0``, ``num``."""

    title = "Connectivity"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._matrix_vb = InteractiveViewBox()
        self.matrix_plot = self.add_plot(0, 0, viewbox=self._matrix_vb, x=("neuron j at x_j", "rad"),
                                         y=("neuron i at x_i", "rad"))
        self.image = pg.ImageItem(axisOrder="row-major")
        self.matrix_plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), width=12, interactive=False, colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.matrix_plot)
        self.hover_line = pg.InfiniteLine(angle=0, movable=False)
        self.matrix_plot.addItem(self.hover_line, ignoreBounds=True)
        self._profile_vb = InteractiveViewBox()
        self.profile_plot = self.add_plot(0, 1, viewbox=self._profile_vb, x=("position x", "rad"),
                                          y=("weight W", ""))
        self.centre_curve = self.add_curve(self.profile_plot)
        self.hover_curve = self.add_curve(self.profile_plot)
        self.caption = pg.LabelItem(justify="left", size="9pt")
        self._stacked: bool | None = None
        self._arrange(stacked=False)
        self._key: tuple | None = None
        self._rows: np.ndarray | None = None  # kept neurons' weight rows (1D) / centre kernel row (2D)
        self._xs: np.ndarray | None = None
        self._hover_row: int | None = None
        self._matrix_vb.hovered.connect(self._on_matrix_hovered)
        self._profile_vb.hovered.connect(self._on_profile_hovered)
        self.set_legend([("weights of the centre neuron", "weight", "line"),
                         ("of the hovered neuron", "highlight", "thin")])
        self._apply_theme(self.theme)

    def _arrange(self, stacked: bool) -> None:
        """Matrix and profile side by side, or one above the other in a narrow dock."""
        if stacked == self._stacked:
            return
        self._stacked = stacked
        layout = self.graphics.ci
        for item in (self.matrix_plot, self.profile_plot, self.caption):
            if item in layout.items:
                layout.removeItem(item)
        if stacked:
            layout.addItem(self.matrix_plot, 0, 0)
            layout.addItem(self.profile_plot, 1, 0)
            layout.addItem(self.caption, 2, 0)
        else:
            layout.addItem(self.matrix_plot, 0, 0)
            layout.addItem(self.profile_plot, 0, 1)
            layout.addItem(self.caption, 1, 0, 1, 2)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange(stacked=event.size().width() < 1.6 * event.size().height())

    def _apply_theme(self, theme) -> None:
        self.colorbar.setColorMap(pg.colormap.get(theme.weight_cmap))
        self.style_colorbar(self.colorbar, "")  # the profile's axis already says "weight W"
        self.centre_curve.setPen(theme.pen(theme.weight, 2.0))
        self.hover_curve.setPen(theme.pen(theme.highlight, 1.0))
        self.hover_line.setPen(theme.pen(theme.highlight, 1.0, "dash"))
        self.caption.setAttr("color", theme.muted)
        self._key = None  # titles and caption are redrawn in the new colours

    def _draw(self, frame: Frame) -> None:
        p = frame.params
        key = (frame.model_type, len(frame.x), float(frame.x[0]), float(frame.x[-1]), p["a"], p["J0"])
        if key == self._key:
            return
        self._key = key
        x = frame.x
        z_min, z_range = float(x[0]), float(x[-1] - x[0])
        stride = max(1, int(np.ceil(len(x) / MAX_MATRIX)))
        xs = x[::stride]
        rows = conn_mat_1d(xs, p["J0"], p["a"], z_range)
        centre = len(xs) // 2
        d = z_range / max(len(xs) - 1, 1)
        rect = QRectF(z_min - d / 2, z_min - d / 2, z_range + d, z_range + d)
        self._matrix_vb.setAspectLocked(frame.u.ndim == 2)
        if frame.u.ndim == 1:
            image = rows
            self.set_title(self.matrix_plot, "weight matrix W(x_i, x_j)")
            self.set_axis_label(self.matrix_plot, "left", "neuron i at x_i", "rad")
            self.set_axis_label(self.matrix_plot, "bottom", "neuron j at x_j", "rad")
        else:  # separable: W(c, (x, y)) = w(x) w(y) / peak
            image = np.outer(rows[centre], rows[centre]) / peak_weight(p["J0"], p["a"])
            self.set_title(self.matrix_plot, "weights from the centre neuron")
            self.set_axis_label(self.matrix_plot, "left", "position y", "rad")
            self.set_axis_label(self.matrix_plot, "bottom", "position x", "rad")
        self._rows, self._xs = rows, xs
        top = float(image.max()) if image.size else 1.0
        self.image.setImage(image, autoLevels=False, levels=(0.0, top))
        self.image.setRect(rect)
        self.colorbar.setLevels((0.0, top))
        self.matrix_plot.setRange(xRange=(z_min, z_min + z_range), yRange=(z_min, z_min + z_range),
                                  padding=0)
        self.centre_curve.setData(xs, rows[centre])
        self.profile_plot.setXRange(z_min, z_min + z_range, padding=0)
        self.profile_plot.setYRange(0.0, top, padding=0.05)
        self._show_hover()
        self.caption.setText(
            f"a = {p['a']:.3g} rad · J₀ = {p['J0']:.3g} · peak weight J₀/(√(2π)·a) = "
            f"{peak_weight(p['J0'], p['a']):.3g} · {len(x)}{'' if frame.u.ndim == 1 else '²'} neurons"
            + (f" (image shows every {stride}th)" if stride > 1 else ""))

    def _clear(self) -> None:
        self._key = None

    # -- hover --------------------------------------------------------------------------------------
    def _on_matrix_hovered(self, point) -> None:
        self._set_hover(None if point is None else point.y())

    def _on_profile_hovered(self, point) -> None:
        self._set_hover(None if point is None else point.x())

    def _set_hover(self, position: float | None) -> None:
        if self._xs is None or position is None:
            self._hover_row = None
        else:
            self._hover_row = int(np.argmin(np.abs(self._xs - position)))
        self._show_hover()

    def _show_hover(self) -> None:
        row = self._hover_row
        visible = row is not None and self._rows is not None
        self.hover_curve.setVisible(visible)
        self.hover_line.setVisible(visible)
        if visible:
            self.hover_curve.setData(self._xs, self._rows[row])
            self.hover_line.setValue(float(self._xs[row]))

    @property
    def hovered_neuron(self) -> int | None:
        """Index (among the kept neurons) of the neuron whose row is drawn, if any."""
        return self._hover_row
