"""The `canns-studio` command line, end to end in subprocesses: run, info, warm-up, errors, --version."""

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from canns_engine import CANN1D, Simulation, SmoothTracking1D
from canns_engine.manifest import manifest_of
from canns_engine.session import load_session, save_preset, save_session

SCRIPT = Path(sys.executable).with_name("canns-studio")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "app.cli"]


def cli(*args, cwd=None):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=600)


def experiment():
    model = CANN1D(48)
    return model, SmoothTracking1D(model, Iext=(0.0, 2.0), duration=(4.0,), time_step=0.05)


@pytest.fixture
def preset(tmp_path):
    path = tmp_path / "preset.json"
    save_preset(path, manifest_of(Simulation(*experiment(), seed=5), name="cli preset"))
    return path


def test_run_preset_writes_session_and_csv(preset, tmp_path):
    out, table = tmp_path / "result.canns", tmp_path / "table.csv"
    proc = cli("run", preset, "--steps", 60, "--set", "k=6.0", "--set", "A=5", "--out", out, "--csv", table)
    assert proc.returncode == 0, proc.stderr
    assert "ran 60 steps" in proc.stdout and f"wrote {out}" in proc.stdout
    loaded = load_session(out)
    assert loaded.manifest["model"]["params"]["k"] == 6.0 and loaded.manifest["model"]["params"]["A"] == 5.0
    assert loaded.steps == 60 and len(loaded.recording) == 60
    body = table.read_text().splitlines()
    assert body[0].startswith("step,t,stim_pos,decoded_pos") and len(body) == 61
    assert (tmp_path / "table.units.csv").exists()


def test_run_session_replays_its_live_edits_exactly(tmp_path):
    sim = Simulation(*experiment(), seed=2)
    sim.step(20)
    sim.apply({"k": 5.0})
    sim.step(15)
    sim.apply({"stimulus": -1.0})
    sim.step(15)
    save_session(tmp_path / "live.canns", sim, name="live")
    proc = cli("run", tmp_path / "live.canns", "--out", tmp_path / "again.canns", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    again = load_session(tmp_path / "again.canns")
    assert again.steps == 50 and again.events == sim.events
    for key, value in sim.recording.to_dict().items():
        np.testing.assert_array_equal(again.recording.to_dict()[key], value, err_msg=key)


def test_run_on_two_threads_replays_a_large_network_exactly(tmp_path):
    model = CANN1D(2100)
    sim = Simulation(model, SmoothTracking1D(model, Iext=(0.0, 2.0), duration=(4.0,), time_step=0.05), seed=3)
    sim.step(30)
    sim.apply({"stimulus": -1.0})
    sim.step(20)
    save_session(tmp_path / "big.canns", sim, name="big")
    proc = cli("run", tmp_path / "big.canns", "--threads", 2, "--out", tmp_path / "again.canns", "--quiet")
    assert proc.returncode == 0, proc.stderr
    again = load_session(tmp_path / "again.canns")
    for key, value in sim.recording.to_dict().items():  # recorded on one thread, replayed on two
        np.testing.assert_array_equal(again.recording.to_dict()[key], value, err_msg=key)
    proc = cli("run", tmp_path / "big.canns", "--threads", 3)
    assert proc.returncode == 1 and "argument --threads: invalid choice: 3 (choose from 1, 2)" in proc.stderr


def test_run_writes_a_movie_without_a_display(preset, tmp_path):
    env_without_display = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                                            "QT_QPA_PLATFORM")}
    movie = tmp_path / "run.mp4"
    args = ["run", preset, "--steps", 40, "--movie", movie, "--fps", 10, "--movie-duration", 2,
            "--size", "320x180"]
    proc = subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True,
                          env=env_without_display, timeout=600)
    assert proc.returncode == 0, proc.stderr
    with av.open(str(movie)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (320, 180)
        assert sum(1 for _ in container.decode(video=0)) == 20


def test_info_prints_a_summary_and_json(preset):
    proc = cli("info", preset)
    assert proc.returncode == 0, proc.stderr
    assert "name:        cli preset" in proc.stdout and "CANN1D(num=48" in proc.stdout
    proc = cli("info", preset, "--json")
    assert json.loads(proc.stdout)["name"] == "cli preset"


@pytest.mark.parametrize("args, message", [
    (["run", "{dir}/absent.json"], "absent.json: cannot read"),
    (["run", "{dir}/preset.json", "--set", "warp=9"], "--set warp: CANN1D has no such setting"),
    (["run", "{dir}/preset.json", "--set", "k=-1"], "k must be"),
    (["run", "{dir}/preset.json", "--steps", "ten"], "invalid int value"),
    (["info", "{dir}/garbage.canns"], "garbage.canns: not a readable CANN Studio session"),
])
def test_errors_exit_1_with_one_clear_line(preset, tmp_path, args, message):
    (tmp_path / "garbage.canns").write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(300))
    proc = cli(*(a.format(dir=tmp_path) for a in args))
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_version_imports_no_qt():
    code = ("import sys, app.cli; rc = app.cli.main(['--version']); "
            "assert not any(m.split('.')[0] in ('PySide6', 'pyqtgraph', 'canns_engine', 'numba') "
            "for m in sys.modules), sorted(sys.modules); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("canns-studio ")


def test_engine_cli_alone_refuses_a_movie_clearly(preset, tmp_path, capsys):
    from canns_engine.cli import main as engine_main

    code = engine_main(["run", str(preset), "--steps", "5", "--movie", str(tmp_path / "m.mp4")])
    assert code == 1
    assert "--movie needs the app's renderer" in capsys.readouterr().err
    assert not (tmp_path / "m.mp4").exists()


def test_warm_up_is_headless_and_is_what_a_frozen_app_runs_in_its_helpers(monkeypatch):
    """``canns-studio warm-up MODEL`` compiles (or loads) the model's kernels without importing Qt; a
    bundle starts its helpers as ``<bundle executable> warm-up MODEL``, which the same dispatcher runs."""
    from canns_engine import warmup

    code = ("import sys, app.cli; rc = app.cli.main(['warm-up', 'CANN1D']); "
            "assert not any(m.split('.')[0] in ('PySide6', 'pyqtgraph') for m in sys.modules); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("CANN1D: ready in ")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert warmup.command(["CANN2D"]) == [sys.executable, "warm-up", "CANN2D"]
