"""Take the user guide's screenshots again from the real app, offscreen: ``make screenshots``.

Each shot opens a preset in the main window (1400 × 900, default layout, fresh settings), runs it at
a given speed until a given simulated time, pauses, and saves the window (or one dock) to
``docs/images/``, scaled to 1000 px wide like the other images there. The run is live, so the
kymographs look as they do in use. It takes about a minute.

Only the shots that follow a preset's run are made here. The panels (``parameters.png``,
``experiments.png``), the diverged network and path integration were taken by hand.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
PRESETS = ROOT / "resources" / "presets"
WIDTH = 1000
"""Width of the saved window shots in pixels (the window is 1400 wide)."""


@dataclass(frozen=True)
class Shot:
    """One screenshot: ``preset`` run at ``speed`` (τ/s) until ``until`` (τ), in ``theme``; the whole
    window, or only the dock named ``dock`` (saved at its own size)."""

    name: str
    preset: str
    speed: float
    until: float
    theme: str = "dark"
    dock: str | None = None


SHOTS = (
    Shot("main-window-dark.png", "smooth_tracking.json", speed=20, until=114.75),
    Shot("main-window-light.png", "smooth_tracking.json", speed=20, until=114.75, theme="light"),
    Shot("activity-kymograph.png", "smooth_tracking.json", speed=20, until=114.75, dock="activity"),
    Shot("tracking-2d.png", "tracking_2d.json", speed=20, until=77.3),
    Shot("sfa-travelling-wave.png", "sfa_travelling_wave.json", speed=50, until=200.0),
)


def _wait(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _wait_until(condition, what: str, seconds: float = 300.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {seconds:g} s")
        _wait(20)


def take(shot: Shot) -> Path:
    """Make one screenshot; returns the file written."""
    from PySide6.QtCore import Qt

    from app.main_window import MainWindow

    window = MainWindow(PRESETS / shot.preset)
    try:
        window.set_theme(shot.theme)
        window.resize(1400, 900)
        window.show()
        _wait_until(lambda: not window.controller.is_warming_up and window.controller.simulation is not None,
                    "the experiment to open")
        controller = window.controller
        window.set_time_window(None)  # auto: follows the speed
        window.speed_control.set_speed(shot.speed)  # as the user does: the toolbar shows it too
        controller.start()
        _wait_until(lambda: controller.latest_frame is not None and controller.latest_frame.t >= shot.until,
                    f"t = {shot.until:g}")
        controller.stop(wait=True)
        _wait(300)  # the last frame drawn, the status bar updated
        widget = window if shot.dock is None else window.docks[shot.dock]
        image = widget.grab()
        if shot.dock is None:
            image = image.scaledToWidth(WIDTH, Qt.TransformationMode.SmoothTransformation)
        path = IMAGES / shot.name
        if not image.save(str(path)):
            raise OSError(f"could not write {path}")
        return path
    finally:
        window.controller.shutdown()
        window.close()
        window.deleteLater()
        _wait(50)


def main(names: list[str]) -> int:
    """Take the shots named in ``names`` (all when empty)."""
    unknown = set(names) - {shot.name for shot in SHOTS}
    if unknown:
        print(f"unknown screenshot(s): {', '.join(sorted(unknown))}; known: "
              f"{', '.join(shot.name for shot in SHOTS)}", file=sys.stderr)
        return 1
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    sys.path.insert(0, str(ROOT))
    from app.startup import use_large_offscreen_screen

    use_large_offscreen_screen()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)  # fresh settings: the default layout
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    for shot in SHOTS:
        if not names or shot.name in names:
            print(f"{take(shot).relative_to(ROOT)}")
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
