"""Two engine threads: the same numbers as one, a clean stop when something goes wrong, and the cut policy."""

import threading

import numpy as np
import pytest

from canns_engine import (
    CANN1D,
    CANN1D_SFA,
    CANN2D,
    CANN2D_SFA,
    ConfigError,
    NumericalInstabilityError,
    PopulationCoding1D,
    Simulation,
    SmoothTracking1D,
    SmoothTracking2D,
    TemplateMatching1D,
    parts,
)

DT = 0.05


def tracking(model):
    if model.ndim == 2:
        return SmoothTracking2D(model, Iext=([0.0, 0.0], [2.0, 1.0], [-1.0, 0.5]), duration=(6.0, 6.0),
                                time_step=DT)
    return SmoothTracking1D(model, Iext=(0.0, 2.0, -1.0), duration=(6.0, 6.0), time_step=DT)


CASES = {
    "ring": lambda: (m := CANN1D(2100), tracking(m)),
    "ring without endpoint, adaptation": lambda: (m := CANN1D_SFA(2050, endpoint=False, m=0.3), tracking(m)),
    "ring with noise": lambda: (m := CANN1D(2048), TemplateMatching1D(m, Iext=0.5, duration=8.0, time_step=DT,
                                                                      noise_level=0.3)),
    "quarter-wave ring with noise": lambda: (m := CANN1D(2048, endpoint=False),
                                             TemplateMatching1D(m, Iext=0.5, duration=8.0, time_step=DT,
                                                                noise_level=0.3)),
    "quarter-wave ring of several blocks, adaptation": lambda: (m := CANN1D_SFA(4096, endpoint=False, m=0.3),
                                                                tracking(m)),
    "sheet (dense mode step)": lambda: (m := CANN2D(32), tracking(m)),
    "sheet (modal mode step), adaptation": lambda: (m := CANN2D_SFA(50, m=0.3), tracking(m)),
}


def run_in_pieces(case, threads):
    model, task = CASES[case]()
    sim = Simulation(model, task, record="full", record_every=3, seed=11, threads=threads)
    for n in (1, 40, 2, 77, 120):  # chunks of every kind: single steps, recorded and unrecorded ends
        sim.step(n)
    sim.apply({"stimulus": 1.0 if model.ndim == 1 else [1.0, -0.5]})
    sim.step(30)
    return sim


@pytest.mark.parametrize("case", CASES)
def test_two_threads_give_bit_for_bit_the_numbers_of_one(case):
    one, two = run_in_pieces(case, 1), run_in_pieces(case, 2)
    model = two.model
    assert len(parts.slot_bounds(model.kernel.slots, sheet=model.ndim == 2)) == 3  # really cut
    assert np.abs(two.model.u).max() > 0.1  # a real bump, not a network at rest
    for name in ("u", "v", "r", "inp"):
        np.testing.assert_array_equal(getattr(two.model, name), getattr(one.model, name), err_msg=name)
    a, b = one.recording.to_dict(), two.recording.to_dict()
    assert a.keys() == b.keys() and len(one.recording) == len(two.recording) > 80
    for key in a:
        np.testing.assert_array_equal(b[key], a[key], err_msg=key)


def test_small_networks_stay_in_one_part_and_large_ones_are_cut_evenly():
    assert list(parts.slot_bounds(CANN1D(2046).kernel.slots, sheet=False)) == [0, 1023]
    assert list(parts.slot_bounds(CANN2D(30).kernel.slots, sheet=True)) == [0, 15]
    lo, cut, hi = parts.slot_bounds(CANN1D(2047).kernel.slots, sheet=False)
    assert (lo, hi) == (0, 1024) and cut == 512
    lo, cut, hi = parts.slot_bounds(CANN2D(64).kernel.slots, sheet=True)
    assert (lo, hi) == (0, 32) and cut % 4 == 0 and abs(cut - 16) <= 2


def test_divergence_on_two_threads_stops_at_the_same_step_as_on_one():
    steps = []
    for threads in (1, 2):
        model = CANN1D(2100, k=0.0, J0=20.0)
        task = PopulationCoding1D(model, before_duration=0.0, after_duration=50.0, Iext=0.0, duration=5.0,
                                  time_step=DT)
        sim = Simulation(model, task, threads=threads)
        with pytest.raises(NumericalInstabilityError, match=r"non-finite at step \d+"):
            sim.run()
        steps.append((sim.step_index, len(sim.recording)))
    assert steps[0] == steps[1] and steps[0][0] > 0


@pytest.mark.parametrize("threads", [0, 3, 1.5, True, "2"])
def test_threads_must_be_one_or_two(threads):
    model = CANN1D(64)
    with pytest.raises(ConfigError, match=r"threads must be 1 or 2") as err:
        Simulation(model, tracking(model), threads=threads)
    assert err.value.param == "threads"


def test_a_second_thread_that_fails_releases_the_first(monkeypatch):
    """If the second thread cannot even start its part, the first must not wait for it for ever."""
    real_run = parts._kernels.run

    def failing_run(*args):
        if args[-5] == 1:  # `me` of the second thread
            raise MemoryError("no room for the second part")
        return real_run(*args)

    model = CANN1D(2048)
    sim = Simulation(model, tracking(model), threads=2)
    sim.step(5)  # compiled and working
    u_before = model.u.copy()
    monkeypatch.setattr(parts._kernels, "run", failing_run)
    done = threading.Event()

    def attempt():
        with pytest.raises(MemoryError, match="second part"):
            sim.step(50)
        done.set()

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert done.is_set(), "the first thread kept waiting for a second thread that had failed"
    assert sim.step_index == 5  # nothing lost: the failed chunk left the run where it was
    np.testing.assert_array_equal(model.u, u_before)
    monkeypatch.undo()
    sim.step(5)  # and it goes on
    assert sim.step_index == 10
