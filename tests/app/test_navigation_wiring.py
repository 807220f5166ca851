"""The main window opens the path-integration preset in its own panel and goes back to the basic views."""

from app import resources
from app.navigation.panel import NavigationPanel


def test_path_integration_preset_opens_its_panel_and_a_basic_preset_restores_the_views(qtbot, make_window):
    window = make_window()
    activity = window.docks["activity"]
    assert activity.isVisible()
    assert window.open_path(resources.presets_dir() / "path_integration.json")
    panel = window.findChild(NavigationPanel)
    assert panel is not None and panel.isVisible()
    assert not activity.isVisible()  # the basic views make room
    assert not window.docks["parameters"].isVisible() and not window.transport.isVisible()
    assert window.experiment_name == "Path integration"
    panel.controller.start()
    qtbot.waitUntil(lambda: panel.controller.latest_frame is not None
                    and panel.controller.latest_frame.step > 50, timeout=120_000)
    assert window.open_path(resources.presets_dir() / "smooth_tracking.json")
    qtbot.waitUntil(lambda: window.findChild(NavigationPanel) is None)
    assert activity.isVisible() and window.experiment_name != "Path integration"
    assert window.docks["parameters"].isVisible() and window.transport.isVisible()
