"""The Export menu (Movie…, CSV tables, Image of view…, Copy as Python) and "Export image…" on the views.

:func:`install_export_actions` is called by the main window. Everything here reads the experiment without
stopping it where it can: movies and the activity matrix re-run the experiment from its manifest and
edit log (a separate Simulation: the live run is never touched from another thread); the per-step table
pauses the run for the moment it takes to write it. Only ``window.controller.simulation``,
``window.views``, ``window.menu_export`` (or a new Export menu) and optionally ``experiment_name``,
``statusBar()`` are used.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QProgressDialog, QWidget

from canns_engine import CannsEngineError
from canns_engine.export_csv import write_activity_csv, write_summary_csv
from canns_engine.manifest import build_simulation, manifest_of
from canns_engine.script import script_of

from ..workers import create_worker
from .dialogs import ImageDialog, MovieDialog, ask_image_path
from .frames import run_until
from .image import export_view_image
from .movie import MovieExportJob, movie_source

log = logging.getLogger(__name__)
REPLAY_MAX_BYTES = 512 * 2**20
"""In-memory budget of a full-state replay (longer ones continue on disk when spilling is on)."""
CSV_FILTER = "CSV table (*.csv)"
EXPORT_ERRORS = (CannsEngineError, OSError, ValueError)


class ExportActions(QObject):
    """The export commands of one window (kept alive as ``window.export_actions``)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.jobs: list[Any] = []  # running movie jobs and workers, kept referenced
        menu = getattr(window, "menu_export", None) or window.menuBar().addMenu("E&xport")
        self.menu = menu
        self.actions = {
            "movie": self._add("&Movie…", self.export_movie, "Ctrl+Shift+M"),
            "table": self._add("Per-step &table (CSV)…", self.export_table),
            "activity": self._add("&Activity matrix (CSV)…", self.export_activity),
            "image": self._add("&Image of view…", self.export_image, "Ctrl+Shift+I"),
            "python": self._add("Copy as &Python", self.copy_python),
        }
        menu.insertSeparator(self.actions["image"])
        controller = getattr(window, "controller", None)
        if controller is not None and hasattr(controller, "simulation_changed"):
            # after the window has installed the new model's views (it handles the signal first)
            controller.simulation_changed.connect(lambda *_: QTimer.singleShot(0, self.attach_view_menus))
        self.attach_view_menus()

    def _add(self, text: str, slot, shortcut: str | None = None) -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _=False: slot())
        self.menu.addAction(action)
        return action

    # -- the experiment -------------------------------------------------------------------------------
    def _simulation(self):
        controller = getattr(self.window, "controller", None)
        return getattr(controller, "simulation", None)

    def _name(self) -> str:
        return getattr(self.window, "experiment_name", "") or "experiment"

    def _suggest(self, suffix: str) -> Path:
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in self._name().lower()).strip("_")
        folder = getattr(self.window, "path", None)
        return (Path(folder).parent if folder else Path.home()) / f"{stem or 'experiment'}{suffix}"

    def _status(self, text: str) -> None:
        if hasattr(self.window, "statusBar"):
            self.window.statusBar().showMessage(text, 8000)

    def _error(self, what: str, exc: BaseException) -> None:
        log.warning("%s failed: %s", what, exc)
        QMessageBox.warning(self.window, what, f"{what} failed: {exc}")

    def _replay_input(self) -> tuple[dict[str, Any], list[dict[str, Any]], int] | None:
        """The current experiment's start manifest, edit log and step count (read without pausing)."""
        sim = self._simulation()
        if sim is None or sim.step_index == 0:
            QMessageBox.information(self.window, "Nothing to export yet",
                                    "Run the experiment first: exports show what has been simulated.")
            return None
        return manifest_of(sim, name=self._name(), at_start=True), list(sim.events), sim.step_index

    # -- movie ----------------------------------------------------------------------------------------
    def export_movie(self) -> None:
        """Movie…: choose settings, then render in the background with a progress bar and Cancel."""
        sim = self._simulation()
        views = list(getattr(self.window, "views", {}) or {})
        dialog = MovieDialog(views, 0.0 if sim is None else sim.t, self._suggest(".mp4"), self.window)
        if dialog.exec() != dialog.DialogCode.Accepted:
            return
        try:
            settings = dialog.settings()
            source = dialog.source_path()
            if source is not None:
                from canns_engine.session import load_session  # h5py: not at start-up

                loaded = load_session(source)
                frames, total = movie_source(settings, loaded.manifest, loaded.events,
                                             recording=loaded.recording, steps=loaded.steps)
            else:
                replay = self._replay_input()
                if replay is None:
                    return
                manifest, events, steps = replay
                frames, total = movie_source(settings, manifest, events, steps=steps)
        except EXPORT_ERRORS as exc:
            self._error("Movie export", exc)
            return
        self.start_movie(MovieExportJob(settings, frames, total, self))

    def start_movie(self, job: MovieExportJob) -> QProgressDialog:
        """Show a progress dialog for ``job`` (Cancel stops it) and start it."""
        progress = QProgressDialog(f"Writing {job.settings.path.name}…", "Cancel", 0, job.total, self.window)
        progress.setWindowTitle("Export movie")
        progress.setWindowModality(Qt.WindowModality.NonModal)
        progress.setMinimumDuration(0)
        progress.canceled.connect(job.cancel)
        job.progress.connect(lambda done, total: progress.setValue(done))

        def finish(message: str | None = None, error: BaseException | None = None) -> None:
            progress.reset()
            progress.deleteLater()
            self.jobs.remove(job)
            if error is not None:
                self._error("Movie export", error)
            elif message:
                self._status(message)

        job.finished.connect(lambda path: finish(f"Saved movie {path}"))
        job.failed.connect(lambda exc: finish(error=exc))
        job.cancelled.connect(lambda: finish("Movie export cancelled; no file was written"))
        self.jobs.append(job)
        progress.show()
        job.start()
        return progress

    # -- CSV --------------------------------------------------------------------------------------------
    def export_table(self, path: str | Path | None = None) -> Path | None:
        """Per-step table (CSV)…: the recorded summaries of every segment, with a units sidecar."""
        sim = self._simulation()
        if sim is None or sim.recording is None or not len(sim.recording):
            QMessageBox.information(self.window, "Nothing to export yet", "Run the experiment first.")
            return None
        path = Path(path) if path else self._ask_csv("Save per-step table", self._suggest(".csv"))
        if path is None:
            return None
        controller = self.window.controller
        running = controller.is_running
        controller.stop(wait=True)  # the table is read while no worker appends to it
        try:
            segments = [*sim.previous_recordings, sim.recording]
            write_summary_csv(path, segments)
        except EXPORT_ERRORS as exc:
            self._error("CSV export", exc)
            return None
        finally:
            if running:
                controller.start()
        self._status(f"Saved {path} (units in {path.stem}.units.csv)")
        return path

    def export_activity(self, path: str | Path | None = None):
        """Activity matrix (CSV)…: re-run with full states in a worker, then write time × neuron."""
        replay = self._replay_input()
        if replay is None:
            return None
        path = Path(path) if path else self._ask_csv("Save activity matrix", self._suggest("-activity.csv"))
        if path is None:
            return None
        manifest, events, steps = replay
        progress = QProgressDialog(f"Re-running {steps:,} steps for {path.name}…", "Cancel", 0, steps,
                                   self.window)
        progress.setWindowModality(Qt.WindowModality.NonModal)
        progress.setMinimumDuration(0)
        worker = create_worker(activity_job, manifest, events, steps, path, _start_thread=False,
                               _connect={"yielded": lambda done: progress.setValue(done)})

        def finished() -> None:  # done, failed or cancelled: the worker and its dialog go
            progress.reset()
            progress.deleteLater()
            if worker in self.jobs:
                self.jobs.remove(worker)

        worker.returned.connect(lambda written: self._status(f"Saved {written}"))
        worker.errored.connect(lambda exc: self._error("CSV export", exc))
        worker.finished.connect(finished)
        progress.canceled.connect(worker.quit)
        self.jobs.append(worker)
        progress.show()
        worker.start()
        return worker

    def _ask_csv(self, title: str, suggestion: Path) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.window, title, str(suggestion), CSV_FILTER)
        if not path:
            return None
        path = Path(path)
        return path if path.suffix.lower() == ".csv" else path.with_name(path.name + ".csv")

    # -- images and code ------------------------------------------------------------------------------
    def export_image(self, view_name: str | None = None) -> Path | None:
        """Image of view…: PNG (chosen DPI) or SVG, light palette by default."""
        views = getattr(self.window, "views", {}) or {}
        if not views:
            return None
        dialog = ImageDialog(list(views), view_name, self.window)
        if dialog.exec() != dialog.DialogCode.Accepted:
            return None
        name = dialog.view.currentText()
        path = ask_image_path(self.window, self._suggest(f"-{name}.png"))
        if path is None:
            return None
        try:
            export_view_image(views[name], path, dpi=dialog.dpi.value(), light=dialog.light.isChecked())
        except EXPORT_ERRORS as exc:
            self._error("Image export", exc)
            return None
        self._status(f"Saved {path}")
        return path

    def copy_python(self) -> str | None:
        """Copy as Python: a script that reproduces the experiment headless, to the clipboard."""
        sim = self._simulation()
        if sim is None:
            return None
        source = script_of(sim, name=self._name())
        QGuiApplication.clipboard().setText(source)
        self._status("Copied a Python script that reproduces this experiment (paste it into a .py file)")
        return source

    def attach_view_menus(self) -> None:
        """Give every view a right-click menu with "Export image…" (views change with the model)."""
        for name, view in (getattr(self.window, "views", {}) or {}).items():
            if view.property("canns_export_menu"):
                continue
            view.setProperty("canns_export_menu", True)
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(
                lambda pos, n=name, v=view: self._show_view_menu(n, v, pos))

    def _show_view_menu(self, name: str, view: QWidget, pos) -> None:
        menu = QMenu(view)
        menu.addAction("Export image…", lambda: self.export_image(name))
        menu.addAction("Copy as Python", self.copy_python)
        menu.popup(view.mapToGlobal(pos))


def activity_job(manifest: dict[str, Any], events: list[dict[str, Any]], steps: int, path: Path
                 ) -> Generator[int, None, Path]:
    """Worker body: replay with full states (yielding the step reached), then write the matrix.

    The matrix is that of the last recording segment (the grid in use at the end).
    """
    sim = build_simulation(manifest, record="full", max_bytes=REPLAY_MAX_BYTES)
    chunk = max(1, steps // 100)
    while sim.step_index < steps:
        run_until(sim, events, min(steps, sim.step_index + chunk))
        yield sim.step_index
    write_activity_csv(path, sim.recording)
    return path


def install_export_actions(window: QWidget) -> ExportActions:
    """Add the export commands to ``window`` (its Export menu and its views' right-click menus)."""
    window.export_actions = ExportActions(window)
    return window.export_actions


__all__ = ["ExportActions", "activity_job", "install_export_actions"]
