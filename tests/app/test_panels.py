"""Panels on their own: the parameter form round trip, protocol text fields, the welcome page."""

from __future__ import annotations

import json

import pytest

from app.controller import ExperimentSettings
from app.panels.param_panel import ParamPanel
from app.panels.protocols import PROTOCOLS, FieldError, default_task, format_value, parse_value
from app.panels.welcome import WelcomePage
from canns_engine import MODEL_PARAMS


def settings(model_type="CANN1D", **params):
    defaults = {p.name: p.default for p in MODEL_PARAMS[model_type]}
    task = default_task(PROTOCOLS["SmoothTracking"], 2 if "2D" in model_type else 1)
    return ExperimentSettings(model_type, {**defaults, **params}, 0.05, task, True, 3)


def test_the_form_is_built_from_the_engines_parameter_table(qtbot):
    panel = ParamPanel()
    qtbot.addWidget(panel)
    panel.show_settings(settings("CANN1D_SFA", k=2.5))
    assert set(panel.fields) == {p.name for p in MODEL_PARAMS["CANN1D_SFA"]}
    assert panel.fields["k"].value() == pytest.approx(2.5)
    assert "adaptation" in panel.fields["m"].toolTip()
    assert panel.loop_check.isChecked() and panel.seed_edit.text() == "3"
    assert "k_c" in panel.critical_label.text()


def test_edits_are_requests_not_changes(qtbot):
    panel = ParamPanel()
    qtbot.addWidget(panel)
    panel.show_settings(settings())
    with qtbot.waitSignal(panel.param_edited) as blocker:
        panel.fields["A"].spin.setValue(12.0)
    assert blocker.args == ["A", 12.0, False]
    with qtbot.assertNotEmitted(panel.param_edited):
        panel.show_settings(settings(A=7.0))  # showing values never emits
    assert panel.fields["A"].value() == 7.0
    with qtbot.waitSignal(panel.protocol_edited) as blocker:
        panel.task_fields["Iext"].setText("0, 1.5, -1, 0")
        panel.task_fields["Iext"].editingFinished.emit()
    assert blocker.args[0]["Iext"] == [0.0, 1.5, -1.0, 0.0]
    with qtbot.waitSignal(panel.model_requested) as blocker:
        panel.model_combo.activated.emit(panel.model_combo.findData("CANN2D"))
    assert blocker.args == ["CANN2D"]


@pytest.mark.parametrize(("kind", "text", "ndim", "value"), [
    ("positions", "0, 2, -1", 1, [0.0, 2.0, -1.0]),
    ("positions", "(0, 0), (2, 1.5)", 2, [[0.0, 0.0], [2.0, 1.5]]),
    ("position", "(1, -0.5)", 2, [1.0, -0.5]),
    ("durations", "20, 30", 1, [20.0, 30.0]),
    ("seed", "", 1, None),
])
def test_protocol_fields_read_and_write_back(kind, text, ndim, value):
    assert parse_value(kind, text, ndim) == value
    assert parse_value(kind, format_value(kind, value), ndim) == value


@pytest.mark.parametrize(("kind", "text", "ndim"), [
    ("positions", "zero, two", 1), ("positions", "1", 1), ("position", "1", 2), ("durations", "-1", 1),
    ("seed", "1.5", 1),
])
def test_unreadable_protocol_fields_say_what_is_expected(kind, text, ndim):
    with pytest.raises(FieldError, match=r"expected|cannot read|seed"):
        parse_value(kind, text, ndim)


def test_welcome_page_explains_files_it_cannot_open(qtbot, tmp_path):
    good = {"format": "canns-studio-session", "schema_version": 2, "name": "Ring", "description": "A ring.",
            "model": {"type": "CANN1D", "params": {}}, "task": None, "view": {"welcome_order": 1}}
    (tmp_path / "b_ring.json").write_text(json.dumps(good))
    (tmp_path / "a_grid.json").write_text(json.dumps({**good, "name": "Grid", "view": {},
                                                      "model": {"type": "GridCells", "params": {}}}))
    (tmp_path / "c_broken.json").write_text("{")
    page = WelcomePage(lambda: sorted(tmp_path.glob("*.json")), lambda t: t == "CANN1D")
    qtbot.addWidget(page)
    names = [card.info.name for card in page.cards]
    assert names[0] == "Ring"  # welcome_order first, then by name
    by_name = {card.info.name: card for card in page.cards}
    assert "Not supported yet" in by_name["Grid"].info.problem
    assert by_name["Grid"].open_button.text() == "Details"
    assert "Cannot read" in by_name["c_broken"].info.problem
    with qtbot.waitSignal(page.open_requested) as blocker:
        by_name["Ring"].open_button.click()
    assert blocker.args == [tmp_path / "b_ring.json"]
