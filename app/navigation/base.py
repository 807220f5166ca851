"""The base of the navigation views: :class:`~app.plots.base.FrameView` for :class:`NavigationFrame`.

Everything else (themed plots, header row, legend, ``show_frame``/``ingest``/``reset``/``set_theme``) is
the shared view base; only the rule that clears a history differs: navigation frames have no grid or model
type, so a step going back (a reset) is the one signal.
"""

from __future__ import annotations

from canns_engine.hierarchical import NavigationFrame

from ..plots.base import FrameView


class NavigationView(FrameView):
    """A live view of the path-integration experiment (subclasses implement ``_draw``)."""

    def ingest(self, frame: NavigationFrame) -> None:
        """Take ``frame`` into the history (each frame once; a step going back clears it)."""
        last = self._ingested
        if frame is last:
            return
        if last is not None and frame.step < last.step:
            self.reset()
        self._ingest(frame)
        self._ingested = frame
