"""Every bundled preset does what its description on the welcome page says (run headless).

Presets are the app's ready-made experiments and double as test data: each one the window can show
gets a check of its claim here, and a new preset without a check fails ``test_every_preset_is_checked``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from canns_engine.analysis import tracking_lag
from canns_engine.manifest import build_simulation, load_manifest

PRESETS = Path(__file__).resolve().parent.parent / "resources" / "presets"
APP_MODELS = {"CANN1D", "CANN1D_SFA", "CANN2D", "CANN2D_SFA"}  # what the window shows (app.plots.panel)


def run(name: str, duration: float, **changes):
    """Run preset ``name`` for ``duration`` (with parameter ``changes``); return (simulation, recording)."""
    manifest = load_manifest(PRESETS / name)
    manifest["model"]["params"].update(changes)
    sim = build_simulation(manifest, record="summary")
    rec = sim.run(duration=duration)
    return sim, rec


def window(rec, start: float, stop: float = math.inf) -> np.ndarray:
    t = rec.t
    return (t >= start) & (t < stop)


def check_smooth_tracking():
    _, rec = run("smooth_tracking.json", 140.0)  # two laps of the looped protocol
    late = window(rec, 5.0)
    assert np.nanmean(rec.error[late]) < 0.12 and np.nanmax(rec.error[late]) < 0.2
    assert rec.bump_height[-1] > 5
    assert np.nanmax(rec.stim_pos) > math.pi  # the path crosses ±π (shown wrapped)


def check_persistent_activity():
    sim, rec = run("persistent_activity.json", 100.0)
    assert sim.model.k < sim.model.k_c
    after = window(rec, 20.0)
    assert np.isnan(rec.stim_pos[after]).all()  # no input any more
    assert rec.bump_height[-1] > 0.1
    np.testing.assert_allclose(rec.decoded_pos[after], 1.0, atol=0.02)


def check_no_memory_above_kc():
    sim, rec = run("no_memory_above_kc.json", 50.0)
    assert sim.model.k > sim.model.k_c
    during = rec.bump_height[window(rec, 10.0, 15.0)].max()
    assert during > 0.1
    assert rec.bump_height[-1] < 1e-3 * during


def check_template_matching():
    sim, rec = run("template_matching.json", 100.0)
    assert sim.task.noise_level * sim.model.A >= 0.4 * sim.model.A  # very noisy input
    late = window(rec, 10.0)
    assert np.nanmean(rec.error[late]) < 0.05
    np.testing.assert_allclose(np.nanmean(rec.decoded_pos[late]), 0.5, atol=0.02)


def check_sfa_travelling_wave():
    sim, rec = run("sfa_travelling_wave.json", 200.0)
    p = sim.model.params
    assert p["k"] < sim.model.k_c and p["m"] > p["tau"] / p["tau_v"]
    resting = window(rec, 10.0, 30.0)
    np.testing.assert_allclose(rec.decoded_pos[resting], 0.3, atol=0.05)
    moving = window(rec, 100.0)
    path = np.unwrap(rec.decoded_pos[moving])
    speed = (path[-1] - path[0]) / (rec.t[moving][-1] - rec.t[moving][0])
    assert 0.08 < abs(speed) < 0.2
    assert rec.bump_height[moving].min() > 0.5
    _, still = run("sfa_travelling_wave.json", 200.0, m=0.1)  # below τ/τ_v: the bump stays put
    np.testing.assert_allclose(still.decoded_pos[window(still, 100.0)], 0.3, atol=0.05)


def check_sfa_anticipative_tracking():
    sim, rec = run("sfa_anticipative_tracking.json", 180.0)
    p = sim.model.params
    assert p["m"] > p["tau"] / p["tau_v"]
    forward, backward = window(rec, 40.0, 95.0), window(rec, 120.0, 175.0)
    for part in (forward, backward):
        lag = tracking_lag(rec.decoded_pos[part], rec.stim_pos[part], sim.dt, max_lag=20.0)
        assert lag < -2.0  # the bump leads the stimulus by more than 2 τ
    lead = np.mean(rec.decoded_pos[forward] - rec.stim_pos[forward])
    assert 0.1 < lead < 0.25
    _, weak = run("sfa_anticipative_tracking.json", 100.0, m=0.1)
    assert tracking_lag(weak.decoded_pos[forward[:len(weak)]], weak.stim_pos[forward[:len(weak)]],
                        sim.dt, max_lag=20.0) > 0  # weak adaptation: it lags instead


def check_tracking_2d():
    _, rec = run("tracking_2d.json", 100.0)
    late = window(rec, 5.0)
    assert np.nanmean(rec.error[late]) < 0.2
    assert rec.bump_height[-1] > 5


CHECKS = {
    "smooth_tracking.json": check_smooth_tracking,
    "persistent_activity.json": check_persistent_activity,
    "no_memory_above_kc.json": check_no_memory_above_kc,
    "template_matching.json": check_template_matching,
    "sfa_travelling_wave.json": check_sfa_travelling_wave,
    "sfa_anticipative_tracking.json": check_sfa_anticipative_tracking,
    "tracking_2d.json": check_tracking_2d,
}


def app_presets() -> list[str]:
    names = []
    for path in sorted(PRESETS.glob("*.json")):
        if json.loads(path.read_text(encoding="utf-8"))["model"]["type"] in APP_MODELS:
            names.append(path.name)
    return names


def test_every_preset_is_checked():
    assert len(app_presets()) >= 6
    assert set(app_presets()) == set(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_preset_does_what_it_says(name):
    manifest = load_manifest(PRESETS / name)
    assert len(manifest["description"]) > 200  # a real paragraph for the welcome page
    CHECKS[name]()
