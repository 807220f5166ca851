"""The status bar: simulated time, engine steps/s, display FPS, real-time factor, and warnings
(compiling, frames dropped, engine behind, diverged)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from .transport import speed_text

if TYPE_CHECKING:
    from ..controller import RunStats


class StatusPanel:
    """Permanent status-bar fields, filled from :class:`~app.controller.RunStats`."""

    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setFixedWidth(90)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.warning = QLabel()
        self.warning.setProperty("role", "warning")
        self.time = self._field("t = 0", "Simulated time (τ units)", 110)
        self.steps = self._field("0 steps/s", "Engine speed: Euler steps computed per second", 120)
        self.fps = self._field("0 FPS", "Display frames drawn per second", 70)
        self.rtf = self._field("× 0", "Real-time factor: simulated time per second (requested)", 140)
        bar.addWidget(self.busy)
        bar.addWidget(self.warning, 1)
        for label in (self.time, self.steps, self.fps, self.rtf):
            bar.addPermanentWidget(label)

    def _field(self, text: str, tip: str, width: int) -> QLabel:
        label = QLabel(text)
        label.setToolTip(tip)
        label.setMinimumWidth(width)
        return label

    def show_stats(self, stats: RunStats) -> None:
        self.time.setText(f"t = {stats.t:,.2f} τ")
        if not stats.running:
            self.steps.setText("paused")
            self.fps.setText("— FPS")
            self.rtf.setText(f"× — (speed {speed_text(stats.speed)})")
            return
        self.steps.setText(f"{stats.steps_per_s:,.0f} steps/s")
        self.fps.setText("— FPS" if stats.fast_forward else f"{stats.fps:.0f} FPS")
        self.rtf.setText(f"× {stats.rtf:,.3g} (of {speed_text(stats.speed)})")

    def set_stats_visible(self, visible: bool) -> None:
        """Show or hide the basic simulation's figures (hidden while another experiment, such as path
        integration with its own read-outs, is shown: they would describe the paused one behind it)."""
        for label in (self.time, self.steps, self.fps, self.rtf):
            label.setVisible(visible)

    def set_compiling(self, compiling: bool) -> None:
        """Show the busy indicator while numba compiles the kernels."""
        self.busy.setVisible(compiling)
        self.set_warning("Compiling numerical kernels… (first start after an update only; the window "
                         "stays usable)" if compiling else None)

    def set_warning(self, text: str | None, *, severe: bool = False) -> None:
        """A message in the left part of the status bar (``None`` clears it)."""
        self.warning.setText(text or "")
        self.warning.setStyleSheet("color: #ff5c5c; font-weight: bold;" if severe else "")

