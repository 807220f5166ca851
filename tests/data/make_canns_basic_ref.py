"""Regenerate ``canns_basic_ref.npz`` with canns 1.5.0 (run with a Python that has canns; never in CI).

Scenarios follow the canns "core concepts" tutorial at dt = 0.05: CANN1D(num=128) smooth tracking,
CANN1D_SFA brief input (population coding), CANN2D(length=32) smooth tracking; plus SFA tracking in 1D
and 2D. Stored: every 10th ``u`` as float32 and, in 1D, the tutorial's centre-of-mass read-out.
``tests/engine/test_canns_reference.py`` replays the same scenarios through canns_engine.
"""

from pathlib import Path

import brainpy.math as bm
import numpy as np
from canns.models.basic import CANN1D, CANN1D_SFA, CANN2D, CANN2D_SFA
from canns.task.tracking import PopulationCoding1D, SmoothTracking1D, SmoothTracking2D

DT = 0.05


def run(model, task):
    task.get_data(progress_bar=False)

    def step(t, inp):
        model(inp)
        return model.u.value

    us = np.asarray(bm.for_loop(step, (task.run_steps, task.data), progress_bar=False))
    out = {"u": us[9::10].astype(np.float32)}
    if us.ndim == 2:
        out["com"] = (us @ np.asarray(model.x) / us.sum(axis=1))[9::10].astype(np.float32)
    return out


def main():
    bm.set_dt(DT)
    runs = {}
    m = CANN1D(num=128)
    runs["tracking_1d"] = run(m, SmoothTracking1D(cann_instance=m, Iext=(1.0, 0.75, 2.0, 1.75, 3.0),
                                                  duration=(10.0, 10.0, 10.0, 10.0), time_step=DT))
    m = CANN1D_SFA(num=128)
    runs["sfa_brief_input"] = run(m, PopulationCoding1D(cann_instance=m, before_duration=2.0,
                                                        after_duration=30.0, Iext=0.0, duration=5.0,
                                                        time_step=DT))
    m = CANN1D_SFA(num=256)
    runs["sfa_tracking"] = run(m, SmoothTracking1D(cann_instance=m, Iext=(0.0, 0.0, np.pi, 2 * np.pi),
                                                   duration=(2.0, 20.0, 20.0), time_step=DT))
    m = CANN2D(length=32)
    runs["tracking_2d"] = run(m, SmoothTracking2D(cann_instance=m,
                                                  Iext=((0, 0), (1, 1), (0.75, 0.75), (2, 2)),
                                                  duration=(10.0, 10.0, 10.0), time_step=DT))
    m = CANN2D_SFA(length=24)
    runs["sfa_tracking_2d"] = run(m, SmoothTracking2D(cann_instance=m, Iext=((0, 0), (1, -1)),
                                                      duration=(10.0,), time_step=DT))
    arrays = {}
    for name, out in runs.items():
        arrays[name] = out["u"]
        if "com" in out:
            arrays[f"{name}_com"] = out["com"]
    np.savez_compressed(Path(__file__).with_name("canns_basic_ref.npz"), **arrays)


if __name__ == "__main__":
    main()
