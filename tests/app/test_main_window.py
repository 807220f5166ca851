"""The main window end to end: what the user does, and that the views show what the engine computed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QThreadPool, QUrl
from PySide6.QtGui import QDropEvent, QKeySequence

from app import resources
from app.controller import RunState
from app.navigation.panel import NavigationPanel
from app.plots.activity import KymographView, SheetView
from app.workers import Worker
from canns_engine.analysis import decode_population_vector


def test_opens_with_the_default_experiment(window):
    assert window.windowTitle() == "CANN Studio — Smooth tracking[*]"
    assert not window.isWindowModified()
    sim = window.controller.simulation
    assert sim.model.model_type == "CANN1D" and sim.model.num == 128
    assert sim.task.task_type == "SmoothTracking1D"
    assert set(window.views) == {"activity", "tracking", "profile", "connectivity", "adaptation"}
    assert window.actions["run"].text() == "Run"
    assert window.menu_file.title() == "&File" and window.menu_export.title() == "E&xport"
    assert all(view.frame is not None and view.frame.step == 0 for view in window.views.values())


def test_usual_shortcuts(window):
    expected = {"run": "Space", "step": "S", "reset": "Ctrl+R", "faster": "+", "slower": "-",
                "open": "Ctrl+O", "save": "Ctrl+S", "new": "Ctrl+N", "undo": "Ctrl+Z", "redo": "Ctrl+Y",
                "full_screen": "F11"}
    for name, key in expected.items():
        keys = [s.toString() for s in window.actions[name].shortcuts()]
        assert QKeySequence(key).toString() in keys, (name, keys)


def test_views_show_the_engines_frame(qtbot, window, run_steps):
    run_steps(window.controller, 300)
    frame = window.controller.latest_frame
    assert frame.step == window.controller.simulation.step_index >= 300
    for view in window.views.values():
        assert view.frame is frame  # every view drew the same, newest frame
    tracking = window.views["tracking"].last_plotted()
    assert tracking["t"] == pytest.approx(frame.t)
    assert tracking["decoded"][0] == pytest.approx(frame.decoded_pos)
    engine_decode = decode_population_vector(frame.u, frame.x, frame.x[0], frame.x[-1])
    assert tracking["decoded"][0] == pytest.approx(float(engine_decode), abs=1e-9)
    assert tracking["stimulus"][0] == pytest.approx(frame.stim_pos)
    # on screen: the scrolling views plot times relative to their window, which the time axis labels
    view = window.views["tracking"]
    offset = view.error_plot.getAxis("bottom").offset
    t_plotted, decoded_plotted = view.decoded_curves[0].getData()
    assert t_plotted[-1] + offset == pytest.approx(frame.t)
    assert decoded_plotted[-1] == pytest.approx(frame.decoded_pos)
    low, high = view.error_plot.vb.viewRange()[0]
    assert low + offset < frame.t <= high + offset and high - low == pytest.approx(view.window)
    kymograph = window.views["activity"]
    image_rect = kymograph.image.mapRectToParent(kymograph.image.boundingRect())
    kymograph_offset = kymograph.plot.getAxis("bottom").offset
    assert image_rect.right() + kymograph_offset == pytest.approx(kymograph._buffer.end_time())
    assert kymograph.decoded_curve.getData()[0][-1] + kymograph_offset == pytest.approx(frame.t)
    profile = window.views["profile"]
    x, u = profile.u_curve.getData()
    np.testing.assert_allclose(x, frame.x)
    np.testing.assert_allclose(u, frame.u)
    assert profile.decoded_line.value() == pytest.approx(frame.decoded_pos)
    activity = window.views["activity"]
    image, _ = activity._buffer.image()
    np.testing.assert_allclose(image[:, -1], frame.u.astype(np.float32))
    # the bump tracks the stimulus within a fraction of its width (distance wrapped on the ring)
    assert frame.summary["error"] < 0.3
    assert window.views["tracking"].last_plotted()["error"] == frame.summary["error"]


def test_live_parameter_edit_reaches_the_running_engine_and_undoes(qtbot, window):
    controller = window.controller
    controller.start()
    qtbot.waitUntil(lambda: controller.latest_frame.step > 20)
    window.param_panel.fields["k"].spin.setValue(5.0)
    qtbot.waitUntil(lambda: controller.latest_frame.params["k"] == 5.0, timeout=3000)
    assert controller.is_running
    assert window.isWindowModified()
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: controller.latest_frame.params["k"] == pytest.approx(8.1), timeout=3000)
    assert window.param_panel.fields["k"].value() == pytest.approx(8.1)
    window.undo_stack.redo()
    qtbot.waitUntil(lambda: controller.latest_frame.params["k"] == 5.0, timeout=3000)
    controller.stop(wait=True)
    assert controller.simulation.model.k == 5.0
    assert window.param_panel.fields["k"].value() == 5.0
    window.undo_stack.undo()
    assert controller.simulation.model.k == pytest.approx(8.1)
    assert not window.isWindowModified()


def test_a_slider_drag_is_one_undo_step(window):
    slider = window.param_panel.fields["A"].slider
    slider.setSliderDown(True)
    for position in (600, 650, 700, 750):
        slider.setValue(position)
    slider.setSliderDown(False)
    assert window.undo_stack.count() == 1
    assert window.controller.simulation.model.params["A"] == pytest.approx(15.0)
    window.undo_stack.undo()
    assert window.controller.simulation.model.params["A"] == pytest.approx(10.0)


def test_changing_num_rebuilds_the_network(qtbot, window, run_steps):
    run_steps(window.controller, 100)
    decoded = window.controller.latest_frame.decoded_pos
    window.param_panel.fields["num"].spin.setValue(256)
    sim = window.controller.simulation
    assert sim.model.num == 256 and sim.model.u.shape == (256,)
    frame = window.controller.latest_frame
    assert frame.x.shape == (256,)
    assert frame.decoded_pos == pytest.approx(decoded, abs=0.05)  # the bump survives the resampling
    run_steps(window.controller, 50)
    assert window.views["activity"]._buffer.rows == 256
    assert window.views["profile"].u_curve.getData()[1].shape == (256,)
    window.undo_stack.undo()
    assert sim.model.num == 128


def test_a_refused_value_is_explained_and_changes_nothing(window):
    window.param_panel.dt_field.spin.setValue(2.0)  # dt > tau: forward Euler would be unstable
    assert window.controller.settings.dt == pytest.approx(0.05)
    assert window.controller.simulation.dt == pytest.approx(0.05)
    assert window.param_panel.dt_field.value() == pytest.approx(0.05)
    assert "dt" in window.banner.message() and "tau" in window.banner.message()
    assert "border" in window.param_panel.dt_field.spin.styleSheet()
    window.param_panel.fields["tau"].spin.setValue(0.01)  # the same rule from the other side
    assert window.controller.simulation.model.tau == pytest.approx(1.0)
    assert "border" in window.param_panel.fields["tau"].spin.styleSheet()
    assert window.undo_stack.count() == 0


def test_protocol_field_edit_restarts_the_protocol(window):
    edit = window.param_panel.task_fields["duration"]
    edit.setText("10, 10, 10, 10")
    edit.editingFinished.emit()
    assert window.controller.simulation.task.duration == [10.0, 10.0, 10.0, 10.0]
    edit.setText("ten")
    edit.editingFinished.emit()
    assert "border" in edit.styleSheet()
    assert window.controller.simulation.task.duration == [10.0, 10.0, 10.0, 10.0]


def test_divergence_shows_a_message_with_a_reset_button(qtbot, window):
    window.param_panel.fields["k"].spin.setValue(0.0)
    window.controller.set_speed(None)
    window.controller.start()
    qtbot.waitUntil(lambda: "diverged" in window.banner.message(), timeout=10_000)
    qtbot.waitUntil(lambda: window.controller.state is RunState.IDLE)
    assert "k = 0" in window.banner.message()
    assert window.banner.action_button.isVisible() and window.banner.action_button.text() == "Reset"
    assert np.all(np.isfinite(window.views["profile"].frame.u))  # the last good frame stays shown
    window.param_panel.fields["k"].spin.setValue(8.1)
    qtbot.mouseClick(window.banner.action_button, Qt.MouseButton.LeftButton)
    assert window.controller.diverged is None and window.controller.simulation.step_index == 0
    assert not window.banner.message()


def test_switching_models(qtbot, window, run_steps):
    combo = window.param_panel.model_combo
    combo.activated.emit(combo.findData("CANN2D"))
    assert window.controller.simulation.model.model_type == "CANN2D"
    assert isinstance(window.views["activity"], SheetView)
    assert window.windowTitle().endswith("New CANN2D experiment[*]")
    run_steps(window.controller, 40)
    frame = window.controller.latest_frame
    assert window.views["activity"].image.image.shape == frame.u.shape == (48, 48)
    combo.activated.emit(combo.findData("CANN1D_SFA"))
    assert isinstance(window.views["activity"], KymographView)
    assert "tau_v" in window.param_panel.fields
    run_steps(window.controller, 40)
    v = window.views["adaptation"].v_curve.getData()[1]
    np.testing.assert_allclose(v, window.controller.latest_frame.v)


def test_every_preset_opens_from_the_welcome_page(qtbot, window):
    cards = window.welcome.cards
    assert {c.info.path.name for c in cards} >= {p.name for p in resources.preset_paths()}
    assert all(card.info.supported for card in cards)
    for card in cards:
        before = window.controller.simulation
        qtbot.mouseClick(card.open_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda name=card.info.name: window.experiment_name == name, timeout=120_000)
        assert not window.banner.message()
        if card.info.model_type == "HierarchicalNetwork":  # its own panel; the basic simulation waits
            assert window.findChild(NavigationPanel) is not None
            assert window.controller.simulation is before
        else:
            assert window.findChild(NavigationPanel) is None
            assert window.controller.simulation is not before


def test_damaged_file_is_reported(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    before = window.controller.simulation
    assert not window.open_path(bad)
    assert "bad.json" in window.banner.message() and "JSON" in window.banner.message()
    assert window.controller.simulation is before


@pytest.mark.parametrize("suffix", [".canns", ".json"])
def test_save_and_open_again(qtbot, window, run_steps, tmp_path, suffix):
    window.param_panel.fields["k"].spin.setValue(6.0)
    run_steps(window.controller, 200)
    path = tmp_path / f"experiment{suffix}"
    assert window.save_to(path)
    assert not window.isWindowModified()
    saved = window.controller.latest_frame
    window.open_path(resources.default_preset_path())
    assert window.controller.simulation.model.k == pytest.approx(8.1)
    assert window.open_path(path)
    assert window.settings.recent_files()[0] == path.resolve()
    if suffix == ".json":  # a preset holds the settings only
        assert json.loads(path.read_text())["model"]["params"]["k"] == 6.0
        assert window.controller.simulation.step_index == 0
    else:  # a session is replayed (in a worker) to where it was saved, exactly
        qtbot.waitUntil(lambda: window.controller.simulation.step_index == saved.step, timeout=20_000)
        np.testing.assert_array_equal(window.controller.latest_frame.u, saved.u)
        assert window.status.time.text() == f"t = {saved.t:,.2f} τ"  # the status bar shows where it is
    assert window.controller.simulation.model.k == pytest.approx(6.0)
    assert window.experiment_name == "Smooth tracking"


def test_a_reopened_session_shows_the_history_its_views_had(qtbot, window, run_steps, tmp_path):
    """Replaying a session also refills the scrolling views over their time window, with the states the
    run went through (not one snapshot of the end)."""
    run_steps(window.controller, 600)
    saved = window.controller.latest_frame
    live = window.controller.simulation.recording
    path = tmp_path / "history.canns"
    assert window.save_to(path)
    window.open_path(resources.default_preset_path())
    assert window.open_path(path)
    qtbot.waitUntil(lambda: window.controller.simulation.step_index == saved.step, timeout=30_000)
    qtbot.waitUntil(lambda: len(window.views["tracking"]._traces) > 100, timeout=10_000)
    rows = window.views["tracking"]._traces.rows()
    assert rows[-1, 0] == pytest.approx(saved.t) and rows[0, 0] < saved.t - 10.0  # a window, not a point
    at = np.searchsorted(live.t, rows[:, 0] - 1e-9)  # the live run's read-outs at the same times
    np.testing.assert_allclose(rows[:, 0], live.t[at])
    np.testing.assert_allclose(rows[:, 2], live.decoded_pos[at], atol=1e-6)  # float32 summaries
    image, start = window.views["activity"]._buffer.image()
    assert image.shape[1] > 100 and np.ptp(image[:, 0]) > 0  # filled with states, not blank
    assert start < saved.t - 10.0  # from early in the window on
    np.testing.assert_array_equal(window.controller.latest_frame.u, saved.u)


def test_drag_and_arrow_keys_move_the_stimulus(qtbot, window):
    profile = window.views["profile"]
    profile._vb.pressed.emit(QPointF(1.25, 0.0))
    window.controller.step_once()
    assert window.controller.latest_frame.stim_pos == pytest.approx(1.25)
    window.actions["nudge_right"].trigger()
    window.controller.step_once()
    assert window.controller.latest_frame.stim_pos == pytest.approx(1.35)
    window.actions["release"].trigger()
    window.controller.step_once()
    assert window.controller.latest_frame.stim_pos != pytest.approx(1.35)


def test_click_in_the_profile_view_places_the_stimulus(qtbot, window):
    profile = window.views["profile"]
    vb = profile.plot.vb
    y = float(np.mean(vb.viewRange()[1]))
    scene_point = vb.mapViewToScene(QPointF(-1.5, y))
    widget_point = profile.graphics.mapFromScene(scene_point)
    qtbot.mouseClick(profile.graphics.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)
    window.controller.step_once()
    assert window.controller.latest_frame.stim_pos == pytest.approx(-1.5, abs=0.05)


def test_pulse_injects_a_brief_input(window):
    window.actions["pulse"].trigger()
    assert any("pulse" in e for e in window.controller.simulation.events)


def test_fast_forward_runs_without_drawing(qtbot, window):
    activity = window.views["activity"]
    window.actions["fast_forward"].setChecked(True)
    window.controller.start()
    qtbot.waitUntil(lambda: window.controller.latest_frame.step > 2000, timeout=20_000)
    drawn = activity.frames_drawn
    qtbot.wait(200)
    assert activity.frames_drawn == drawn
    window.actions["fast_forward"].setChecked(False)
    qtbot.waitUntil(lambda: activity.frames_drawn > drawn, timeout=2000)
    window.controller.stop(wait=True)


def test_theme_switch_recolours_the_plots(window):
    window.set_theme("light")
    assert window.views["tracking"].graphics.backgroundBrush().color().name() == "#ffffff"
    assert window.settings.theme() == "light"
    window.set_theme("dark")
    assert window.views["tracking"].graphics.backgroundBrush().color().name() == "#1b1d21"


def test_dock_layout_is_remembered_and_can_be_reset(make_window):
    first = make_window()
    first.docks["connectivity"].hide()
    first.close()
    second = make_window()
    assert second.docks["connectivity"].isHidden()
    second.reset_layout()
    assert not second.docks["connectivity"].isHidden()


def test_a_restored_layout_leaves_no_stray_tab_bar_over_the_menus(tmp_path):
    """Restoring a saved layout over the default one used to leave the default's tab bar
    ("Connectivity | Adaptation") painted on top of the File/Edit menus from the second start on.
    Run in a fresh process: inside this test session's QApplication the stray bar does not appear."""
    import os
    import subprocess
    import sys

    code = f"""
import time
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QTabBar
app = QApplication([])
from app.main_window import MainWindow
from app.settings import Settings
settings = Settings(QSettings({str(tmp_path / "layout.ini")!r}, QSettings.Format.IniFormat))
def start():
    window = MainWindow(None, settings=settings, warm_up=False)
    window.show()
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        app.processEvents()
    return window
start().close()  # saves its layout
window = start()
menus = window.menuBar().geometry().bottom()
print([[bar.tabText(i) for i in range(bar.count())] for bar in window.findChildren(QTabBar)
       if bar.isVisible() and bar.count() and bar.mapTo(window, bar.rect().topLeft()).y() <= menus])
window.controller.shutdown()
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_dropping_a_preset_opens_it(qtbot, window):
    path = resources.presets_dir() / "tracking_2d.json"
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(QPoint(200, 200)), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.experiment_name == "2D tracking on a sheet")


def test_closing_leaves_no_worker_running(qtbot, make_window):
    window = make_window()
    window.controller.start()
    qtbot.waitUntil(lambda: window.controller.latest_frame.step > 10)
    window.close()
    assert window.controller.state is RunState.IDLE
    assert window.controller._worker is None
    assert not [w for w in Worker.running if not w.done]
    assert QThreadPool.globalInstance().waitForDone(1000)


def test_a_model_this_window_cannot_show_is_explained(window, tmp_path):
    preset = json.loads((resources.default_preset_path()).read_text())
    preset["model"] = {"type": "GridCellNetwork", "params": {}}
    path = tmp_path / "grid_cells.json"
    path.write_text(json.dumps(preset))
    before = window.controller.simulation
    assert not window.open_path(path)
    assert "GridCellNetwork" in window.banner.message() and "cannot show" in window.banner.message()
    assert window.controller.simulation is before
    assert window.windowTitle() == "CANN Studio — Smooth tracking[*]"


def test_deferred_opening_shows_the_window_first(qtbot, user_settings, no_dialogs, tmp_path):
    """What ``app.main`` does: the window is painted before its views are built and the kernels warm
    up; ``open_initial`` then opens the requested experiment (and does nothing if one is already open)."""
    from app.main_window import MainWindow

    preset = resources.preset_paths()[0]
    window = MainWindow(preset, settings=user_settings, defer_open=True)
    qtbot.addWidget(window)
    window.show()
    assert window.controller.simulation is None and window.view_set is None
    assert not window.controller.is_warming_up  # nothing competes with the first paint
    assert "Opening" in window.status.warning.text()
    window.set_time_window(10.0)  # the menus work before the views exist
    window.open_initial()
    qtbot.waitUntil(lambda: not window.controller.is_warming_up, timeout=180_000)
    assert window.experiment_name == json.loads(preset.read_text())["name"]
    assert window.view_set is not None and window.status.warning.text() == ""
    assert all(view.frame is not None for view in window.views.values())
    sim = window.controller.simulation
    window.open_initial()  # a second call (e.g. after a recovered autosave opened) changes nothing
    assert window.controller.simulation is sim
    window.controller.shutdown()
    window.close()


def test_start_up_imports_leave_sessions_and_path_integration_for_later(tmp_path):
    """h5py and the path-integration views cost ~0.35 s: the first window must not wait for them.
    Checked in a fresh process, with the window built and its services installed as ``app.main`` does."""
    import os
    import subprocess
    import sys

    code = f"""
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from canns_engine.sink import spill_to_disk
from app.main_window import MainWindow
from app.session_io import install_session_services
spill_to_disk()
window = MainWindow(None, defer_open=True)
install_session_services(window, folder=Path({str(tmp_path)!r}), recover=False)
window.show()
app.processEvents()
print(sorted(m for m in ("h5py", "app.navigation.open", "canns_engine.hierarchical", "canns_engine.session")
             if m in sys.modules))
