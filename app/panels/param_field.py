"""One editable number of the parameter panel: a slider (for continuous values), a spin box, and a
badge that says how a change takes effect.

A slider drag sends a stream of edits marked ``continuing`` (so undo merges them into one step); the
spin box sends one edit when the value is committed (Enter, focus out, arrow click).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QSpinBox, QWidget

from ..workers import signals_blocked

SLIDER_STEPS = 1000

BADGES = {
    "live": ("live", "Applies immediately, also while the network runs."),
    "rebuild": ("rebuild", "Rebuilds the network (connectivity or grid) at once; the activity is kept "
                "(resampled onto a new grid)."),
    "reset": ("at reset", "Takes effect when the experiment is reset or rebuilt."),
}


class Badge(QLabel):
    """A small coloured word: ``live``, ``rebuild`` or ``at reset`` (styled by the theme's QSS)."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        text, tip = BADGES[kind]
        super().__init__(text, parent)
        self.setProperty("badge", kind)
        self.setToolTip(tip)


class ParamField(QWidget):
    """Editor of one numeric value.

    Parameters
    ----------
    name : str
        Key sent with every edit.
    minimum, maximum : float or None
        Hard limits of the value (``None``: unbounded).
    integer : bool
        Integer values (spin box only).
    soft_range : (float, float), optional
        Range of the slider; without it there is no slider. The spin box still accepts any value
        within the hard limits (the slider then sits at its end).
    exclusive_minimum : bool
        ``minimum`` itself is not allowed.
    decimals : int
        Digits after the decimal point.
    """

    edited = Signal(str, object, bool)  # name, value, continuing (a slider drag in progress)

    def __init__(self, name: str, *, minimum: float | None = None, maximum: float | None = None,
                 integer: bool = False, soft_range: tuple[float, float] | None = None,
                 exclusive_minimum: bool = False, decimals: int = 4,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._soft = soft_range
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.slider: QSlider | None = None
        if soft_range is not None and not integer:
            self.slider = QSlider(Qt.Orientation.Horizontal)
            self.slider.setRange(0, SLIDER_STEPS)
            self.slider.setMinimumWidth(50)
            self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the spin box; arrows nudge
            self.slider.valueChanged.connect(self._on_slider_value_changed)
            self.slider.sliderReleased.connect(self._on_slider_released)
            layout.addWidget(self.slider, 1)
        if integer:
            self.spin = QSpinBox()
            self.spin.setRange(int(minimum if minimum is not None else -2**31),
                               int(maximum if maximum is not None else 2**31 - 1))
        else:
            self.spin = QDoubleSpinBox()
            self.spin.setDecimals(decimals)
            low = -1e9 if minimum is None else minimum + (10.0**-decimals if exclusive_minimum else 0.0)
            self.spin.setRange(low, 1e9 if maximum is None else maximum)
            span = (soft_range[1] - soft_range[0]) if soft_range else 1.0
            self.spin.setSingleStep(_nice_step(span / 100))
        self.spin.setKeyboardTracking(False)
        self.spin.setMinimumWidth(74)
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.spin.valueChanged.connect(self._on_spin_value_changed)
        layout.addWidget(self.spin, 0 if self.slider is not None else 1)
        self._value = self.spin.value()

    def value(self) -> float | int:
        return self.spin.value()

    def set_value(self, value: float | int) -> None:
        """Show ``value`` without emitting an edit."""
        with signals_blocked(self.spin):
            self.spin.setValue(value)
        self._value = self.spin.value()
        self._sync_slider()

    def set_error(self, message: str | None) -> None:
        """Mark the field as refused (red frame, message as tooltip) or clear the mark."""
        self.spin.setStyleSheet("" if message is None else "border: 2px solid #e5484d;")
        self.spin.setToolTip(message or "")

    # -- internals ----------------------------------------------------------------------------------
    def _sync_slider(self) -> None:
        if self.slider is None:
            return
        low, high = self._soft
        fraction = (float(self.spin.value()) - low) / (high - low)
        with signals_blocked(self.slider):
            self.slider.setValue(round(min(max(fraction, 0.0), 1.0) * SLIDER_STEPS))

    def _on_slider_value_changed(self, position: int) -> None:
        low, high = self._soft
        value = low + (high - low) * position / SLIDER_STEPS
        with signals_blocked(self.spin):
            self.spin.setValue(value)
        self._emit(self.slider.isSliderDown())

    def _on_slider_released(self) -> None:
        self._emit(False, force=True)

    def _on_spin_value_changed(self, _value: float) -> None:
        self._sync_slider()
        self._emit(False)

    def _emit(self, continuing: bool, force: bool = False) -> None:
        value = self.spin.value()
        if value == self._value and not force:
            return
        self._value = value
        self.edited.emit(self.name, value, continuing)


class BoolField(QWidget):
    """Editor of a true/false parameter (a check box) with the same interface as :class:`ParamField`."""

    edited = Signal(str, object, bool)

    def __init__(self, name: str, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.check = QCheckBox(text)
        self.check.toggled.connect(lambda on: self.edited.emit(self.name, bool(on), False))
        layout.addWidget(self.check)

    def value(self) -> bool:
        return self.check.isChecked()

    def set_value(self, value: bool) -> None:
        with signals_blocked(self.check):
            self.check.setChecked(bool(value))

    def set_error(self, message: str | None) -> None:
        self.check.setStyleSheet("" if message is None else "color: #e5484d;")
        self.check.setToolTip(message or "")


def _nice_step(step: float) -> float:
    """Round a step to 1, 2 or 5 × 10ⁿ."""
    if not step > 0:
        return 1.0
    exponent = math.floor(math.log10(step))
    mantissa = step / 10.0**exponent
    nice = 1.0 if mantissa < 1.5 else 2.0 if mantissa < 3.5 else 5.0
    return nice * 10.0**exponent
