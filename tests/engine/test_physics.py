"""Behaviour that makes a CANN a CANN: persistent bumps, tracking, travelling and anticipating bumps."""

import numpy as np
import pytest

from canns_engine import (
    CANN1D,
    CANN1D_SFA,
    CANN2D,
    CustomTracking1D,
    PopulationCoding1D,
    SmoothTracking1D,
    SmoothTracking2D,
    simulate,
)
from canns_engine.analysis import tracking_error

DT = 0.05


def test_bump_persists_after_input_is_removed_below_critical_k():
    model = CANN1D(num=128)
    assert model.k < model.k_c  # 8.1 < 32.5: the attractor regime
    task = PopulationCoding1D(model, before_duration=2.0, after_duration=50.0, Iext=1.0, duration=10.0,
                              time_step=DT)
    rec = simulate(model, task, record="summary")
    off = task.stim_on.nonzero()[0][-1] + 1
    settled = off + int(10.0 / DT)
    # Without input the bump relaxes to its self-sustained height and then stays, where the input left it.
    assert rec.bump_height[settled] > 0.1
    assert rec.bump_height[-1] == pytest.approx(rec.bump_height[settled], rel=0.05)
    assert abs(rec.decoded_pos[-1] - 1.0) < 0.02


def test_bump_decays_without_input_above_critical_k():
    model = CANN1D(num=128, k=40.0)
    assert model.k > model.k_c
    task = PopulationCoding1D(model, before_duration=0.0, after_duration=50.0, Iext=1.0, duration=10.0,
                              time_step=DT)
    rec = simulate(model, task, record="summary")
    off = task.stim_on.nonzero()[0][-1] + 1
    assert rec.bump_height[off] > 1.0
    assert rec.bump_height[-1] < 0.01 * rec.bump_height[off]


def test_smooth_tracking_keeps_decoded_position_close_to_stimulus():
    model = CANN1D(num=128)
    task = SmoothTracking1D(model, Iext=(1.0, 0.75, 2.0, 1.75, 3.0), duration=(10.0, 10.0, 10.0, 10.0),
                            time_step=DT)
    rec = simulate(model, task, record="summary")
    settled = rec.t > 5.0
    # the bump trails a moving stimulus by a small lag (about 0.07 rad at these speeds), never loses it
    assert np.nanmax(rec.error[settled]) < 0.15
    assert np.nanmean(rec.error[settled]) < 0.1


def test_tracking_across_the_seam_at_pi():
    model = CANN1D(num=128)
    task = SmoothTracking1D(model, Iext=(2.5, 2 * np.pi - 2.5 + 1.0), duration=(40.0,), time_step=DT)
    rec = simulate(model, task, record="summary")
    assert np.nanmax(rec.error[rec.t > 5.0]) < 0.1  # the population vector wraps; a naive mean would not


def test_2d_bump_tracks_moving_stimulus():
    model = CANN2D(length=32)
    task = SmoothTracking2D(model, Iext=((0.0, 0.0), (1.5, -1.0), (-1.0, 2.0)), duration=(30.0, 30.0),
                            time_step=DT)
    rec = simulate(model, task, record="summary")
    decoded = np.stack([rec.decoded_x, rec.decoded_y], axis=1)
    stim = np.stack([rec.stim_x, rec.stim_y], axis=1)
    err = tracking_error(decoded, stim)
    assert np.max(err[rec.t > 5.0]) < 0.2
    assert np.allclose(decoded[-1], (-1.0, 2.0), atol=0.15)


def kicked_sfa(m):
    """An SFA ring well inside the attractor regime, given a brief drifting input and then left alone."""
    model = CANN1D_SFA(num=128, k=0.5, m=m, A=1.0)
    positions = np.full(2400, np.nan)
    positions[:200] = np.linspace(0.0, 0.3, 200)
    return model, simulate(model, CustomTracking1D(model, Iext=positions, time_step=DT), record="summary")


def test_sfa_bump_travels_spontaneously_when_m_exceeds_tau_over_tau_v():
    model, rec = kicked_sfa(m=0.3)
    assert model.k < model.k_c / 4 and model.m > model.tau / model.tau_v
    travelled = np.unwrap(rec.decoded_pos[200:])
    assert rec.bump_height[-1] > 0.5  # the bump survives
    assert travelled[-1] - travelled[0] > 2.0  # ...and moves on its own, steadily
    assert np.all(np.diff(travelled[200:]) > 0)


def test_sfa_bump_stays_put_when_m_is_below_tau_over_tau_v():
    model, rec = kicked_sfa(m=0.01)
    assert model.m < model.tau / model.tau_v
    travelled = np.unwrap(rec.decoded_pos[200:])
    assert rec.bump_height[-1] > 0.5
    assert abs(travelled[-1] - travelled[0]) < 0.1


@pytest.mark.parametrize(("m", "leads"), [(0.0, False), (0.3, True)])
def test_sfa_anticipates_a_moving_stimulus(m, leads):
    model = CANN1D_SFA(num=128, k=0.5, m=m, A=1.0)
    task = SmoothTracking1D(model, Iext=(-2.0, 2.0), duration=(200.0,), time_step=DT)
    rec = simulate(model, task, record="summary")
    moving = slice(len(rec) // 3, len(rec))
    offset = np.remainder(rec.decoded_pos[moving] - rec.stim_pos[moving] + np.pi, 2 * np.pi) - np.pi
    # positive offset: the bump is ahead of the stimulus in the direction of motion
    assert (offset.mean() > 0.02) if leads else (offset.mean() < -0.02)