window.controller.shutdown()
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                              "XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_file_handed_over_by_the_desktop_opens(qtbot, window):
    """macOS opens a double-clicked session with a QFileOpenEvent instead of a command-line argument."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    from app.main import open_files_from_the_desktop

    open_files_from_the_desktop(QApplication.instance(), window)
    preset = resources.presets_dir() / "tracking_2d.json"
    QCoreApplication.sendEvent(QApplication.instance(), QFileOpenEvent(str(preset)))
    qtbot.waitUntil(lambda: window.experiment_name == "2D tracking on a sheet")
    assert window.controller.simulation.model.model_type == "CANN2D"


def test_a_session_still_replaying_is_superseded_by_the_next_open(qtbot, window, run_steps, tmp_path):
    """Opening another experiment while a session replays in the background wins: the replay's result,
    arriving later, is dropped (it used to replace the newer experiment)."""
    from app.run_loop import WorkerGC

    run_steps(window.controller, 200)
    session = tmp_path / "long.canns"
    assert window.save_to(session)
    assert window.open_path(session)
    assert window._background is not None  # replaying in a worker
    preset = resources.presets_dir() / "persistent_activity.json"
    assert window.open_path(preset)
    shown = window.controller.simulation
    qtbot.waitUntil(lambda: WorkerGC.holders == 0, timeout=60_000)  # the replay has finished
    qtbot.wait(50)
    assert window.controller.simulation is shown and shown.step_index == 0
    assert window.experiment_name == json.loads(preset.read_text())["name"]
