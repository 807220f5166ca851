"""The parameter panel: model, network parameters, stimulus protocol and run settings, built from the
engine's parameter tables (``canns_engine.MODEL_PARAMS``: label, unit, range, help, live or not).

The panel never changes anything itself: it emits *requests* (``param_edited``, ``protocol_edited`` …)
that the main window checks, turns into undoable commands and hands to the controller. It shows what the
controller reports (:meth:`show_settings`), so the numbers on screen are always those in effect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from canns_engine import MODEL_PARAMS, MODELS, ParamSpec, make_model

from ..workers import signals_blocked
from .param_field import Badge, BoolField, ParamField
from .protocols import (
    PROTOCOLS,
    FieldError,
    default_task,
    format_hint,
    format_value,
    parse_value,
    protocol_of,
)

if TYPE_CHECKING:
    from ..controller import ExperimentSettings

SOFT_RANGES = {"tau": (0.1, 10.0), "k": (0.0, 50.0), "a": (0.05, 1.5), "A": (0.0, 20.0),
               "J0": (0.0, 10.0), "tau_v": (1.0, 100.0), "m": (0.0, 2.0)}
"""Slider ranges (UI hints: the engine only sets hard limits; the spin box accepts any valid value)."""

MODEL_HELP = {
    "CANN1D": "Ring of neurons: a bump of activity encodes one angle.",
    "CANN1D_SFA": "Ring with spike-frequency adaptation v: bumps can travel and anticipate.",
    "CANN2D": "L × L sheet on a torus: a bump encodes a 2D position.",
    "CANN2D_SFA": "Sheet with spike-frequency adaptation v.",
}
MAX_WIDTH = 420
"""The panel asks for the width of its rows, up to this many pixels."""
DT_SPEC = ParamSpec(name="dt", default=0.05, label="dt", help="Euler step size (re-times the protocol)",
                    unit="τ", minimum=0.0, exclusive_minimum=True, live=True)


def _tooltip(spec: ParamSpec, kind: str) -> str:
    unit = f" [{spec.unit}]" if spec.unit else ""
    how = {"live": "Applies live.", "rebuild": "Rebuilds the network at once, keeping its activity.",
           "reset": "Needs a reset."}[kind]
    try:
        allowed = spec.range_text()
    except TypeError:  # engine bug: range_text() fails on a spec without a minimum (z_min, z_max)
        allowed = "any finite number"
    return f"<b>{spec.label}</b>{unit}: {spec.help}.<br>Allowed: {allowed}. {how}"


def _row_label(spec: ParamSpec) -> str:
    return f"{spec.label} ({spec.unit})" if spec.unit and spec.unit != "time" else (
        f"{spec.label} (τ)" if spec.unit == "time" else spec.label)


def _task_type(settings: ExperimentSettings) -> str | None:
    return None if settings.task is None else settings.task["type"]


class ParamPanel(QScrollArea):
    """Editable experiment settings. Signals carry requests; :meth:`show_settings` shows the truth."""

    model_requested = Signal(str)  # model type: a new experiment
    param_edited = Signal(str, object, bool)  # name, value, continuing (slider drag)
    dt_edited = Signal(float)
    protocol_edited = Signal(dict)  # task spec without time_step
    loop_toggled = Signal(bool)
    seed_edited = Signal(object)  # int or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self._layout.setSpacing(10)
        self.setWidget(body)
        self.fields: dict[str, ParamField | BoolField] = {}
        self.task_fields: dict[str, QLineEdit] = {}
        self._settings: ExperimentSettings | None = None
        self._build_model_group()
        self._network_group = QGroupBox("Network")
        self._network_form = QFormLayout(self._network_group)
        self._layout.addWidget(self._network_group)
        self.critical_label = QLabel()
        self._build_protocol_group()
        self._build_run_group()
        self._layout.addStretch(1)
        self._model_type: str | None = None

    # -- building -----------------------------------------------------------------------------------
    def _build_model_group(self) -> None:
        group = QGroupBox("Model")
        layout = QVBoxLayout(group)
        row = QHBoxLayout()
        self.model_combo = QComboBox()
        for name in MODELS:
            self.model_combo.addItem(name, name)
        self.model_combo.setToolTip("The network. Changing it starts a new experiment with that model's "
                                    "defaults.")
        self.model_combo.activated.connect(self._on_model_combo_activated)
        row.addWidget(self.model_combo, 1)
        row.addWidget(Badge("reset"))
        layout.addLayout(row)
        self.model_help = QLabel()
        self.model_help.setWordWrap(True)
        self.model_help.setProperty("role", "hint")
        layout.addWidget(self.model_help)
        self._layout.addWidget(group)

    def _build_protocol_group(self) -> None:
        group = QGroupBox("Stimulus protocol")
        self._protocol_form = QFormLayout(group)
        row = QHBoxLayout()
        self.protocol_combo = QComboBox()
        self.protocol_combo.setToolTip("What the stimulus does. A new protocol starts from the current "
                                       "time; the network keeps its activity.")
        self.protocol_combo.activated.connect(self._on_protocol_combo_activated)
        row.addWidget(self.protocol_combo, 1)
        row.addWidget(Badge("live"))
        self._protocol_form.addRow("Protocol", row)
        self.protocol_help = QLabel()
        self.protocol_help.setWordWrap(True)
        self.protocol_help.setProperty("role", "hint")
        self._protocol_form.addRow(self.protocol_help)
        self._task_box = QWidget()  # the protocol's own fields, replaced when the protocol changes
        self._protocol_form.addRow(self._task_box)
        self.loop_check = QCheckBox("Repeat the protocol (loop)")
        self.loop_check.setToolTip("Start the protocol again when it ends, forever.")
        self.loop_check.toggled.connect(self.loop_toggled)
        self._protocol_form.addRow(self.loop_check)
        self._layout.addWidget(group)

    def _build_run_group(self) -> None:
        group = QGroupBox("Simulation")
        form = QFormLayout(group)
        self.dt_field = ParamField("dt", minimum=0.0, exclusive_minimum=True, decimals=4)
        self.dt_field.setToolTip(_tooltip(DT_SPEC, "live"))
        self.dt_field.edited.connect(self._on_dt_field_edited)
        form.addRow(self._labelled("dt (τ)", DT_SPEC.help), self._with_badge(self.dt_field, "live"))
        self.seed_edit = QLineEdit()
        self.seed_edit.setPlaceholderText("random")
        self.seed_edit.setToolTip("Seed of the input noise (template matching), used from the next "
                                  "reset. Empty: a random seed.")
        self.seed_edit.editingFinished.connect(self._on_seed_edit_finished)
        form.addRow(self._labelled("Seed", "seed of the input noise"),
                    self._with_badge(self.seed_edit, "reset"))
        self._layout.addWidget(group)

    @staticmethod
    def _labelled(text: str, tip: str) -> QLabel:
        label = QLabel(text)
        label.setToolTip(tip)
        return label

    @staticmethod
    def _with_badge(widget: QWidget, kind: str) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(widget, 1)
        row.addWidget(Badge(kind))
        return box

    def _rebuild_network_form(self, model_type: str) -> None:
        while self._network_form.rowCount():
            self._network_form.removeRow(0)
        self.fields = {}
        for spec in MODEL_PARAMS[model_type]:
            kind = "live" if spec.live else "rebuild"
            if getattr(spec, "boolean", False):
                field = BoolField(spec.name)
            else:
                field = ParamField(spec.name, minimum=spec.minimum, maximum=spec.maximum,
                                   integer=spec.integer, soft_range=SOFT_RANGES.get(spec.name),
                                   exclusive_minimum=spec.exclusive_minimum)
            field.setToolTip(_tooltip(spec, kind))
            field.edited.connect(self.param_edited)
            label = self._labelled(_row_label(spec), _tooltip(spec, kind))
            self._network_form.addRow(label, self._with_badge(field, kind))
            self.fields[spec.name] = field
        self.critical_label = QLabel()
        self.critical_label.setWordWrap(True)
        self.critical_label.setProperty("role", "hint")
        self._network_form.addRow(self.critical_label)

    def _rebuild_protocol_form(self, ndim: int, task: dict[str, Any] | None) -> None:
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self._protocol_form.replaceWidget(self._task_box, box)
        self._task_box.deleteLater()
        self._task_box = box
        self.task_fields = {}
        protocol = protocol_of(None if task is None else task["type"])
        with signals_blocked(self.protocol_combo):
            self.protocol_combo.clear()
            for p in PROTOCOLS.values():
                self.protocol_combo.addItem(p.label, p.key)
            if task is None:
                self.protocol_combo.addItem("None (free run)", None)
            elif protocol is None:
                self.protocol_combo.addItem(f"Custom trajectory ({task['type']})", None)
            index = self.protocol_combo.findData(None if protocol is None else protocol.key)
            self.protocol_combo.setCurrentIndex(max(index, 0))
        if protocol is None:
            self.protocol_help.setText("No input unless you place the stimulus (drag in the profile view)."
                                       if task is None else "A trajectory given point by point (from the "
                                       "file); pick another protocol to edit.")
        else:
            self.protocol_help.setText(protocol.help)
            for f in protocol.fields:
                edit = QLineEdit()
                edit.setPlaceholderText(format_hint(f.kind, ndim))
                edit.setToolTip(f"{f.help}; {format_hint(f.kind, ndim)}")
                edit.editingFinished.connect(self._on_task_field_edited)
                label = f"{f.label} ({f.unit})" if f.unit else f.label
                form.addRow(self._labelled(label, f.help), edit)
                self.task_fields[f.name] = edit

    # -- showing ------------------------------------------------------------------------------------
    def show_settings(self, settings: ExperimentSettings) -> None:
        """Show ``settings`` (never emits edits)."""
        model = MODELS[settings.model_type]
        if settings.model_type != self._model_type:
            self._model_type = settings.model_type
            self._rebuild_network_form(settings.model_type)
            with signals_blocked(self.model_combo):
                self.model_combo.setCurrentIndex(self.model_combo.findData(settings.model_type))
            self.model_help.setText(MODEL_HELP.get(settings.model_type, ""))
        old = self._settings
        if old is None or old.model_type != settings.model_type or _task_type(old) != _task_type(settings):
            self._rebuild_protocol_form(model.ndim, settings.task)
        for name, field in self.fields.items():
            field.set_value(settings.params[name])
            field.set_error(None)
        self._fit_width()
        protocol = protocol_of(None if settings.task is None else settings.task["type"])
        if protocol is not None:
            for f in protocol.fields:
                edit = self.task_fields[f.name]
                edit.setText(format_value(f.kind, settings.task.get(f.name)))
                edit.setCursorPosition(0)
                edit.setStyleSheet("")
        self.dt_field.set_value(settings.dt)
        self.dt_field.set_error(None)
        with signals_blocked(self.loop_check):
            self.loop_check.setChecked(settings.loop)
        self.seed_edit.setText("" if settings.seed is None else str(settings.seed))
        if self._settings is None or settings.params != self._settings.params:
            self._show_critical(settings)
        self._settings = settings.copy()

    def _fit_width(self) -> None:
        """Never cut the rows off: the panel is at least as wide as its content needs (measured once
        styled, i.e. when shown)."""
        scrollbar = self.verticalScrollBar().sizeHint().width()
        self.setMinimumWidth(min(self.widget().minimumSizeHint().width(), MAX_WIDTH) + scrollbar + 4)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit_width()

    def _show_critical(self, settings: ExperimentSettings) -> None:
        """The bump-existence threshold k_c for the current network (a teaching aid)."""
        try:
            k_c = make_model(settings.model_type, settings.params).k_c
        except (ValueError, TypeError):
            self.critical_label.setText("")
            return
        k = settings.params["k"]
        if k == 0:
            verdict = "there is no inhibition: activity grows without bound (the run diverges)"
        elif k < k_c:
            verdict = "a bump persists after the input is removed"
        else:
            verdict = "no bump survives without input"
        self.critical_label.setText(f"k_c = ρ·J₀²/(8√(2π)·a) = {k_c:.3g}: with k = {k:.3g} {verdict}.")

    def show_error(self, name: str, message: str) -> None:
        """Mark the field ``name`` (a parameter, ``dt``, ``task`` or ``seed``) as refused."""
        if name in self.fields:
            self.fields[name].set_error(message)
        elif name == "dt":
            self.dt_field.set_error(message)
        elif name in self.task_fields:
            self.task_fields[name].setStyleSheet("border: 2px solid #e5484d;")
            self.task_fields[name].setToolTip(message)

    # -- requests -----------------------------------------------------------------------------------
    def _on_model_combo_activated(self, index: int) -> None:
        model_type = self.model_combo.itemData(index)
        if model_type != self._model_type:
            self.model_requested.emit(model_type)

    def _on_protocol_combo_activated(self, index: int) -> None:
        key = self.protocol_combo.itemData(index)
        if key is None or self._settings is None:
            return
        current = self._settings.task
        if current is not None and protocol_of(current["type"]) is PROTOCOLS[key]:
            return
        self.protocol_edited.emit(default_task(PROTOCOLS[key], MODELS[self._model_type].ndim))

    def _on_task_field_edited(self) -> None:
        if self._settings is None or self._settings.task is None:
            return
        task = self._settings.task
        protocol = protocol_of(task["type"])
        ndim = MODELS[self._model_type].ndim
        spec = dict(task)
        for f in protocol.fields:
            edit = self.task_fields[f.name]
            try:
                spec[f.name] = parse_value(f.kind, edit.text(), ndim)
            except FieldError as exc:
                edit.setStyleSheet("border: 2px solid #e5484d;")
                edit.setToolTip(f"{f.label}: {exc}")
                return
            edit.setStyleSheet("")
        if spec != task:
            self.protocol_edited.emit(spec)

    def _on_dt_field_edited(self, _name: str, value: float, continuing: bool) -> None:
        if not continuing:
            self.dt_edited.emit(float(value))

    def _on_seed_edit_finished(self) -> None:
        text = self.seed_edit.text().strip()
        try:
            seed = parse_value("seed", text, 1)
        except FieldError as exc:
            self.seed_edit.setStyleSheet("border: 2px solid #e5484d;")
            self.seed_edit.setToolTip(str(exc))
            return
        self.seed_edit.setStyleSheet("")
        if self._settings is not None and seed != self._settings.seed:
            self.seed_edited.emit(seed)

