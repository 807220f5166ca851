"""Opening a path-integration experiment in a window.

In a window that already has a central widget (the main window, whose centre is the message banner and
whose views are docks), the panel goes into a "Path integration" dock and the basic model's view docks are
hidden until :func:`close_navigation_experiment`; in a bare ``QMainWindow`` the panel becomes the central
widget. A running basic-model simulation of the window (``window.controller``) is paused first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from ..theme import DARK
from .controller import NavigationController, build_navigation
from .panel import NavigationPanel

if TYPE_CHECKING:
    from canns_engine.hierarchical import NavigationSimulation

DOCK_NAME = "dock_navigation"


class NavigationDock(QDockWidget):
    """The dock holding a :class:`NavigationPanel`; remembers the docks it hid."""

    def __init__(self, panel: NavigationPanel, hidden: list[QDockWidget], parent: QWidget) -> None:
        super().__init__("Path integration", parent)
        self.setObjectName(DOCK_NAME)
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.setWidget(panel)
        self.panel = panel
        self.hidden_docks = hidden


def open_navigation_experiment(window: QMainWindow, manifest: dict[str, Any],
                               path: str | Path | None = None, *,
                               sim: NavigationSimulation | None = None) -> NavigationPanel:
    """Build the experiment of ``manifest`` (unless ``sim``, built from it, is given) and show it in
    ``window``; returns its panel.

    Parameters
    ----------
    window : QMainWindow
        The main window (panel in a dock, basic views hidden) or a bare window (panel in the centre).
    manifest : dict
        A "HierarchicalNetwork" preset or session manifest.
    path : str or Path, optional
        Where it came from (the panel's ``source_path``).
    sim : NavigationSimulation, optional
        ``build_navigation(manifest)``, when already built (the main window builds it in a worker: the
        first build compiles the hierarchical kernels, which takes up to half a minute).

    Raises
    ------
    ConfigError
        For a manifest the engine refuses (nothing in the window changes then).
    """
    controller = NavigationController(build_navigation(manifest) if sim is None else sim)
    close_navigation_experiment(window)
    basic = getattr(window, "controller", None)
    if basic is not None:
        basic.stop(wait=True)
    panel = NavigationPanel(controller)
    panel.setObjectName("navigation_panel")
    panel.experiment_name = manifest.get("name") or "Path integration"
    panel.source_path = None if path is None else Path(path)
    panel.set_theme(getattr(window, "theme", DARK))
    if window.centralWidget() is None:
        window.setCentralWidget(panel)
    else:
        docks = getattr(window, "docks", {})
        hidden = [docks[name] for name in getattr(window, "views", {}) if name in docks
                  and docks[name].isVisible()]
        for dock in hidden:
            dock.hide()
        dock = NavigationDock(panel, hidden, window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.show()
    panel.setFocus()
    return panel


def close_navigation_experiment(window: QMainWindow) -> None:
    """Stop and remove the path-integration experiment of ``window`` (if any); show the docks it hid."""
    dock = window.findChild(NavigationDock, DOCK_NAME)
    if dock is not None:
        dock.panel.shutdown()
        window.removeDockWidget(dock)
        for hidden in dock.hidden_docks:
            hidden.show()
        dock.deleteLater()
    central = window.centralWidget()
    if isinstance(central, NavigationPanel):
        central.shutdown()
        window.takeCentralWidget()
        central.deleteLater()
