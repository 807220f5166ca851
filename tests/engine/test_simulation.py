"""Simulation semantics: determinism, chunking, frames, live and structural edits, replay, recording."""

import numpy as np
import pytest

from canns_engine import (
    CANN1D,
    CANN1D_SFA,
    CANN2D,
    ConfigError,
    NumericalInstabilityError,
    PopulationCoding1D,
    Simulation,
    SmoothTracking1D,
    TemplateMatching1D,
    simulate,
)
from canns_engine.analysis import decode_population_vector

DT = 0.05


def tracking(num=64, **params):
    model = CANN1D(num, **params)
    return model, SmoothTracking1D(model, Iext=(0.0, 1.5, -1.0), duration=(5.0, 5.0), time_step=DT)


def test_same_seed_gives_identical_recording_and_other_seed_differs():
    def run(seed):
        model = CANN1D(64)
        task = TemplateMatching1D(model, Iext=0.5, duration=5.0, time_step=DT, noise_level=0.3)
        return simulate(model, task, seed=seed).u

    np.testing.assert_array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))


def test_results_do_not_depend_on_chunking():
    model, task = tracking()
    whole = simulate(model, task).u
    model.init_state()
    sim = Simulation(model, task)
    for n in (1, 2, 3, 50, 7, 100):
        sim.step(n)
    np.testing.assert_array_equal(sim.recording.u, whole[: sim.step_index])


def test_record_every_and_summary_only():
    model, task = tracking()
    full = simulate(model, task)
    model.init_state()
    sparse = simulate(model, task, record_every=10)
    np.testing.assert_array_equal(sparse.u, full.u[9::10])
    np.testing.assert_array_equal(sparse.t, full.t[9::10])
    model.init_state()
    summary = simulate(model, task, record="summary")
    np.testing.assert_array_equal(summary.decoded_pos, full.decoded_pos)
    with pytest.raises(AttributeError, match="summaries only"):
        _ = summary.u
    assert summary.nbytes < full.nbytes / 10


def test_record_every_keeps_the_same_steps_however_the_run_is_chunked():
    """The kernel counts down to the next recorded step from the chunk's first step."""
    def run(chunks):
        model, task = tracking()
        sim = Simulation(model, task, record_every=7)
        for n in chunks:
            sim.step(n)
        return sim.recording

    whole = run([120])
    assert whole.t[0] == pytest.approx(7 * whole.dt) and len(whole.t) == 120 // 7
    for chunks in ([3, 5, 11, 1, 20, 80], [6, 1, 7, 106], [1] * 120):
        rec = run(chunks)
        np.testing.assert_array_equal(rec.t, whole.t)
        np.testing.assert_array_equal(rec.u, whole.u)


def test_kernel_summaries_equal_the_analysis_functions_on_recorded_states():
    model, task = tracking()
    rec = simulate(model, task)
    # the summary columns are stored as float32: equal to the float64 read-outs to float32 resolution
    assert rec.summary.dtype == np.float32
    np.testing.assert_allclose(rec.decoded_pos, decode_population_vector(rec.u, model.x), rtol=0,
                               atol=np.spacing(np.float32(np.pi)))
    np.testing.assert_allclose(rec.total_activity, rec.r.sum(axis=1), rtol=np.finfo(np.float32).eps)
    np.testing.assert_allclose(rec.bump_height, rec.u.max(axis=1))
    np.testing.assert_allclose(rec.stim_pos, task.stim_pos[:, 0])


def test_max_bytes_stops_before_exceeding_memory():
    model, task = tracking(num=256)
    with pytest.raises(ConfigError, match="max_bytes") as err:
        simulate(model, task, max_bytes=100_000)
    assert err.value.param == "max_bytes"


def test_frames_are_copies_and_updates_apply_between_chunks():
    model, task = tracking()
    sim = Simulation(model, task)
    gen = sim.frames(steps_per_frame=20)
    first = next(gen)
    kept = first.u.copy()
    second = gen.send({"k": 2.0, "stimulus": 0.5})
    np.testing.assert_array_equal(first.u, kept)  # the first frame was not changed by stepping
    assert second.step == 40 and second.params["k"] == 2.0 and model.k == 2.0
    assert second.stim_pos == pytest.approx(0.5)  # the held stimulus replaced the protocol
    assert second.decoded_pos == pytest.approx(decode_population_vector(second.u, model.x))
    frames = list(gen)
    assert frames[-1].done and sim.step_index == task.total_steps
    assert sim.events == [{"step": 20, "k": 2.0, "stimulus": 0.5}]


