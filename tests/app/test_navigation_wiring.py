"""The main window opens the path-integration preset in its own panel and goes back to the basic views."""

from app import resources
from app.navigation.panel import NavigationPanel
from app.run_loop import WorkerGC


def test_path_integration_preset_opens_its_panel_and_a_basic_preset_restores_the_views(qtbot, make_window):
    window = make_window()
    activity = window.docks["activity"]
    assert activity.isVisible()
    assert window.open_path(resources.presets_dir() / "path_integration.json")
    assert "Preparing path integration" in window.status.warning.text()  # built in a worker
    qtbot.waitUntil(lambda: window.findChild(NavigationPanel) is not None, timeout=120_000)
    panel = window.findChild(NavigationPanel)
    assert panel.isVisible() and window.status.warning.text() == ""
    assert not activity.isVisible()  # the basic views make room
    assert not window.docks["parameters"].isVisible() and not window.transport.isVisible()
    assert not window.status.time.isVisible()  # the paused basic run's figures are not shown beside it
    assert window.experiment_name == "Path integration"
    panel.controller.start()
    qtbot.waitUntil(lambda: panel.controller.latest_frame is not None
                    and panel.controller.latest_frame.step > 50, timeout=120_000)
    assert window.open_path(resources.presets_dir() / "smooth_tracking.json")
    qtbot.waitUntil(lambda: window.findChild(NavigationPanel) is None)
    assert activity.isVisible() and window.experiment_name != "Path integration"
    assert window.docks["parameters"].isVisible() and window.transport.isVisible()
    assert window.status.time.isVisible()


def test_the_window_stays_responsive_while_path_integration_is_built(qtbot, make_window):
    """The first build compiles the hierarchical kernels (~30 s on a cold cache): it happens in a worker,
    the event loop keeps running, and opening something else meanwhile wins."""
    window = make_window()
    assert window.open_path(resources.presets_dir() / "path_integration.json")
    assert window._background is not None  # open_path returned before the build finished
    assert window.status.busy.isVisible()
    assert window.open_path(resources.presets_dir() / "tracking_2d.json")  # supersedes it
    assert window.experiment_name == "2D tracking on a sheet"
    assert window._background is None  # (the busy bar may now show the sheet kernels compiling)
    qtbot.waitUntil(lambda: WorkerGC.holders == 0, timeout=120_000)  # the superseded build has finished
    qtbot.wait(100)
    assert window.findChild(NavigationPanel) is None
    assert window.docks["activity"].isVisible() and window.experiment_name == "2D tracking on a sheet"


def test_a_path_integration_experiment_saves_as_a_preset_and_opens_again(qtbot, make_window, tmp_path):
    """Save writes the path-integration experiment (never the hidden basic one); exports, which draw the
    basic views, are off while it is shown."""
    import json

    window = make_window()
    preset = resources.presets_dir() / "path_integration.json"
    window.open_path(preset)
    qtbot.waitUntil(lambda: window.findChild(NavigationPanel) is not None, timeout=120_000)
    assert not window.menu_export.isEnabled()
    assert not window.save_to(tmp_path / "walk.canns")
    assert ".json preset" in window.banner.message() and not (tmp_path / "walk.canns").exists()
    assert window.save_to(tmp_path / "walk.json")
    assert json.loads((tmp_path / "walk.json").read_text()) == json.loads(preset.read_text())
    assert window.path == tmp_path / "walk.json"

    assert window.open_path(resources.presets_dir() / "smooth_tracking.json")
    qtbot.waitUntil(lambda: window.findChild(NavigationPanel) is None)
    assert window.menu_export.isEnabled()
    assert window.open_path(tmp_path / "walk.json")
    qtbot.waitUntil(lambda: window.findChild(NavigationPanel) is not None, timeout=120_000)
    assert window.experiment_name == json.loads(preset.read_text())["name"]
