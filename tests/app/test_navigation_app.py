"""The live path-integration experiment (issue 7): controller, views, driving by mouse and keys, shutdown.

The screenshot is saved to ``$CANNS_STUDIO_SHOTS`` (default ``<tmp>/shots``)/navigation.png: look at it.
"""

from __future__ import annotations

import gc
import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QWidget

from app import resources
from app.controller import RunState
from app.navigation import (
    NavigationPanel,
    close_navigation_experiment,
    is_navigation_manifest,
    open_navigation_experiment,
)
from app.navigation.arena import ArenaView
from app.theme import configure_pyqtgraph


def _manifest() -> dict:
    return json.loads((resources.presets_dir() / "path_integration.json").read_text(encoding="utf-8"))


@pytest.fixture
def opened(qtbot):
    """A bare main window with the preset open; shut down after the test."""
    configure_pyqtgraph()
    window = QMainWindow()
    qtbot.addWidget(window)
    panel = open_navigation_experiment(window, _manifest(), None)
    window.resize(1300, 800)
    window.show()
    yield window, panel
    panel.shutdown()


def _run(qtbot, panel: NavigationPanel, steps: int, speed: float | None = None) -> None:
    """Run at ``speed`` until at least ``steps`` more steps are done, then pause (frames delivered)."""
    c = panel.controller
    start = c.simulation.step_count
    c.set_speed(speed)
    c.start()
    qtbot.waitUntil(lambda: c.latest_frame is not None and c.latest_frame.step >= start + steps,
                    timeout=30_000)
    c.stop(wait=True)
    qtbot.waitUntil(lambda: not c.is_busy, timeout=5_000)


def test_manifest_is_recognised():
    assert is_navigation_manifest(_manifest())
    assert not is_navigation_manifest({"model": {"type": "CANN1D"}})
    assert not is_navigation_manifest({})


def test_run_draws_the_frame_positions(qtbot, opened):
    window, panel = opened
    assert window.centralWidget() is panel
    _run(qtbot, panel, 200)
    frame = panel.controller.latest_frame
    assert frame.step >= 200
    arena = panel.arena
    assert arena.frame is frame  # the newest frame was drawn after the pause
    x, y = arena.true_marker.getData()
    np.testing.assert_array_equal([x[0], y[0]], frame.position)
    x, y = arena.decoded_marker.getData()
    np.testing.assert_array_equal([x[0], y[0]], frame.decoded)
    tx, ty = arena.true_path.getData()
    np.testing.assert_array_equal([tx[-1], ty[-1]], frame.position)
    dx, dy = arena.decoded_path.getData()
    np.testing.assert_array_equal([dx[-1], dy[-1]], frame.decoded)
    assert len(tx) >= 5  # one point per chunk (40 steps at full speed)
    t, error = panel.error_view.history
    assert t[-1] == pytest.approx(frame.t)
    assert error[-1] == pytest.approx(np.hypot(*(frame.decoded - frame.position)))
    assert error.max() < 0.2  # the preset tracks to a few cm
    np.testing.assert_array_equal(panel.module_view.sheet.image, frame.grid_r[0])


def test_closed_loop_velocity_moves_agent_and_estimate_follows(qtbot, opened):
    _, panel = opened
    c = panel.controller
    start = c.latest_frame.position.copy()
    c.set_velocity((0.08, 0.0))
    _run(qtbot, panel, 300, speed=20.0)  # 15 s at 8 cm/s: 1.2 m to the right
    frame = c.latest_frame
    assert frame.closed_loop
    moved = frame.position - start
    assert moved[0] > 1.0 and abs(moved[1]) < 1e-9
    np.testing.assert_allclose(frame.velocity, (0.08, 0.0))
    assert np.hypot(*(frame.decoded - frame.position)) < 0.1
    assert not panel.walk_button.isChecked()
    panel.walk_button.click()  # back to the random walk
    assert c.velocity is None
    _run(qtbot, panel, 20)
    assert not c.latest_frame.closed_loop