def test_replaying_events_reproduces_the_recording_bit_for_bit():
    model, task = tracking()
    sim = Simulation(model, task, seed=3)
    sim.step(37)
    sim.apply({"stimulus": 2.0})
    sim.step(11)
    sim.apply({"A": 3.0, "stimulus": None})
    sim.apply({"pulse": {"pos": -2.0, "duration": 1.0, "amplitude": 8.0}})
    sim.step(60)
    sim.apply({"num": 96})  # structural: new grid, new recording segment
    sim.run()
    events = sim.events
    model2, task2 = tracking()
    replay = Simulation(model2, task2, seed=3)
    replay.run(events=events)
    np.testing.assert_array_equal(replay.previous_recordings[0].u, sim.previous_recordings[0].u)
    np.testing.assert_array_equal(replay.recording.u, sim.recording.u)
    assert replay.recording.u.shape[1] == 96


def test_structural_change_resamples_state_and_keeps_the_bump():
    model = CANN1D(128)
    task = PopulationCoding1D(model, before_duration=0.0, after_duration=20.0, Iext=1.2, duration=5.0,
                              time_step=DT)
    sim = Simulation(model, task)
    sim.step(200)
    before = sim.snapshot()
    sim.apply({"num": 200})
    after = sim.snapshot()
    assert after.u.shape == (200,) and model.conn_mat.shape == (200, 200)
    assert after.decoded_pos == pytest.approx(before.decoded_pos, abs=0.02)
    sim.run()
    assert sim.snapshot().decoded_pos == pytest.approx(1.2, abs=0.05)
    assert sim.snapshot().summary["bump_height"] > 0.1


def test_changing_a_rebuilds_connectivity_and_keeps_state():
    model = CANN1D(64)
    sim = Simulation(model, None, record="none")
    sim.apply({"stimulus": 0.0})
    sim.step(40)
    u = model.u.copy()
    w_before = model.conn_mat
    sim.apply({"a": 0.3})
    np.testing.assert_array_equal(model.u, u)
    assert model.conn_mat.max() > w_before.max()  # narrower kernel, higher peak


@pytest.mark.parametrize(("cls", "size", "threads"), [(CANN1D, 64, 1), (CANN2D, 32, 2)])
def test_a_rebuilt_kernel_gets_scratch_of_its_size(cls, size, threads):
    """The compiled loop's scratch arrays are kept from chunk to chunk; a narrower kernel has more modes,
    and the run after the change must equal a fresh simulation of the changed network."""
    runs = []
    for fresh in (False, True):
        model = cls(size)
        sim = Simulation(model, None, record="none", threads=threads)
        sim.apply({"stimulus": 0.5 if model.ndim == 1 else [0.5, -0.5]})
        sim.step(30)
        if fresh:
            state = model.u.copy()
            model = cls(size, a=0.3)
            model.u = state
            sim = Simulation(model, None, record="none", threads=threads)
            sim.apply({"stimulus": 0.5 if model.ndim == 1 else [0.5, -0.5]})
        else:
            width = model.kernel.table.shape[0]
            sim.apply({"a": 0.3})
            assert model.kernel.table.shape[0] > width
        sim.step(30)
        runs.append(model.u.copy())
    assert np.abs(runs[0]).max() > 0.1
    np.testing.assert_array_equal(runs[0], runs[1])


def test_divergence_raises_with_step_time_and_cause():
    model = CANN1D(64, k=0.0, J0=20.0)
    task = PopulationCoding1D(model, before_duration=0.0, after_duration=50.0, Iext=0.0, duration=5.0,
                              time_step=DT)
    sim = Simulation(model, task)
    with pytest.raises(NumericalInstabilityError, match=r"non-finite at step \d+ .*k = 0") as err:
        sim.run()
    assert 0 < err.value.step < task.total_steps
    assert err.value.t == pytest.approx((err.value.step + 1) * DT)
    assert len(sim.recording) == sim.step_index  # what ran before the divergence is kept


def test_free_run_needs_steps_and_model_update_steps_once():
    model = CANN1D_SFA(64)
    sim = Simulation(model)
    with pytest.raises(ConfigError, match="steps or duration"):
        sim.run()
    model.dt = DT
    model.update(model.get_stimulus_by_pos(0.3))
    assert model.u.max() > 0 and model.v.max() > 0


def test_reset_restores_zero_state_and_restarts_protocol():
    model = CANN2D(12)
    sim = Simulation(model, None, seed=1)
    sim.apply({"stimulus": (0.5, 0.5)})
    sim.step(30)
    sim.reset(seed=2)
    assert sim.step_index == 0 and sim.events == [] and not model.u.any() and sim.seed == 2
    assert len(sim.recording) == 0


def test_rebuilding_a_ring_without_endpoint_keeps_the_bump_in_place():
    model = CANN1D(100, endpoint=False)
    task = PopulationCoding1D(model, before_duration=0.0, after_duration=5.0, Iext=1.0, duration=5.0,
                              time_step=DT)
    sim = Simulation(model, task)
    sim.step(150)
    before = sim.snapshot().decoded_pos
    sim.apply({"num": 160})
    assert sim.snapshot().decoded_pos == pytest.approx(before, abs=0.005)
