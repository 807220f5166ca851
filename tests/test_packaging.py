"""Packaging: the wheel's contents, the Linux desktop files, the PyInstaller spec, and the start-up helpers
a double-clicked app relies on (per-user log, crash dialog, numba cache, first-window report).

The bundle itself is built and exercised by ``make bundle-check`` (packaging/smoke_test.py), not here:
it takes minutes. Everything here takes a few seconds (the wheel build ~5 s).
"""

from __future__ import annotations

import ast
import configparser
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from app import crash_handler, logging_setup, startup

REPO = Path(__file__).resolve().parent.parent
PACKAGING = REPO / "packaging"
LINUX = PACKAGING / "linux"
MIME_TYPE = "application/x-canns-session"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def _tracked_resources() -> list[Path]:
    """Files under resources/ (those git knows about, when git is available)."""
    try:
        out = subprocess.run(["git", "ls-files", "resources"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
        files = [REPO / f for f in out]
    except (OSError, subprocess.CalledProcessError):
        files = []
    return files or [p for p in (REPO / "resources").rglob("*") if p.is_file()]


# --- the wheel --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(out)],
                   check=True, timeout=300)
    (path,) = out.glob("canns_studio-*.whl")
    with zipfile.ZipFile(path) as zf:
        yield zf


def test_wheel_has_both_packages_and_all_resources(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert {"app/__init__.py", "app/cli.py", "app/resources.py", "app/startup.py",
            "canns_engine/__init__.py", "canns_engine/cli.py"} <= names
    resources = _tracked_resources()
    assert any(p.suffix == ".json" and p.parent.name == "presets" for p in resources), "no presets yet"
    assert (REPO / "resources" / "icons" / "canns-studio.svg") in resources
    missing = [str(p) for p in resources
               if "app/_resources/" + p.relative_to(REPO / "resources").as_posix() not in names]
    assert not missing, f"resources missing from the wheel: {missing}"


def test_wheel_entry_points(wheel: zipfile.ZipFile) -> None:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read(name).decode())
    assert entry_points["console_scripts"]["canns-studio"] == "app.cli:main"
    assert entry_points["gui_scripts"]["canns-studio-gui"] == "app.cli:main"


# --- command line -----------------------------------------------------------------------------------------

VERSION_PROBE = """
import sys
{run}
heavy = sorted(m for m in ("PySide6", "numba", "numpy", "canns_engine") if m in sys.modules)
print("heavy:", heavy, "code:", code)
"""
RUN_ENTRY = """
import runpy
sys.argv = ["canns-studio", "--version"]
try:
    runpy.run_path("packaging/entry.py", run_name="__main__")
except SystemExit as exit:
    code = exit.code
"""


@pytest.mark.parametrize("run", ["from app.cli import main\ncode = main(['--version'])", RUN_ENTRY],
                         ids=["cli", "bundle-entry"])
def test_version_imports_neither_qt_nor_numba(run: str, tmp_path: Path) -> None:
    from importlib.metadata import version

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)
    done = subprocess.run([sys.executable, "-c", VERSION_PROBE.format(run=run)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.splitlines() == [f"canns-studio {version('canns-studio')}", "heavy: [] code: 0"]


def test_console_script_prints_version() -> None:
    script = Path(sys.executable).parent / "canns-studio"
    if not script.exists():
        pytest.skip("the canns-studio console script is not installed in this environment")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.startswith("canns-studio ")


# --- Linux desktop integration ----------------------------------------------------------------------------

def test_desktop_entry_is_valid() -> None:
    path = LINUX / "canns-studio.desktop"
    if shutil.which("desktop-file-validate"):
        done = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
        assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
    entry = configparser.ConfigParser(interpolation=None, strict=True)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(path, encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Name"] == "CANN Studio"
    assert section["Icon"] == "canns-studio"
    assert section["Terminal"] == "false"
    assert section["Exec"].split()[-1] == "%f"
    assert MIME_TYPE in section["MimeType"].split(";")
    assert section["Categories"].endswith(";")


def test_mime_type_declares_canns_sessions() -> None:
    root = ElementTree.parse(LINUX / "canns-studio-mime.xml").getroot()
    assert root.tag == f"{MIME_NS}mime-info"
    (mime,) = root.findall(f"{MIME_NS}mime-type")
    assert mime.get("type") == MIME_TYPE
    assert [g.get("pattern") for g in mime.findall(f"{MIME_NS}glob")] == ["*.canns"]
    assert mime.find(f"{MIME_NS}sub-class-of").get("type") == "application/x-hdf"


def test_install_desktop_per_user_and_uninstall(tmp_path: Path) -> None:
    exe = tmp_path / "my apps" / "canns-studio"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    home = tmp_path / "home"
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    script = LINUX / "install-desktop.sh"
    subprocess.run(["bash", str(script), "--exec", str(exe)], env=env, check=True, capture_output=True,
                   timeout=60)
    share = home / ".local" / "share"
    entry = (share / "applications" / "canns-studio.desktop").read_text()
    assert f'Exec="{exe}" %f' in entry.splitlines()
    assert (share / "mime" / "packages" / "canns-studio.xml").is_file()
    if shutil.which("update-mime-database"):
        assert (share / "mime" / "application" / "x-canns-session.xml").is_file()
    if shutil.which("xdg-mime"):
        assert f"{MIME_TYPE}=canns-studio.desktop" in (home / ".config" / "mimeapps.list").read_text()
    subprocess.run(["bash", str(script), "--uninstall"], env=env, check=True, capture_output=True,
                   timeout=60)
    assert not (share / "applications" / "canns-studio.desktop").exists()
    assert not (share / "mime" / "packages" / "canns-studio.xml").exists()


# --- PyInstaller spec -------------------------------------------------------------------------------------

def test_spec_bundles_icon_resources_and_entry_point() -> None:
    text = (PACKAGING / "canns-studio.spec").read_text()
    ast.parse(text)  # it is Python
    assert '(str(REPO / "resources"), "resources")' in text  # where app/resources.py looks (_MEIPASS)
    assert "make_icons.py" in text and "icon=icon" in text
    assert '"entry.py"' in text and 'NAME = "canns-studio"' in text
    assert 'copy_metadata("canns-studio")' in text  # --version and the engine's cache key when frozen
    assert (REPO / "resources" / "icons" / "canns-studio.svg").is_file()


# --- start-up helpers: log file, crash dialog, numba cache, first-window report ---------------------------

@pytest.fixture
def isolated_logging(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Per-user folders in tmp_path; the root logger and the excepthooks restored afterwards."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(crash_handler, "_fault_file", "pytest")  # leave pytest's faulthandler alone
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield tmp_path
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)


def test_setup_logging_writes_a_per_user_file(isolated_logging: Path) -> None:
    path = logging_setup.setup_logging()
    assert path == isolated_logging / "state" / "canns-studio" / "log" / "canns-studio.log"
    assert logging_setup.setup_logging() == path  # again: handlers replaced, not added
    ours = [h for h in logging.getLogger().handlers if getattr(h, "canns_studio", False)]
    assert sum(isinstance(h, logging.FileHandler) for h in ours) == 1
    logging.getLogger("canns_studio.test").info("hello from the test")
    assert "hello from the test" in path.read_text()


def test_setup_logging_falls_back_when_not_writable(isolated_logging: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = isolated_logging / "not-a-folder"
    blocker.write_text("")  # a file where the folder should be: unwritable even for root
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    monkeypatch.setattr("tempfile.tempdir", str(isolated_logging / "tmp"))
    path = logging_setup.setup_logging()
    assert path.is_relative_to(isolated_logging / "tmp") and path.name == "canns-studio.log"
    assert "is not writable" in path.read_text()


def test_excepthook_logs_and_survives_without_a_dialog(isolated_logging: Path) -> None:
    reporter = crash_handler.install_excepthook(logging_setup.setup_logging())
    assert sys.excepthook == reporter.excepthook
    try:
        raise ValueError("boom for the log")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)  # no QApplication or offscreen: logs only
    worker = threading.Thread(target=lambda: 1 / 0, name="doomed-worker")
    worker.start()
    worker.join()
    text = reporter.log_path.read_text()
    assert "ValueError: boom for the log" in text
    assert "in thread doomed-worker" in text and "ZeroDivisionError" in text


def test_uncaught_exception_in_a_fresh_process_reaches_the_log(tmp_path: Path) -> None:
    code = ("from app.startup import prepare_gui\nprepare_gui()\n"
            "raise RuntimeError('start-up failed')\n")
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    log_dir = tmp_path / "canns-studio" / "log"
    assert "RuntimeError: start-up failed" in (log_dir / "canns-studio.log").read_text()
    assert (log_dir / "canns-studio-faults.log").exists()


@pytest.mark.gui
def test_error_dialog_names_the_log_file(isolated_logging: Path, qapp, qtbot,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(
        (threading.current_thread() is threading.main_thread(), box.text(), box.informativeText())))
    monkeypatch.setattr(crash_handler, "HEADLESS_PLATFORMS", ())  # pretend there is a screen
    reporter = crash_handler.install_excepthook(logging_setup.setup_logging())
    worker = threading.Thread(target=lambda: [][1], name="worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(shown), timeout=2000)
    in_gui_thread, text, info = shown[0]
    assert in_gui_thread and "IndexError" in text and str(reporter.log_path) in info


def test_numba_cache_goes_to_a_writable_per_user_folder(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from numba.core import config

    from canns_engine import _cache

    monkeypatch.setattr(config, "CACHE_DIR", config.CACHE_DIR)  # restored afterwards
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert startup.user_cache_root() == _cache.user_cache_root()  # the engine looks in the same place
    assert startup.configure_numba_cache() == tmp_path / "cache" / "canns-studio" / "numba"
    assert os.environ["NUMBA_CACHE_DIR"] == config.CACHE_DIR == str(tmp_path / "cache/canns-studio/numba")

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker / "numba"))  # not writable: falls back
    assert startup.configure_numba_cache() == tmp_path / "cache" / "canns-studio" / "numba"


@pytest.mark.gui
def test_first_window_report_and_exit_hook(qtbot, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from PySide6.QtWidgets import QMainWindow

    monkeypatch.setenv(startup.EXIT_AFTER_SHOWN_ENV, "0.05")
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    painted_before_then = []
    startup.report_first_window(window, then=lambda: painted_before_then.append(
        window.windowHandle().isExposed()))
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)
    shown, ready = capsys.readouterr().out.strip().splitlines()
    assert painted_before_then == [True]  # ``then`` ran once, after the window was on screen
    assert shown.startswith(startup.TIMING_PREFIX) and shown.endswith(" s)")
    assert ready.startswith(startup.READY_PREFIX) and ready.endswith(" s)")
    first = float(shown.removeprefix(startup.TIMING_PREFIX).split()[0])
    assert 0 < first <= float(ready.removeprefix(startup.READY_PREFIX).split()[0]) < 600


def test_smoke_test_parses_the_lines_the_app_prints() -> None:
    """packaging/smoke_test.py runs without the app installed, so it repeats the two prefixes; keep them
    equal, or ``make bundle-check`` would stop finding the start-up times."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("smoke_test", PACKAGING / "smoke_test.py")
    smoke = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(smoke)
    assert (smoke.TIMING_PREFIX, smoke.READY_PREFIX) == (startup.TIMING_PREFIX, startup.READY_PREFIX)
    stdout = f"noise\n{startup.TIMING_PREFIX} 1.250 s (GUI thread CPU 1.0 s)\n{startup.READY_PREFIX} 2.5 s\n"
    assert smoke.reported_seconds(stdout, smoke.READY_PREFIX, "x") == 2.5
    with pytest.raises(smoke.CheckFailed, match="never reported its first window"):
        smoke.reported_seconds("nothing", smoke.TIMING_PREFIX, "its first window")


@pytest.mark.gui
def test_closing_during_the_first_compilation_exits_at_once(tmp_path) -> None:
    """A first start compiles the shown model's kernels for 10–20 s; closing the window meanwhile must end
    the process (Qt's thread pool used to keep it alive until the compilation finished, then report a
    crash). The app compiles in helper processes: quitting stops them, so the process ends within
    seconds and leaves no helper behind. The window closes 0.2 s after the experiment opened, a sheet,
    whose first compilation (~15 s) outlasts that by far."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_STATE_HOME": str(tmp_path / "state"), startup.EXIT_AFTER_SHOWN_ENV: "0.2"}
    env.pop("NUMBA_CACHE_DIR", None)  # an empty per-user cache: everything compiles
    sheet = REPO / "resources" / "presets" / "tracking_2d.json"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "app", str(sheet)], capture_output=True, text=True,
                          timeout=600, env=env, cwd=REPO)
    elapsed = time.monotonic() - started
    logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "state").rglob("*.log"))
    output = done.stdout + done.stderr + "\n--- log files ---\n" + logs
    assert done.returncode == 0, output
    assert "CRITICAL" not in output and "Traceback" not in output, output
    assert "helper process(es) compiling kernels" in output, output  # stopped, mid-compilation
    assert elapsed < 12, output  # a sheet alone compiles for ~15 s
    if sys.platform.startswith("linux"):  # no helper process outlives the app
        helpers = [pid for pid in os.listdir("/proc") if pid.isdigit() and _runs_with(pid, str(tmp_path))]
        assert helpers == [], output


def _runs_with(pid: str, text: str) -> bool:
    """Whether process ``pid``'s environment mentions ``text`` (False when it is gone or not ours)."""
    try:
        return text.encode() in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