def test_arrow_keys_drive_and_release_stops(qtbot, opened):
    _, panel = opened
    c = panel.controller
    qtbot.keyPress(panel, Qt.Key.Key_Up)
    np.testing.assert_allclose(c.velocity, (0.0, panel.drive_speed))
    qtbot.keyPress(panel, Qt.Key.Key_Right)
    np.testing.assert_allclose(c.velocity, np.array([1.0, 1.0]) / np.sqrt(2) * panel.drive_speed)
    qtbot.keyRelease(panel, Qt.Key.Key_Up)
    np.testing.assert_allclose(c.velocity, (panel.drive_speed, 0.0))
    start = c.latest_frame.position.copy()
    _run(qtbot, panel, 100, speed=20.0)
    assert c.latest_frame.position[0] > start[0] + 0.3
    qtbot.keyRelease(panel, Qt.Key.Key_Right)
    np.testing.assert_allclose(c.velocity, (0.0, 0.0))
    stopped = c.latest_frame.position.copy()
    _run(qtbot, panel, 50, speed=20.0)
    np.testing.assert_allclose(c.latest_frame.position, stopped)


def test_drag_steers_towards_the_cursor(qtbot, opened):
    _, panel = opened
    c = panel.controller
    start = c.latest_frame.position.copy()
    panel.arena.steer_requested.emit((start[0], start[1] + 2.0))
    v = c.velocity
    assert v[0] == pytest.approx(0.0, abs=1e-12) and v[1] == pytest.approx(panel.drive_speed)
    _run(qtbot, panel, 600, speed=20.0)  # 30 s: long enough to arrive and stop there
    np.testing.assert_allclose(c.latest_frame.position, start + np.array([0.0, 2.0]), atol=0.02)
    panel.arena.steer_requested.emit(None)
    np.testing.assert_allclose(c.velocity, (0.0, 0.0))


def test_step_reset_and_shutdown_leave_no_thread(qtbot, opened):
    window, panel = opened
    c = panel.controller
    c.step_once()
    assert c.latest_frame.step > 0
    gc_was_enabled = gc.isenabled()
    c.start()
    assert c.state is RunState.RUNNING and panel.run_button.text() == "Pause"
    assert not gc.isenabled()  # no collection in the worker thread (it may destroy Qt objects there)
    qtbot.waitUntil(lambda: c.latest_frame.step > 20, timeout=10_000)
    c.reset()
    assert gc.isenabled() == gc_was_enabled
    assert not c.is_busy and c.latest_frame.step == 0
    assert len(panel.error_view.history[0]) == 1
    c.start()
    qtbot.waitUntil(lambda: c.latest_frame.step > 20, timeout=10_000)
    close_navigation_experiment(window)
    assert not c.is_busy and c.state is RunState.IDLE
    assert window.centralWidget() is None


def test_docked_in_a_window_with_a_central_widget(qtbot):
    configure_pyqtgraph()
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QWidget())
    panel = open_navigation_experiment(window, _manifest(), "preset.json")
    assert window.centralWidget() is not panel and panel.parentWidget().objectName() == "dock_navigation"
    assert panel.experiment_name == "Path integration"
    close_navigation_experiment(window)
    assert not panel.controller.is_busy


def test_screenshot(qtbot, opened, shots):
    window, panel = opened
    panel.controller.set_speed(None)
    _run(qtbot, panel, 1500)
    panel.module_view.set_module(1)
    image = window.grab().toImage()
    path = shots / "navigation.png"
    image.save(str(path))
    assert path.stat().st_size > 10_000
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 50


def test_the_app_builds_path_integration_after_its_kernels_are_cached(monkeypatch, tmp_path):
    """In the app the network's kernels compile in a helper process first (the first build would compile
    them on the building thread for half a minute); once the app is closing, nothing is built."""
    from app.navigation import controller as nav
    from canns_engine import warmup
    from canns_engine.warmup import KernelCompiler

    waited = []
    compiler = KernelCompiler()
    monkeypatch.setattr(compiler, "ensure", lambda model: waited.append(model) or True)
    monkeypatch.setattr(nav, "KERNELS", compiler)
    sim = nav.build_navigation(_manifest(), in_helpers=True)
    assert waited == ["HierarchicalNetwork"]
    assert sim.net.params.num_module == _manifest()["model"]["params"]["num_module"]
    compiler.stop()
    with pytest.raises(RuntimeError, match="closing"):
        nav.build_navigation(_manifest(), in_helpers=True)
    assert "HierarchicalNetwork" in warmup.WARMABLE


def test_the_arena_legend_keeps_each_entry_on_one_line_when_the_dock_is_narrow(qtbot):
    configure_pyqtgraph()
    view = ArenaView(5.0, 5.0)
    qtbot.addWidget(view)
    one_line = view.legend.heightForWidth(2000)
    assert view.legend.heightForWidth(240) == one_line  # "place-cell rates" broke after its hyphen
