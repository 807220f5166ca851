"""Fixtures of the GUI tests: headless Qt with a screen large enough for the 1400×900 window, user
settings in a temporary folder, and a main window that has finished compiling its kernels."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from app.startup import use_large_offscreen_screen

SHOTS = Path(os.environ.get("CANNS_STUDIO_SHOTS", Path(tempfile.gettempdir()) / "shots"))
"""Where the screenshot tests save their PNGs (look at them!)."""


use_large_offscreen_screen()  # before any QApplication: the 1400×900 window keeps its size


@pytest.fixture
def shots():
    """Folder for screenshots (created)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture(autouse=True)
def user_settings(tmp_path, monkeypatch):
    """QSettings in a temporary folder, so tests never read or write the user's preferences."""
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    from app.settings import Settings

    return Settings(QSettings(str(tmp_path / "settings" / "test.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def no_dialogs(monkeypatch):
    """Questions answer "Discard" and file dialogs would fail the test instead of blocking it."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)

    def forbidden(*args, **kwargs):
        raise AssertionError("a modal file dialog was opened in a test")

    monkeypatch.setattr(QFileDialog, "getOpenFileName", forbidden)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", forbidden)


@pytest.fixture
def make_window(qtbot, user_settings, no_dialogs):
    """Factory of shown main windows (kernels compiled); every window is closed after the test."""
    from app.main_window import MainWindow

    windows = []

    def make(path=None):
        window = MainWindow(path, settings=user_settings)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: not window.controller.is_warming_up, timeout=180_000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.controller.shutdown()
        window.close()


@pytest.fixture
def window(make_window):
    """The main window with the default experiment, idle at t = 0."""
    return make_window()


@pytest.fixture
def run_steps(qtbot):
    """``run_steps(controller, n, speed=None)``: run (at full speed by default) until at least ``n``
    more steps are done, then pause."""

    def run(controller, steps: int, speed: float | None = None, timeout: int = 30_000) -> None:
        start = controller.simulation.step_index
        previous = controller.speed
        controller.set_speed(speed)
        controller.start()
        qtbot.waitUntil(lambda: controller.latest_frame is not None
                        and controller.latest_frame.step >= start + steps, timeout=timeout)
        controller.stop(wait=True)
        controller.set_speed(previous)

    return run
