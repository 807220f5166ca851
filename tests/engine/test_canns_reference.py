"""The canns "core concepts" runs give canns' own numbers (stored from canns 1.5.0, float32).

tests/data/make_canns_basic_ref.py regenerates the data in an environment with canns installed.
"""

from pathlib import Path

import numpy as np
import pytest

from canns_engine import (
    CANN1D,
    CANN1D_SFA,
    CANN2D,
    CANN2D_SFA,
    PopulationCoding1D,
    SmoothTracking1D,
    SmoothTracking2D,
    simulate,
)

REF = np.load(Path(__file__).parents[1] / "data" / "canns_basic_ref.npz")
DT = 0.05
FLOAT32_RTOL = 5e-6  # canns runs in float32; our float64 run agrees to about 4e-7 of the peak


def scenarios():
    m = CANN1D(num=128)
    yield "tracking_1d", m, SmoothTracking1D(cann_instance=m, Iext=(1.0, 0.75, 2.0, 1.75, 3.0),
                                             duration=(10.0, 10.0, 10.0, 10.0), time_step=DT)
    m = CANN1D_SFA(num=128)
    yield "sfa_brief_input", m, PopulationCoding1D(cann_instance=m, before_duration=2.0, after_duration=30.0,
                                                   Iext=0.0, duration=5.0, time_step=DT)
    m = CANN1D_SFA(num=256)
    yield "sfa_tracking", m, SmoothTracking1D(cann_instance=m, Iext=(0.0, 0.0, np.pi, 2 * np.pi),
                                              duration=(2.0, 20.0, 20.0), time_step=DT)
    m = CANN2D(length=32)
    yield "tracking_2d", m, SmoothTracking2D(cann_instance=m, Iext=((0, 0), (1, 1), (0.75, 0.75), (2, 2)),
                                             duration=(10.0, 10.0, 10.0), time_step=DT)
    m = CANN2D_SFA(length=24)
    yield "sfa_tracking_2d", m, SmoothTracking2D(cann_instance=m, Iext=((0, 0), (1, -1)), duration=(10.0,),
                                                 time_step=DT)


@pytest.mark.parametrize(("name", "model", "task"), list(scenarios()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_matches_canns(name, model, task):
    rec = simulate(model, task, record_every=10)
    expected = REF[name].astype(np.float64)
    assert rec.u.shape == expected.shape
    dev = np.abs(rec.u - expected).max() / np.abs(expected).max()
    assert dev < FLOAT32_RTOL, f"{name}: max relative deviation from canns {dev:.1e}"
    if f"{name}_com" in REF:  # the tutorial's centre-of-mass read-out, as canns prints it
        active = expected.max(axis=1) > 0.01  # where a bump exists (canns' float32 noise elsewhere)
        assert active.sum() > 10
        np.testing.assert_allclose(rec.decoded_com[active], REF[f"{name}_com"][active], atol=1e-4)
