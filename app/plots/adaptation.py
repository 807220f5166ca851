"""Adaptation (SFA models): the adaptation variable ``v(x)`` next to ``u(x)``.

``v`` follows ``u`` slowly (``τ_v``) and is subtracted from it; where ``v`` is high the bump is pushed
away, which is what makes it travel (``m > τ/τ_v``) or lead a moving stimulus. In 2D the plot is the
cross-section through the decoded centre, as in the bump profile. Models without adaptation get a note.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from canns_engine import Frame

from .base import FrameView, LevelTracker, set_axis_range
from .profile import section_of


class AdaptationView(FrameView):
    """``u(x)`` and ``v(x)`` on one axis, with the decoded bump position marked."""

    title = "Adaptation"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = self.add_plot(0, 0, x=("position x", "rad"), y=("u, v", "a.u."))
        self.u_curve = self.add_curve(self.plot)
        self.v_curve = self.add_curve(self.plot, fillLevel=0.0)
        self.decoded_line = pg.InfiniteLine(angle=90, movable=False)
        self.plot.addItem(self.decoded_line, ignoreBounds=True)
        self.note = pg.TextItem(anchor=(0.5, 0.5))
        self.note.setParentItem(self.plot.vb)
        self._levels = LevelTracker()
        self._note: str | None = None
        self.plot.vb.sigResized.connect(self._on_plot_resized)
        self._apply_theme(self.theme)

    def _on_plot_resized(self) -> None:
        rect = self.plot.vb.boundingRect()
        self.note.setPos(rect.center())

    def _apply_theme(self, theme) -> None:
        self.u_curve.setPen(theme.pen(theme.u, 2.0))
        self.v_curve.setPen(theme.pen(theme.v, 2.0))
        self.v_curve.setBrush(pg.mkBrush(theme.v + "40"))
        self.decoded_line.setPen(theme.pen(theme.decoded, 1.0))
        self.note.setColor(theme.muted)

    def _draw(self, frame: Frame) -> None:
        s = section_of(frame)
        has_v = s.v is not None
        note = "" if has_v else (f"{frame.model_type} has no adaptation.\n"
                                 "Choose an SFA model (CANN1D_SFA, CANN2D_SFA) to see v(x).")
        if note != self._note:  # text and legend only when they change (each sets off a relayout)
            self._note = note
            self.note.setText(note)
            for item in (self.u_curve, self.v_curve):
                item.setVisible(has_v)
            self.set_legend([("synaptic input u", "u", "line"), ("adaptation v", "v", "area"),
                             ("decoded bump", "decoded", "│")] if has_v else [])
        if not has_v:
            self.decoded_line.setVisible(False)
            return
        self.u_curve.setData(s.x, s.u, skipFiniteCheck=True)
        self.v_curve.setData(s.x, s.v, skipFiniteCheck=True)
        self.decoded_line.setVisible(bool(np.isfinite(s.decoded)))
        if np.isfinite(s.decoded):
            self.decoded_line.setValue(s.decoded)
        low = min(0.0, float(np.nanmin(s.u)))
        top = self._levels.update(np.concatenate([s.u, s.v]))[1]
        set_axis_range(self.plot, "y", low, top, padding=0.02)
        set_axis_range(self.plot, "x", float(s.x[0]), float(s.x[-1]))

    def _clear(self) -> None:
        self._levels.reset()
