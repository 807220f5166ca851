"""The bump profile: ``u(x)`` and ``r(x)`` with the current input ``inp(x)`` (the canns "energy
landscape" picture). In 2D it is the cross-section through the decoded bump centre.

Pressing or dragging in the plot moves the stimulus there; Shift+click injects a brief pulse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal

from canns_engine import Frame

from .base import FrameView, LevelTracker, set_axis_range
from .interaction import InteractiveViewBox


@dataclass(frozen=True)
class Section:
    """A 1D slice of a frame: the whole ring in 1D, the row through the decoded centre in 2D."""

    x: np.ndarray
    u: np.ndarray
    r: np.ndarray
    inp: np.ndarray
    v: np.ndarray | None
    stim: float  # stimulus position along the slice (NaN when off)
    decoded: float  # decoded bump position along the slice
    row_y: float | None  # the y of the slice (2D), None in 1D


def section_of(frame: Frame) -> Section:
    """The slice of ``frame`` that the profile-style views plot."""
    if frame.u.ndim == 1:
        return Section(frame.x, frame.u, frame.r, frame.inp, frame.v, float(frame.stim_pos),
                       float(frame.decoded_pos), None)
    dec_x, dec_y = (float(p) for p in frame.decoded_pos)
    row = int(np.argmin(np.abs(frame.x - dec_y))) if np.isfinite(dec_y) else len(frame.x) // 2
    v = None if frame.v is None else frame.v[row]
    return Section(frame.x, frame.u[row], frame.r[row], frame.inp[row], v,
                   float(np.asarray(frame.stim_pos)[0]), dec_x, float(frame.x[row]))


class ProfileView(FrameView):
    """``u``, ``r`` and ``inp`` against position, with the stimulus and decoded positions marked."""

    title = "Bump profile"

    stimulus_moved = Signal(object)  # position: float (1D) or (x, y) (2D)
    stimulus_released = Signal()
    pulse_requested = Signal(object)  # position

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._vb = InteractiveViewBox()
        self.plot = self.add_plot(0, 0, x=("position x", "rad"), y=("u, inp", "a.u."), viewbox=self._vb)
        self.plot.showAxis("right")
        self._r_box = pg.ViewBox(enableMouse=False)
        self.plot.scene().addItem(self._r_box)
        right = self.plot.getAxis("right")
        right.linkToView(self._r_box)
        right.enableAutoSIPrefix(False)
        right.setWidth(62)
        self._r_box.setXLink(self.plot)
        self.plot.vb.sigResized.connect(self._on_plot_resized)
        self.inp_curve = self.add_curve(self.plot, fillLevel=0.0)
        self.u_curve = self.add_curve(self.plot)
        self.r_curve = self.add_curve(self._r_box)
        self.set_legend([("synaptic input u", "u", "line"), ("firing rate r (right axis)", "r", "thin"),
                         ("external input inp", "inp", "area")])
        self.stim_line = pg.InfiniteLine(angle=90, movable=False)
        self.decoded_line = pg.InfiniteLine(angle=90, movable=False)
        self.plot.addItem(self.stim_line, ignoreBounds=True)
        self.plot.addItem(self.decoded_line, ignoreBounds=True)
        self.setToolTip("Press or drag to move the stimulus there; Shift+click for a brief pulse")
        self._row_y: float | None = None
        self._left = LevelTracker()
        self._right = LevelTracker()
        self._vb.pressed.connect(self._on_viewbox_pressed)
        self._vb.released.connect(self.stimulus_released)
        self._vb.shift_clicked.connect(self._on_viewbox_shift_clicked)
        self._apply_theme(self.theme)

    def _on_plot_resized(self) -> None:
        self._r_box.setGeometry(self.plot.vb.sceneBoundingRect())

    def _apply_theme(self, theme) -> None:
        self.u_curve.setPen(theme.pen(theme.u, 2.0))
        self.inp_curve.setPen(theme.pen(theme.inp, 1.0))
        self.inp_curve.setBrush(pg.mkBrush(theme.inp + "30"))
        self.r_curve.setPen(theme.pen(theme.r, 1.0))
        self.stim_line.setPen(theme.pen(theme.stimulus, 1.0, "dash"))
        self.decoded_line.setPen(theme.pen(theme.decoded, 1.0))
        self.plot.setLabel("right", "r (a.u.)", color=theme.r, **{"font-size": "9pt"})
        self.plot.getAxis("right").setTextPen(pg.mkPen(theme.r))

    def _draw(self, frame: Frame) -> None:
        s = section_of(frame)
        self.u_curve.setData(s.x, s.u, skipFiniteCheck=True)
        self.inp_curve.setData(s.x, s.inp, skipFiniteCheck=True)
        self.r_curve.setData(s.x, s.r, skipFiniteCheck=True)
        self._set_marker(self.stim_line, s.stim)
        self._set_marker(self.decoded_line, s.decoded)
        low = min(0.0, float(np.nanmin(s.u)), float(np.nanmin(s.inp)))
        top = self._left.update(np.concatenate([s.u, s.inp]))[1]
        set_axis_range(self.plot, "y", low, top, padding=0.02)
        set_axis_range(self.plot, "x", float(s.x[0]), float(s.x[-1]))
        r_top = self._right.update(s.r)[1]
        set_axis_range(self._r_box, "y", r_top * low / top, r_top, padding=0.02)  # zeros on one line
        if s.row_y != self._row_y:  # 2D: say where the slice is (only when it moves)
            self._row_y = s.row_y
            title = "" if s.row_y is None else f"cross-section through the bump at y = {s.row_y:.2f} rad"
            self.set_title(self.plot, title)

    @staticmethod
    def _set_marker(line: pg.InfiniteLine, pos: float) -> None:
        line.setVisible(bool(np.isfinite(pos)))
        if np.isfinite(pos):
            line.setValue(pos)

    def _clear(self) -> None:
        self._left.reset()
        self._right.reset()

    # -- interaction --------------------------------------------------------------------------------
    def _position(self, point: QPointF) -> float | tuple[float, float]:
        if self.frame is None or self.frame.u.ndim == 1:
            return float(point.x())
        y = section_of(self.frame).row_y
        stim_y = float(np.asarray(self.frame.stim_pos)[1])
        return float(point.x()), stim_y if np.isfinite(stim_y) else float(y)

    def _on_viewbox_pressed(self, point: QPointF) -> None:
        self.stimulus_moved.emit(self._position(point))

    def _on_viewbox_shift_clicked(self, point: QPointF) -> None:
        self.pulse_requested.emit(self._position(point))
