"""Autosave and crash recovery, on the real main window (offscreen)."""

import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings

from app.main_window import MainWindow
from app.session_io import (
    DEFAULT_INTERVAL,
    SETTINGS_KEY,
    AutosaveService,
    offer_recovery,
    orphaned_autosaves,
)
from app.settings import Settings
from canns_engine.session import load_session, save_session

pytestmark = pytest.mark.gui


@pytest.fixture
def prefs(tmp_path):
    return QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, prefs):
    win = MainWindow(settings=Settings(prefs), warm_up=False)
    qtbot.addWidget(win)
    yield win
    win.controller.shutdown()


@pytest.fixture
def service(window, prefs, tmp_path):
    svc = AutosaveService(window, folder=tmp_path / "autosave", settings=prefs)
    yield svc
    svc.shutdown()


def edit_and_run(window, steps=30):
    sim = window.controller.simulation
    sim.step(steps // 2)
    sim.apply({"k": 6.5})
    sim.step(steps - steps // 2)
    return sim


def test_autosave_writes_when_changed_and_replays_to_the_same_state(window, service):
    assert not service.autosave_now()  # nothing run, nothing edited: nothing to protect
    assert not service.path.exists()
    sim = edit_and_run(window)
    assert service.autosave_now()
    assert not service.autosave_now()  # unchanged since
    loaded = load_session(service.path)
    assert loaded.recording is None  # manifest and edits only: cheap, and safe during a run
    assert loaded.steps == 30 and loaded.events == sim.events
    assert loaded.manifest["name"] == window.experiment_name
    replayed = loaded.replay(record="summary")
    assert (replayed.recording.summary == sim.recording.summary).all()


def test_interval_preference_and_clean_shutdown(window, service, prefs):
    assert service.interval == DEFAULT_INTERVAL and service._timer.isActive()
    edit_and_run(window)
    service.autosave_now()
    service.set_interval(0)
    assert not service._timer.isActive() and not service.path.exists()
    assert prefs.value(SETTINGS_KEY, type=int) == 0
    service.set_interval(300)
    assert service._timer.interval() == 300_000
    with pytest.raises(ValueError, match="one of"):
        service.set_interval(7)
    service.autosave_now()
    assert service.path.exists()
    service.shutdown()
    assert not service.path.exists()


def test_a_running_instance_is_never_taken_for_a_crash(window, service):
    edit_and_run(window)
    service.autosave_now()
    assert orphaned_autosaves(service.folder) == []


def test_a_crashed_instance_leaves_an_autosave_that_is_recovered(qtbot, window, tmp_path):
    folder = tmp_path / "autosave"
    folder.mkdir()
    crashed = folder / "session-dead.canns"
    code = ("import os, sys; from PySide6.QtCore import QLockFile; "
            f"lock = QLockFile({str(crashed.with_suffix('.lock'))!r}); assert lock.tryLock(0); os._exit(0)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)  # dies holding its lock
    assert crashed.with_suffix(".lock").exists()
    sim = edit_and_run(window, steps=40)
    save_session(crashed, sim, recording=False, name="lost work")
    questions = []
    recovered = offer_recovery(window, folder, ask=lambda text: questions.append(text) or True)
    assert recovered == crashed and "“lost work”, 40 steps with 1 edit(s)" in questions[0]
    qtbot.waitUntil(lambda: window.controller.simulation is not sim
                    and window.controller.simulation.step_index == 40, timeout=30_000)
    assert window.controller.simulation.events == sim.events
    assert window.path is None  # Save asks where, never into the autosave folder
    assert list(folder.iterdir()) == []


def test_declining_recovery_deletes_the_leftover(window, tmp_path):
    folder = tmp_path / "autosave"
    folder.mkdir()
    save_session(folder / "session-old.canns", edit_and_run(window), recording=False)
    sim_before = window.controller.simulation
    assert offer_recovery(window, folder, ask=lambda text: False) is None
    assert window.controller.simulation is sim_before
    assert list(folder.iterdir()) == []


def test_unreadable_leftover_is_dropped_without_asking(window, tmp_path):
    folder = tmp_path / "autosave"
    folder.mkdir()
    (folder / "session-bad.canns").write_bytes(b"\x89HDF\r\n\x1a\n garbage")
    assert offer_recovery(window, folder, ask=lambda text: pytest.fail("asked")) is None
    assert list(folder.iterdir()) == []


def test_file_menu_gets_the_autosave_choices(qtbot, window, prefs, tmp_path):
    from app.session_io import install_session_services

    svc = install_session_services(window, folder=tmp_path / "a", settings=prefs, recover=False)
    try:
        menu = next(a.menu() for a in window.menu_file.actions() if a.menu() and "Autosave" in
                    a.text().replace("&", ""))
        labels = [a.text() for a in menu.actions()]
        assert labels[0] == "Off" and "Every 1 min" in labels
        assert window.menu_file.actions()[-1].text().replace("&", "").lower().startswith("quit")
        next(a for a in menu.actions() if a.text() == "Off").trigger()
        assert svc.interval == 0
    finally:
        svc.shutdown()
