"""The main window: docks, menus, actions and the title; it wires panels, views and the controller.

No physics and no threads here: the :class:`~app.controller.SimulationController` runs the network,
the views (``app.plots``) draw frames, the panels (``app.panels``) show and request settings. Every
parameter edit goes through :meth:`MainWindow.request_update`, which checks it with the engine first,
then applies it as an undoable command.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from canns_engine import CannsEngineError, ConfigError, Frame, NumericalInstabilityError, Simulation
from canns_engine.manifest import build_simulation, manifest_of

from . import resources
from .controller import DEFAULT_SPEED, RECORD_LIMIT_BYTES, SPEEDS, SimulationController
from .dialogs import files
from .navigation.manifest import MODEL_TYPE as NAVIGATION_MODEL_TYPE
from .navigation.manifest import is_navigation_manifest
from .panels.banner import MessageBanner
from .panels.param_panel import ParamPanel
from .panels.protocols import default_manifest
from .panels.status import StatusPanel
from .panels.transport import SpeedControl, TransportBar
from .panels.welcome import WelcomePage
from .plots.history import KYMOGRAPH_COLUMNS
from .plots.panel import VIEW_NAMES, ViewSet, family_of
from .run_loop import RunState, WorkerGC
from .settings import Settings
from .theme import THEMES, Theme, apply_theme, configure_pyqtgraph
from .workers import create_worker

log = logging.getLogger(__name__)

APP_NAME = "CANN Studio"
DEFAULT_SIZE = (1400, 900)
PARAM_DOCK_WIDTH = 350
NUDGE = 0.1
"""Arrow keys move the stimulus by this much (rad)."""
TIME_WINDOWS = (10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
AUTO_WINDOW_SECONDS = 6.0
"""In "auto" mode the scrolling views span this many seconds of wall-clock time at the current speed."""
DOCK_TITLES = {"activity": "Activity", "tracking": "Tracking",
               "profile": "Bump profile — drag to move the stimulus, Shift+click for a pulse",
               "connectivity": "Connectivity", "adaptation": "Adaptation (SFA)",
               "parameters": "Parameters", "experiments": "Experiments"}
SIM_OVERRIDES = {"record": "summary", "max_bytes": RECORD_LIMIT_BYTES}
"""The app records per-step summaries (bounded), whatever the file asked for."""


class EditCommand(QUndoCommand):
    """An undoable change: applying ``new`` now, ``old`` on undo (both :meth:`Simulation.apply` updates).

    Consecutive edits of the same key made during one slider drag merge into one undo step.
    """

    def __init__(self, window: MainWindow, key: str, text: str, old: dict[str, Any], new: dict[str, Any],
                 continuing: bool) -> None:
        super().__init__(text)
        self.window, self.key, self.old, self.new, self.continuing = window, key, old, new, continuing

    def id(self) -> int:
        return 1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditCommand) or other.key != self.key or not self.continuing:
            return False
        self.new, self.continuing = other.new, other.continuing
        self.setText(other.text())
        return True

    def redo(self) -> None:
        self.window.controller.apply(self.new)

    def undo(self) -> None:
        self.window.controller.apply(self.old)


class MainWindow(QMainWindow):
    """CANN Studio's window. Opens the default experiment unless ``path`` names another one.

    Public surface used by other parts of the app: :attr:`controller`, :attr:`views`,
    :attr:`menu_file`, :attr:`menu_export`, :attr:`experiment_name`, :meth:`open_path`,
    :meth:`current_manifest`.
    """

    def __init__(self, path: str | Path | None = None, *, settings: Settings | None = None,
                 warm_up: bool = True, defer_open: bool = False) -> None:
        """``warm_up``: compile each model's kernels in the background before it is first run (off: the
        first engine call compiles them). ``defer_open``: build only the window now and open the
        experiment in :meth:`open_initial` (what :func:`app.main.main` does, so the window is on screen
        before the views are built and the kernels compile)."""
        super().__init__()
        configure_pyqtgraph()
        self.settings = settings or Settings()
        self.controller = SimulationController(self)
        self.controller.compile_in_background = warm_up
        self.undo_stack = QUndoStack(self)
        self.experiment_name = "Untitled experiment"
        self.experiment_description = ""
        self.path: Path | None = None
        self.view_set: ViewSet | None = None
        self.views: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.time_window: float | None = None  # None = auto
        self._held_stimulus: np.ndarray | None = None
        self._pulse_target: Any = None
        self._background: tuple[object, Callable[[Any, Exception | None], None]] | None = None
        """The open running in a worker (a session replay, a path-integration build): its token and what
        to do with its result; ``None`` when nothing is pending (or a later open superseded it)."""
        self._navigation_manifest: dict[str, Any] | None = None  # the path-integration experiment shown
        self.setAcceptDrops(True)
        self.setWindowIcon(QIcon(str(resources.icon_path("canns-studio.svg"))))
        self.setDockNestingEnabled(True)
        self._build_actions()
        self._build_central()
        self._build_docks()
        self._build_menus()
        self.speed_control = SpeedControl(SPEEDS, DEFAULT_SPEED)
        self.transport = TransportBar(self.actions, self.speed_control, self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.transport)
        self.status = StatusPanel(self.statusBar())
        self._connect()
        self.theme = self.set_theme(self.settings.theme())
        self.resize(*DEFAULT_SIZE)
        if not self._restore_layout():  # (restoring over the default layout left a stray tab bar on
            self._apply_default_layout()  # top of the menu bar: Qt keeps the default's tab groups)
            QTimer.singleShot(0, self, self._apply_default_sizes)
        self._initial_path = path
        if defer_open:
            self.status.set_warning("Opening the experiment…")
        else:
            self.open_initial()

    def open_initial(self) -> None:
        """Open the experiment given at construction (else the default one), unless one is open already.

        The views' plots take most of the window's construction time; :func:`app.main.main` calls this
        right after the window's first paint, so the window appears first and fills a moment later.
        """
        path, self._initial_path = self._initial_path, None
        if self.controller.simulation is not None:  # e.g. a recovered autosave was opened first
            return
        self.status.set_warning(None)
        opened = path is not None and self.open_path(path)
        if not opened and not self.open_path(resources.default_preset_path(), remember=False):
            self._load_experiment(default_manifest("CANN1D"), None)

    # -- construction ---------------------------------------------------------------------------------
    def _action(self, name: str, text: str, slot, shortcut=None, *, tip: str = "", icon=None,
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden (full screen)
        self.actions[name] = action
        return action

    def _build_actions(self) -> None:
        self.actions: dict[str, QAction] = {}
        sp = QStyle.StandardPixmap
        std = QKeySequence.StandardKey
        a = self._action
        a("new", "&New experiment", self._on_new_triggered, std.New, tip="The default experiment")
        a("open", "&Open…", self._on_open_triggered, std.Open, tip="Open a preset (.json) or a session "
          "(.canns)", icon=sp.SP_DialogOpenButton)
        a("save", "&Save", self.save, std.Save, icon=sp.SP_DialogSaveButton)
        a("save_as", "Save &As…", self.save_as, std.SaveAs)
        a("quit", "&Quit", self.close, std.Quit)
        a("undo", "&Undo", self.undo_stack.undo, std.Undo)
        a("redo", "&Redo", self.undo_stack.redo, ["Ctrl+Y", "Ctrl+Shift+Z"])
        a("run", "Run", self.controller.toggle_running, "Space", icon=sp.SP_MediaPlay,
          tip="Run or pause the network (Space)")
        a("step", "Step", self.controller.step_once, "S", icon=sp.SP_MediaSeekForward,
          tip="Advance one display frame (S)")
        a("reset", "Reset", self._on_reset_triggered, "Ctrl+R", icon=sp.SP_MediaSkipBackward,
          tip="Back to t = 0 with zero activity (Ctrl+R)")
        a("faster", "Faster", self._on_faster_triggered, ["+", "="], tip="Increase the speed (+)")
        a("slower", "Slower", self._on_slower_triggered, "-", tip="Decrease the speed (−)")
        a("fast_forward", "Fast-forward", self._on_fast_forward_toggled, "F", checkable=True,
          icon=sp.SP_MediaSeekForward, tip="Run as fast as possible without drawing (F)")
        self.actions["fast_forward"].triggered.disconnect()
        self.actions["fast_forward"].toggled.connect(self._on_fast_forward_toggled)
        a("pulse", "Pulse", self._on_pulse_triggered, "P", tip="Inject a brief input (P): at the last "
          "Shift+clicked position, else a quarter turn away from the bump")
        a("release", "Release stimulus", self._on_release_triggered, "Esc",
          tip="Give the stimulus back to the protocol after a drag (Esc)")
        nudges = (("nudge_left", "Left", (-NUDGE, 0.0)), ("nudge_right", "Right", (NUDGE, 0.0)),
                  ("nudge_down", "Down", (0.0, -NUDGE)), ("nudge_up", "Up", (0.0, NUDGE)))
        for name, key, delta in nudges:
            a(name, f"Move stimulus {key.lower()}", lambda _=False, d=delta: self.nudge_stimulus(d), key)
        a("reset_layout", "Reset &layout", self.reset_layout, tip="Put every panel back where it started")
        a("full_screen", "&Full screen", self._on_full_screen_toggled, "F11", checkable=True)
        self.actions["full_screen"].triggered.disconnect()
        self.actions["full_screen"].toggled.connect(self._on_full_screen_toggled)
        a("welcome", "&Experiments", self._on_welcome_triggered, "F1", tip="Ready-made experiments")
        a("about", "&About CANN Studio", self._on_about_triggered)
        self.undo_stack.canUndoChanged.connect(self.actions["undo"].setEnabled)
        self.undo_stack.canRedoChanged.connect(self.actions["redo"].setEnabled)
        self.undo_stack.undoTextChanged.connect(lambda t: self.actions["undo"].setText(f"&Undo {t}"))
        self.undo_stack.redoTextChanged.connect(lambda t: self.actions["redo"].setText(f"&Redo {t}"))
        self.actions["undo"].setEnabled(False)
        self.actions["redo"].setEnabled(False)

    def _build_central(self) -> None:
        """The centre holds only the message banner; every view is a dock around it."""
        central = QWidget()
        central.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 2, 4, 2)
        self.banner = MessageBanner()
        layout.addWidget(self.banner)
        self.setCentralWidget(central)

    def _build_docks(self) -> None:
        for name in (*VIEW_NAMES, "parameters", "experiments"):
            dock = QDockWidget(DOCK_TITLES[name], self)
            dock.setObjectName(f"dock_{name}")
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable)
            self.docks[name] = dock
        self.param_panel = ParamPanel()
        self.docks["parameters"].setWidget(self.param_panel)
        self.welcome = WelcomePage(resources.preset_paths, _can_show)
        self.docks["experiments"].setWidget(self.welcome)
        for name in VIEW_NAMES:
            self.docks[name].setWidget(QWidget())
            self.docks[name].visibilityChanged.connect(
                lambda visible, n=name: self._on_dock_visibility_changed(n, visible))

    def _apply_default_layout(self) -> None:
        """Parameters (and experiments) on the left; activity and tracking on top, profile and
        connectivity/adaptation below."""
        d = self.docks
        for dock in d.values():
            self.removeDockWidget(dock)
        left, bottom = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self.setCorner(Qt.Corner.TopLeftCorner, left)
        self.setCorner(Qt.Corner.BottomLeftCorner, left)
        self.addDockWidget(left, d["parameters"])
        self.tabifyDockWidget(d["parameters"], d["experiments"])
        self.addDockWidget(bottom, d["activity"])
        self.splitDockWidget(d["activity"], d["profile"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["activity"], d["tracking"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["profile"], d["connectivity"], Qt.Orientation.Horizontal)
        self.tabifyDockWidget(d["connectivity"], d["adaptation"])
        for dock in d.values():
            dock.show()
        d["parameters"].raise_()
        self._raise_model_tab()
        self._apply_default_sizes()

    def _apply_default_sizes(self) -> None:
        """Split the window between the docks (again once shown: the parameter panel's width is only
        known when it is styled)."""
        d = self.docks
        width, height = self.width(), self.height()
        left = max(PARAM_DOCK_WIDTH, self.param_panel.minimumWidth())
        rest = width - left
        self.resizeDocks([d["parameters"]], [left], Qt.Orientation.Horizontal)
        self.resizeDocks([d["activity"], d["tracking"]], [int(rest * 0.56), int(rest * 0.44)],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([d["profile"], d["connectivity"]], [int(rest * 0.5), int(rest * 0.5)],
                         Qt.Orientation.Horizontal)
        # all height to the docks: the central widget only holds the (usually hidden) banner
        self.resizeDocks([d["activity"], d["profile"]], [int(height * 0.55), int(height * 0.45)],
                         Qt.Orientation.Vertical)

    def _raise_model_tab(self) -> None:
        """Show the adaptation tab for SFA models, the connectivity tab otherwise."""
        sfa = self.controller.settings is not None and self.controller.settings.model_type.endswith("_SFA")
        self.docks["adaptation" if sfa else "connectivity"].raise_()

    def _restore_layout(self) -> bool:
        """The layout saved at the last close, if any (True when restored)."""
        geometry, state = self.settings.geometry(), self.settings.dock_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        return state is not None and self.restoreState(state)

    def reset_layout(self) -> None:
        """View ▸ Reset layout: default size, docks back in place, saved layout forgotten."""
        self.settings.clear_layout()
        self.transport.show()
        if not self.isFullScreen():
            self.resize(*DEFAULT_SIZE)
        self._apply_default_layout()
        QTimer.singleShot(0, self, self._apply_default_sizes)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        act = self.actions
        self.menu_file = bar.addMenu("&File")
        for name in ("new", "open"):
            self.menu_file.addAction(act[name])
        self.menu_recent = self.menu_file.addMenu("Open &Recent")
        self.menu_recent.aboutToShow.connect(self._fill_recent_menu)
        self.menu_file.addSeparator()
        self.menu_file.addAction(act["save"])
        self.menu_file.addAction(act["save_as"])
        self.menu_file.addSeparator()
        self.menu_file.addAction(act["quit"])
        edit = bar.addMenu("&Edit")
        edit.addAction(act["undo"])
        edit.addAction(act["redo"])
        sim = bar.addMenu("&Simulation")
        for name in ("run", "step", "reset", None, "faster", "slower", "fast_forward", None, "pulse",
                     "release", "nudge_left", "nudge_right", "nudge_up", "nudge_down"):
            sim.addSeparator() if name is None else sim.addAction(act[name])
        view = bar.addMenu("&View")
        for name in (*VIEW_NAMES, "parameters", "experiments"):
            view.addAction(self.docks[name].toggleViewAction())
        view.addSeparator()
        self.menu_window = view.addMenu("&Time window")
        group = QActionGroup(self)
        for window in (None, *TIME_WINDOWS):
            action = QAction("Auto (follows the speed)" if window is None else f"{window:g} τ", self)
            action.setCheckable(True)
            action.setChecked(window is None)
            action.triggered.connect(lambda _=False, w=window: self.set_time_window(w))
            group.addAction(action)
            self.menu_window.addAction(action)
        theme_menu = view.addMenu("T&heme")
        self.theme_actions = QActionGroup(self)
        for name in THEMES:
            action = QAction(name.capitalize(), self, checkable=True)
            action.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            self.theme_actions.addAction(action)
            theme_menu.addAction(action)
        view.addSeparator()
        view.addAction(act["reset_layout"])
        view.addAction(act["full_screen"])
        self.menu_export = bar.addMenu("E&xport")
        self._install_export_actions()
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(act["welcome"])
        help_menu.addAction(act["about"])

    def _install_export_actions(self) -> None:
        try:
            from .export.actions import install_export_actions
        except ImportError:
            placeholder = self.menu_export.addAction("No exporters in this build")
            placeholder.setEnabled(False)
            return
        install_export_actions(self)

    def _connect(self) -> None:
        c = self.controller
        c.frame_ingested.connect(self._on_controller_frame_ingested)
        c.frame_ready.connect(self._on_controller_frame_ready)
        c.views_reset.connect(self._on_controller_views_reset)
        c.simulation_changed.connect(self._on_controller_simulation_changed)
        c.run_state_changed.connect(self._on_controller_run_state_changed)
        c.settings_changed.connect(self.param_panel.show_settings)
        c.update_rejected.connect(self._on_controller_update_rejected)
        c.error_occurred.connect(self._on_controller_error_occurred)
        c.protocol_finished.connect(self._on_controller_protocol_finished)
        c.warmup_changed.connect(self._on_controller_warmup_changed)
        c.stats_changed.connect(self._on_controller_stats_changed)
        p = self.param_panel
        p.param_edited.connect(self._on_param_panel_param_edited)
        p.dt_edited.connect(self._on_param_panel_dt_edited)
        p.protocol_edited.connect(self._on_param_panel_protocol_edited)
        p.model_requested.connect(self._on_param_panel_model_requested)
        p.loop_toggled.connect(self.controller.set_loop)
        p.seed_edited.connect(self.controller.set_seed)
        self.welcome.open_requested.connect(self.open_path)
        self.speed_control.speed_changed.connect(self._on_speed_control_speed_changed)
        self.undo_stack.cleanChanged.connect(self._update_title)

    # -- views ----------------------------------------------------------------------------------------
    def _install_views(self, family: str) -> None:
        """Put the views of ``family`` in the docks (keeps them when the family is unchanged)."""
        if self.view_set is not None and self.view_set.family == family:
            return
        self.view_set = ViewSet(family)
        self.view_set.set_theme(getattr(self, "theme", THEMES["dark"]))
        self.view_set.set_window(self._effective_window())
        for name, view in self.view_set.views.items():
            old = self.docks[name].widget()
            self.docks[name].setWidget(view)
            if old is not None:
                old.deleteLater()
        if self.isVisible():  # other widgets have other size hints: split the window as by default
            QTimer.singleShot(0, self, self._apply_default_sizes)
        for view in self.view_set.interactive_views():
            view.stimulus_moved.connect(self._on_view_stimulus_moved)
            view.pulse_requested.connect(self._on_view_pulse_requested)
        self.views = self.view_set.views

    def _on_dock_visibility_changed(self, name: str, visible: bool) -> None:
        if name in self.views:
            self.views[name].set_drawing_enabled(visible)

    def _on_controller_frame_ingested(self, frame) -> None:
        self.view_set.ingest(frame)

    def _on_controller_frame_ready(self, frame) -> None:
        self.view_set.show_frame(frame)

    def _on_controller_views_reset(self) -> None:
        self._held_stimulus = None
        self.view_set.reset()

    def _on_controller_simulation_changed(self, sim: Simulation) -> None:
        self._install_views(family_of(sim.model.model_type))

    def set_time_window(self, window: float | None) -> None:
        """Span of the scrolling views in simulated time; ``None``: follow the speed (auto)."""
        self.time_window = window
        if self.view_set is not None:
            self.view_set.set_window(self._effective_window())

    def _effective_window(self) -> float:
        if self.time_window is not None:
            return self.time_window
        speed = self.controller.speed
        if speed is None:
            return TIME_WINDOWS[-1]
        return float(min(max(speed * AUTO_WINDOW_SECONDS, TIME_WINDOWS[0]), TIME_WINDOWS[-1]))

    # -- theme ----------------------------------------------------------------------------------------
    def set_theme(self, name: str) -> Theme:
        """Switch the whole window (widgets and plots) to the ``"dark"`` or ``"light"`` theme."""
        self.theme = apply_theme(QApplication.instance(), name)
        if self.view_set is not None:
            self.view_set.set_theme(self.theme)
        navigation = self.findChild(QWidget, "navigation_panel")  # set by open_navigation_experiment
        if navigation is not None:
            navigation.set_theme(self.theme)
        self.settings.set_theme(name)
        for action in self.theme_actions.actions():
            action.setChecked(action.text().lower() == name)
        return self.theme

    # -- experiments ----------------------------------------------------------------------------------
    def open_path(self, path: str | Path, *, remember: bool = True) -> bool:
        """Open a preset or session; problems are shown in the window. Returns True on success."""
        path = Path(path)
        if not self._confirm_discard():
            return False
        self._cancel_background()  # an experiment still being built in a worker is not shown
        if path.suffix == ".json" and self._open_navigation(path):
            if remember:
                self.settings.add_recent_file(path)
            return True
        try:
            opened = files.open_experiment(path, lambda t: family_of(t) is not None)
        except files.UnsupportedModelError as exc:
            self.banner.show_message(f"{exc} The current experiment stays open.", kind="info")
            return False
        except (CannsEngineError, OSError) as exc:
            self.banner.show_message(f"Could not open the experiment: {exc}")
            return False
        if opened.steps:
            self._replay_session(opened)
        else:
            self._load_experiment(opened.manifest, path, sim=opened.build(**SIM_OVERRIDES))
        if remember:
            self.settings.add_recent_file(path)
        return True

    def _replay_session(self, opened: files.OpenedExperiment) -> None:
        """Re-run a saved session up to where it was saved, in a worker, then show it with the history
        the scrolling views had: snapshots over their time window (one per kymograph column)."""
        self._open_in_background(f"Replaying {opened.path.name} ({opened.steps:,} steps)…",
                                 lambda replayed, exc: self._replayed(opened, replayed, exc),
                                 opened.session.replay_with_history, self._effective_window(),
                                 KYMOGRAPH_COLUMNS, **SIM_OVERRIDES)

    def _replayed(self, opened: files.OpenedExperiment, replayed: tuple[Simulation, list[Frame]] | None,
                  exc: Exception | None) -> None:
        if exc is not None:
            self.banner.show_message(f"Could not replay {opened.path.name}: {exc}")
            return
        sim, history = replayed
        self._load_experiment(opened.manifest, opened.path, sim=sim, history=history)

    def _open_in_background(self, message: str, on_result: Callable[[Any, Exception | None], None],
                            fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``fn(*args, **kwargs)`` in a worker behind a busy status bar, then ``on_result(result,
        exception)`` — unless another open (or closing the window) superseded it meanwhile."""
        self.controller.stop(wait=True)
        self._cancel_background()
        self.status.set_warning(message)
        self.status.busy.show()
        token = object()
        self._background = (token, on_result)
        WorkerGC.hold()
        create_worker(_outcome, token, fn, *args, _start_thread=True,
                      _connect={"returned": self._on_background_done}, **kwargs)

    def _on_background_done(self, outcome: tuple[object, Any, Exception | None]) -> None:
        WorkerGC.release()
        token, result, exc = outcome
        if self._background is None or self._background[0] is not token:
            return  # superseded
        on_result = self._background[1]
        self._cancel_background()
        on_result(result, exc)

    def _cancel_background(self) -> None:
        """Forget the pending background open (its worker finishes unseen) and clear its status."""
        if self._background is not None:
            self._background = None
            self.status.busy.hide()
            self.status.set_warning(None)

    def _open_navigation(self, path: Path) -> bool:
        """Open a path-integration preset in its own panel; False when ``path`` is not one."""
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not is_navigation_manifest(manifest):
            return False
        from .navigation.controller import build_navigation

        self._open_in_background("Preparing path integration… (its first use compiles its kernels, which "
                                 "can take half a minute)",
                                 lambda sim, exc: self._navigation_built(manifest, path, sim, exc),
                                 build_navigation, manifest, in_helpers=self.controller.compile_in_helpers)
        return True

    def _navigation_built(self, manifest: dict[str, Any], path: Path, sim, exc: Exception | None) -> None:
        """Show the path-integration experiment built in the background."""
        if exc is not None:
            self.banner.show_message(f"Could not open the experiment: {exc}")
            return
        from .navigation.open import open_navigation_experiment

        open_navigation_experiment(self, manifest, path, sim=sim)
        self._navigation_manifest = manifest
        self.menu_export.setEnabled(False)  # the exports draw the basic views
        self.experiment_name, self.path = manifest.get("name") or "Path integration", path
        self._show_basic_controls(False)  # the panel has its own transport; the basic form does not apply
        self._update_title()

    def _close_navigation(self) -> None:
        """Remove the path-integration experiment, if one is open."""
        if self._navigation_manifest is not None:
            from .navigation.open import close_navigation_experiment

            close_navigation_experiment(self)
        self._navigation_manifest = None
        self.menu_export.setEnabled(True)

    def _show_basic_controls(self, visible: bool) -> None:
        """Show or hide the basic models' toolbar and parameter form (hidden for path integration)."""
        self.transport.setVisible(visible)
        self.docks["parameters"].setVisible(visible)
        self.status.set_stats_visible(visible)

    def _load_experiment(self, manifest: dict[str, Any], path: Path | None, *,
                         sim: Simulation | None = None, history: Sequence[Frame] = ()) -> None:
        """Make ``manifest`` (with ``sim`` built from it) the current experiment; ``history``: snapshots
        of the run that led to ``sim``'s state, for the scrolling views."""
        self._close_navigation()
        self._show_basic_controls(True)
        if sim is None:
            sim = build_simulation(manifest, **SIM_OVERRIDES)
        self.experiment_name = manifest.get("name") or "Untitled experiment"
        self.experiment_description = manifest.get("description", "")
        self.path = path
        self._install_views(family_of(sim.model.model_type))
        self.view_set.apply_options(manifest.get("view") or {})
        self.controller.set_simulation(sim, history)
        self.undo_stack.clear()
        self.banner.clear()
        self._raise_model_tab()
        self._update_title()

    def current_manifest(self) -> dict[str, Any]:
        """The experiment as a manifest (current parameters, protocol, seed and view options)."""
        return manifest_of(self.controller.simulation, name=self.experiment_name,
                           description=self.experiment_description, view=self.view_options())

    def view_options(self) -> dict[str, Any]:
        """What is saved in a manifest's ``view``: the views' options and the speed."""
        return {**self.view_set.options(), "time_window": self.time_window, "speed": self.controller.speed}

    def save(self) -> bool:
        """File ▸ Save: to the file the experiment came from, unless that is a bundled preset."""
        if self.path is None or self.path.parent == resources.presets_dir():
            return self.save_as()
        return self.save_to(self.path)

    def save_as(self) -> bool:
        stem = self.experiment_name.replace(" ", "_").lower()
        suffix = files.SESSION_SUFFIX if self._navigation_manifest is None else files.PRESET_SUFFIX
        suggestion = str(Path.home() / (stem + suffix))
        path = files.ask_save_path(self, suggestion)
        return path is not None and self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        """Write the experiment to ``path`` (``.canns`` session or ``.json`` preset); pauses meanwhile."""
        path = Path(path)
        if self._navigation_manifest is not None:
            return self._save_navigation(path)
        running = self.controller.is_running
        self.controller.stop(wait=True)
        try:
            files.save_experiment(path, self.controller.simulation, name=self.experiment_name,
                                  description=self.experiment_description, view=self.view_options())
        except (CannsEngineError, OSError) as exc:
            self.banner.show_message(f"Could not save to {path}: {exc}. Nothing was changed.")
            return False
        finally:
            if running:
                self.controller.start()
        self._saved_as(path)
        return True

    def _save_navigation(self, path: Path) -> bool:
        """Save the path-integration experiment: as a ``.json`` preset (network, walk and seed)."""
        if path.suffix.lower() != files.PRESET_SUFFIX:
            self.banner.show_message(f"Could not save to {path}: a path-integration experiment is saved as a "
                                     ".json preset (its network, walk and seed); .canns sessions hold the "
                                     "basic models only. Nothing was changed.")
            return False
        manifest = {**self._navigation_manifest, "name": self.experiment_name}
        try:
            files.save_manifest(path, manifest)
        except OSError as exc:
            self.banner.show_message(f"Could not save to {path}: {exc}. Nothing was changed.")
            return False
        self._saved_as(path)
        return True

    def _saved_as(self, path: Path) -> None:
        self.path = path
        self.undo_stack.setClean()
        self.settings.add_recent_file(path)
        self.statusBar().showMessage(f"Saved {path}", 5000)
        self._update_title()

    def _confirm_discard(self) -> bool:
        """Ask before an unsaved, edited experiment is replaced. True: go ahead."""
        if self.undo_stack.isClean() or not self.isVisible():
            return True
        answer = QMessageBox.question(
            self, APP_NAME, f"“{self.experiment_name}” has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _update_title(self) -> None:
        self.setWindowTitle(f"{APP_NAME} — {self.experiment_name}[*]")
        self.setWindowModified(not self.undo_stack.isClean())

    # -- edits ----------------------------------------------------------------------------------------
    def request_update(self, key: str, text: str, old: dict[str, Any], new: dict[str, Any],
                       continuing: bool = False) -> bool:
        """Check ``new`` with the engine and apply it as an undoable step. Returns False if refused
        (the panel then shows the value in effect and the reason)."""
        try:
            self.controller.check_update(new)
        except ConfigError as exc:
            self._show_refusal({key, exc.param or key}, str(exc))
            return False
        self.undo_stack.push(EditCommand(self, key, text, old, new, continuing))
        return True

    def _show_refusal(self, fields: set[str], message: str) -> None:
        """Show the values in effect, mark the fields involved and say why the edit was refused."""
        self.param_panel.show_settings(self.controller.settings)
        for name in fields:
            self.param_panel.show_error(name, message)
        self.banner.show_message(f"Not applied — {message}")

    def _on_param_panel_param_edited(self, name: str, value: Any, continuing: bool) -> None:
        old = self.controller.params[name]
        shown = value if isinstance(value, bool) else f"{value:g}"
        self.request_update(name, f"{name} = {shown}", {name: old}, {name: value}, continuing)

    def _on_param_panel_dt_edited(self, dt: float) -> None:
        c = self.controller
        self.request_update("dt", f"dt = {dt:g}", c.dt_update(c.settings.dt), c.dt_update(dt))

    def _on_param_panel_protocol_edited(self, spec: dict[str, Any]) -> None:
        c = self.controller
        old = c.settings.task
        new = c.task_update(spec)
        if old is None:  # a free run cannot be restored by an edit: apply without undo
            try:
                c.check_update(new)
            except ConfigError as exc:
                self._show_refusal({exc.param or "task"}, str(exc))
                return
            c.apply(new)
            return
        self.request_update("task", f"protocol {spec['type']}", c.task_update(old), new)

    def _on_param_panel_model_requested(self, model_type: str) -> None:
        if not self._confirm_discard():
            self.param_panel.show_settings(self.controller.settings)
            return
        self._load_experiment(default_manifest(model_type), None)

    def _on_controller_update_rejected(self, update: dict[str, Any], exc: Exception) -> None:
        param = getattr(exc, "param", None) or next(iter(update), "")
        self.param_panel.show_error(param, str(exc))
        self.banner.show_message(f"Not applied — {exc}")

    # -- transport ------------------------------------------------------------------------------------
    def _on_controller_run_state_changed(self, state: RunState) -> None:
        running = state is RunState.RUNNING
        run = self.actions["run"]
        run.setText("Pause" if running else "Run")
        run.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause if running
                                              else QStyle.StandardPixmap.SP_MediaPlay))
        if running:
            self.statusBar().clearMessage()

    def _on_reset_triggered(self) -> None:
        self.controller.reset()
        self.banner.clear()

    def _on_faster_triggered(self) -> None:
        self.speed_control.faster()

    def _on_slower_triggered(self) -> None:
        self.speed_control.slower()

    def _on_speed_control_speed_changed(self, speed: float | None) -> None:
        self.actions["fast_forward"].setChecked(False)
        self.controller.set_speed(speed)
        if self.time_window is None:
            self.view_set.set_window(self._effective_window())

    def _on_fast_forward_toggled(self, on: bool) -> None:
        self.controller.set_fast_forward(on)
        if on:
            self.statusBar().showMessage("Fast-forward: running as fast as possible, views paused (F to "
                                         "stop)")
        else:
            self.statusBar().clearMessage()

    def _on_controller_protocol_finished(self, t: float) -> None:
        self.statusBar().showMessage(f"Protocol finished at t = {t:g} τ. Space continues without input "
                                     "(drag to place a stimulus); Ctrl+R starts again.")

    def _on_controller_warmup_changed(self, compiling: bool) -> None:
        self.status.set_compiling(compiling)
        self.actions["run"].setToolTip("Run or pause the network (Space)" + (
            " — starts as soon as compiling is done" if compiling else ""))

    def _on_controller_stats_changed(self, stats) -> None:
        self.status.show_stats(stats)
        if self.controller.is_warming_up or self.controller.diverged is not None:
            return
        if stats.engine_behind:
            self.status.set_warning(f"⚠ The engine reaches × {stats.rtf:.3g} of the × {stats.speed:g} "
                                    "requested")
        elif stats.dropping_frames:
            self.status.set_warning(f"⚠ Display at {stats.fps:.0f} FPS: frames are being dropped "
                                    "(the simulation is unaffected)")
        else:
            self.status.set_warning(None)

    def _on_controller_error_occurred(self, exc: Exception) -> None:
        if isinstance(exc, NumericalInstabilityError):
            self.status.set_warning(f"✖ Diverged at t = {exc.t:g}: reset to continue", severe=True)
            self.banner.show_message(f"The network diverged: {exc}", action="Reset",
                                     callback=self._on_reset_triggered)
        elif isinstance(exc, CannsEngineError):
            self.banner.show_message(f"The run stopped: {exc}")
        else:
            self.banner.show_message(f"The run stopped because of an internal error ({type(exc).__name__}: "
                                     f"{exc}). The experiment is intact; details are in the log.")

    # -- stimulus -------------------------------------------------------------------------------------
    def _on_view_stimulus_moved(self, pos) -> None:
        self._held_stimulus = np.atleast_1d(np.asarray(pos, dtype=float))
        self.controller.set_stimulus(pos)

    def _on_view_pulse_requested(self, pos) -> None:
        self._pulse_target = pos
        self.controller.pulse(pos)

    def _on_release_triggered(self) -> None:
        self._held_stimulus = None
        self.controller.set_stimulus(None)

    def _on_pulse_triggered(self) -> None:
        frame = self.controller.latest_frame
        if frame is None:
            return
        target = self._pulse_target
        if target is None:
            x = frame.x
            z_range = float(x[-1] - x[0])
            decoded = np.atleast_1d(np.asarray(frame.decoded_pos, dtype=float))
            decoded = np.where(np.isfinite(decoded), decoded, 0.0)
            target = decoded + z_range / 4
            target = float(target[0]) if len(target) == 1 else tuple(float(v) for v in target)
        self.controller.pulse(target)

    def nudge_stimulus(self, delta: tuple[float, float]) -> None:
        """Move the stimulus by ``delta`` (rad; the second component only in 2D) and hold it there."""
        frame = self.controller.latest_frame
        if frame is None:
            return
        ndim = frame.u.ndim
        if self._held_stimulus is not None and len(self._held_stimulus) == ndim:
            pos = self._held_stimulus
        else:
            stim = np.atleast_1d(np.asarray(frame.stim_pos, dtype=float))
            dec = np.atleast_1d(np.asarray(frame.decoded_pos, dtype=float))
            pos = np.where(np.isfinite(stim), stim, np.where(np.isfinite(dec), dec, 0.0))
        pos = pos + np.asarray(delta[:ndim])
        self._held_stimulus = pos
        self.controller.set_stimulus(float(pos[0]) if ndim == 1 else tuple(pos))

    # -- menus ----------------------------------------------------------------------------------------
    def _on_new_triggered(self) -> None:
        self.open_path(resources.default_preset_path(), remember=False)

    def _on_open_triggered(self) -> None:
        folder = str(self.path.parent) if self.path is not None else str(resources.presets_dir())
        path = files.ask_open_path(self, folder)
        if path is not None:
            self.open_path(path)

    def _fill_recent_menu(self) -> None:
        self.menu_recent.clear()
        recent = self.settings.recent_files()
        for path in recent:
            action = self.menu_recent.addAction(path.name)
            action.setToolTip(str(path))
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not recent:
            self.menu_recent.addAction("(none)").setEnabled(False)
        else:
            self.menu_recent.addSeparator()
            self.menu_recent.addAction("Clear list", self.settings.clear_recent_files)

    def _on_full_screen_toggled(self, on: bool) -> None:
        self.showFullScreen() if on else self.showNormal()

    def _on_welcome_triggered(self) -> None:
        self.docks["experiments"].show()
        self.docks["experiments"].raise_()

    def _on_about_triggered(self) -> None:
        from canns_engine import __version__

        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b> {__version__}<br>A live laboratory for continuous attractor "
                          "neural networks (canns-compatible models, compiled with numba).")

    # -- drag and drop, closing -----------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if _dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = _dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            QTimer.singleShot(0, self, lambda: self.open_path(path))

    def closeEvent(self, event) -> None:
        if not self._confirm_discard():
            event.ignore()
            return
        self._close_navigation()
        self.controller.shutdown()
        self._background = None  # an open still running in a worker is not shown
        if self.isFullScreen():
            self.showNormal()
        self.settings.set_geometry(self.saveGeometry())
        self.settings.set_dock_state(self.saveState())
        self.settings.sync()
        super().closeEvent(event)


def _outcome(token: object, fn: Callable[..., Any], *args: Any, **kwargs: Any
             ) -> tuple[object, Any, Exception | None]:
    """Worker body of :meth:`MainWindow._open_in_background`: ``fn``'s result or exception, with the
    token of the open that asked for it (so a superseded open's result is recognised)."""
    try:
        return token, fn(*args, **kwargs), None
    except Exception as exc:
        return token, None, exc


def _can_show(model_type: str) -> bool:
    """Whether this window has views for ``model_type`` (the basic CANNs and path integration)."""
    return family_of(model_type) is not None or model_type == NAVIGATION_MODEL_TYPE


def _dropped_file(event) -> Path | None:
    """The first local ``.json``/``.canns`` file of a drag, if any."""
    for url in event.mimeData().urls():
        path = Path(url.toLocalFile())
        if url.isLocalFile() and path.suffix.lower() in (files.SESSION_SUFFIX, files.PRESET_SUFFIX):
            return path
    return None

