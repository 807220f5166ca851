"""What the fast paths must preserve: the modal kernel equals the dense one, the input recurrence equals
the formula, chunking never changes a run, and the ``endpoint=False`` ring is exact too (no timing here)."""

import dataclasses

import numpy as np
import pytest

from canns_engine import (
    CANN1D,
    CANN1D_SFA,
    CANN2D,
    CANN2D_SFA,
    ConfigError,
    CustomTracking1D,
    Simulation,
    SmoothTracking1D,
    SmoothTracking2D,
    TemplateMatching1D,
    simulate,
)
from canns_engine._kernels import VECTOR_BYTES
from canns_engine._memory import CACHE_LINE
from canns_engine.analysis import bump_width, decode_2d
from canns_engine.connectivity import (
    DENSE_AXIS,
    ModalKernel,
    feature_space,
    gaussian,
    stimulus_profile,
    wrap,
)


@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize("num", [8, 9, 16, 33, 64, 127, 128, 513])
@pytest.mark.parametrize("a", [0.1, 0.3, 0.5, 1.0, 2.0])
def test_modal_kernel_equals_dense_kernel(num, a, endpoint):
    z_range = 2 * np.pi
    x = feature_space(num, -np.pi, np.pi, endpoint=endpoint)
    dense = gaussian(wrap(x[:, None] - x[None, :], z_range), a)
    kernel = ModalKernel.build(num, a, z_range, endpoint=endpoint)
    assert kernel.period == (num - 1 if endpoint else num)
    # the truncation: at most ~2e-9 of the peak weight (the wrapped Gaussian's kink); exact when all kept
    tol = 1e-14 if kernel.modes == kernel.period else 3e-9
    assert np.abs(kernel.matrix() - dense).max() <= tol


def test_modal_kernel_keeps_few_modes_whatever_the_size():
    modes = {ModalKernel.build(num, 0.5, 2 * np.pi).modes for num in (256, 1024, 8192)}
    assert modes == {25}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("num", "endpoint"), [(128, True), (128, False), (1024, True), (40, False)])
def test_mode_table_rows_start_on_cache_lines_and_the_padding_is_zero(num, endpoint, dtype):
    kernel = ModalKernel.build(num, 0.3, 2 * np.pi, endpoint=endpoint, dtype=dtype)
    table = kernel.table
    assert kernel.slots == kernel.period // 2 + 1
    assert table.ctypes.data % CACHE_LINE == 0 and table.strides[0] % CACHE_LINE == 0
    assert table.shape[1] - kernel.slots < CACHE_LINE // table.itemsize
    assert not table[:, kernel.slots:].any()
    if kernel.dense.size:
        assert kernel.dense.ctypes.data % CACHE_LINE == 0


@pytest.mark.parametrize("a", [0.3, 0.45, 0.5])  # parts of 20 + 20, 13 + 12 and 12 + 11 modes
def test_mode_table_parts_come_in_fours_and_the_table_in_eights(a):
    """The kernels take a part's modes four at a time and a ring's projections eight at a time: the
    cosine part is padded to a multiple of four rows, the sine part to a table of a multiple of eight,
    and every padding row is zero, of weight zero."""
    kernel = ModalKernel.build(256, a, 2 * np.pi, endpoint=False, rtol=1e-7, dtype=np.float32)
    rows, n_cos = kernel.table.shape[0], kernel.n_cos
    assert n_cos % 4 == 0 and rows % 8 == 0
    kept = np.flatnonzero(kernel.weight)
    cos_kept, sin_kept = kept[kept < n_cos], kept[kept >= n_cos]
    assert np.array_equal(cos_kept, np.arange(len(cos_kept)))  # modes first, padding after, per part
    assert np.array_equal(sin_kept, n_cos + np.arange(len(sin_kept)))
    assert rows - n_cos - len(sin_kept) < 8 and n_cos - len(cos_kept) < 4
    padding = np.setdiff1d(np.arange(rows), kept)
    assert not kernel.table[padding].any()


@pytest.mark.parametrize("cls", [CANN1D_SFA, CANN2D])
def test_the_state_starts_on_cache_lines_however_it_was_set(cls):
    model = cls(33)
    assert all(getattr(model, name).ctypes.data % CACHE_LINE == 0 for name in ("u", "v", "r", "inp"))
    model.set_params(**{model.size_param: 40})  # resampled onto the new grid
    assert all(getattr(model, name).ctypes.data % CACHE_LINE == 0 for name in ("u", "v", "r", "inp"))
    buffer = np.zeros(model.u.size + 1)
    model.u = buffer[1:].reshape(model.shape)  # 8 bytes off: copied once, then stepped in place
    model.u[...] = 0.5
    model.update(np.zeros(model.shape))
    assert model.u.ctypes.data % CACHE_LINE == 0 and not np.shares_memory(model.u, buffer)
    stepped = model.u
    model.update(np.zeros(model.shape))
    assert model.u is stepped and 0 < model.u.max() < 0.5


def test_state_arrays_that_share_memory_are_parted_before_a_step():
    """The step loop promises LLVM that the rate and the input share no memory with anything else it
    writes (:mod:`canns_engine._noalias`): a state set to one array, and an input that is the model's own,
    still give the steps they give when kept apart."""
    runs = []
    for shared in (False, True):
        model = CANN1D_SFA(64)
        model.u = np.full(model.shape, 0.3)
        model.update(np.zeros(model.shape))  # r and inp now hold something
        if shared:
            model.r = model.u  # one array for three states
            model.v = model.u[::-1]
            model.update(model.inp)  # the model's own input array as the input
        else:
            model.r = model.u.copy()
            model.v = model.u[::-1].copy()
            model.update(model.inp.copy())
        assert not any(np.shares_memory(getattr(model, a), getattr(model, b))
                       for a, b in (("u", "v"), ("u", "r"), ("v", "r"), ("u", "inp"), ("r", "inp")))
        for _ in range(3):
            model.update(model.inp)
        runs.append([model.u.copy(), model.v.copy(), model.r.copy(), model.inp.copy()])
    for clean, parted in zip(*runs, strict=True):
        np.testing.assert_array_equal(parted, clean)


@pytest.mark.parametrize(("cls", "num", "threads", "precision", "sweeps_padding"), [
    (CANN1D_SFA, 128, 1, "float64", False),  # 64 slots swept, the antipode apart: no remainder
    (CANN1D, 129, 1, "float64", False),  # odd period, 65 slots: a scalar remainder of 1 (4 lanes)
    (CANN1D, 134, 1, "float64", True),  # 67 slots swept: 3 of 4 lanes, so the padding (and the
    (CANN1D, 133, 1, "float64", True),  # antipode) are swept; odd period: 67 slots
    (CANN1D_SFA, 140, 1, "float32", True),  # 70 slots swept: 6 of 8 lanes
    (CANN1D, 1024, 1, "float64", False), (CANN1D, 2048, 2, "float64", False)])
def test_a_run_does_not_depend_on_the_table_padding(cls, num, threads, precision, sweeps_padding):
    """Where the swept slots (all but the antipode of an even period) end more than half a vector into
    their last vector, the ring's last block of slots sweeps the table's zero padding as well (else it
    ends in a short scalar remainder): either way the same run with an unpadded, unaligned table agrees
    to rounding (the sums are only reordered)."""
    runs = []
    for padded in (True, False):
        model = cls(num, endpoint=False, dt=0.05, precision=precision)
        slots, lanes = model.kernel.slots, VECTOR_BYTES // model.kernel.table.itemsize
        swept = slots - 1 if model.kernel.period % 2 == 0 else slots
        assert model.kernel.table.shape[1] > slots  # the ring grid's slots need padding
        assert (swept % lanes > lanes // 2) == sweeps_padding
        if not padded:
            k = model.kernel
            buffer = np.empty(k.table[:, :k.slots].nbytes + 8)  # 8 bytes off a cache line
            start = (-buffer.ctypes.data % CACHE_LINE + 8) // 8
            table = buffer[start:start + k.table[:, :k.slots].size].reshape(-1, k.slots)
            table[...] = k.table[:, :k.slots]
            model.kernel = dataclasses.replace(k, table=table)
        task = SmoothTracking1D(model, Iext=(0.0, 2.0), duration=(25.0,), time_step=0.05)
        runs.append(simulate(model, task, record="full", threads=threads).u)
    rtol = 1e-12 if precision == "float64" else 1e-6  # float32 sums reordered: rounding at 6e-8
    assert np.abs(runs[0] - runs[1]).max() <= rtol * np.abs(runs[1]).max()


def test_quarter_wave_symmetry_needs_a_period_of_fours_and_no_mode_at_half_of_it():
    from canns_engine._kernels import QUARTER_MIN_PERIOD, quarter_wave

    assert CANN1D(256, endpoint=False).kernel.quarter_symmetric
    assert CANN1D(257).kernel.quarter_symmetric  # canns' grid: period 256
    assert not CANN1D(256).kernel.quarter_symmetric  # period 255
    assert not CANN1D(258, endpoint=False).kernel.quarter_symmetric
    wide = CANN1D(16, endpoint=False, a=0.5)  # every mode kept, up to 8 = 16 / 2, whose sine is left out
    assert wide.kernel.modes == 16 and not wide.kernel.quarter_symmetric
    assert CANN1D(64, endpoint=False).kernel.quarter_symmetric
    assert quarter_wave(CANN1D(64, endpoint=False).kernel) is None  # too short to gain
    assert quarter_wave(CANN1D(QUARTER_MIN_PERIOD, endpoint=False).kernel) is True


@pytest.mark.parametrize(("cls", "num", "endpoint", "threads"), [
    (CANN1D_SFA, 512, False, 1),  # one block
    (CANN1D, 1025, True, 1),  # the duplicate end neuron
    (CANN1D, 2048, False, 2),  # two parts
    (CANN1D_SFA, 4096, False, 1)])  # two parts of one and two blocks
def test_quarter_wave_sweeps_give_the_run_of_half_wave_sweeps(monkeypatch, cls, num, endpoint, threads):
    """The quarter-wave ring's sweeps only reorder the sums of the half-wave ones (float64 tables)."""
    from canns_engine import _kernels

    runs = []
    for quarter in (True, False):
        if not quarter:
            monkeypatch.setattr(_kernels, "quarter_wave", lambda kernel: None)
        model = cls(num, endpoint=endpoint, dt=0.05, precision="float64")
        assert model.kernel.quarter_symmetric
        task = SmoothTracking1D(model, Iext=(0.0, 2.0, -1.0), duration=(10.0, 10.0), time_step=0.05)
        rec = simulate(model, task, record="summary", threads=threads)
        runs.append((model.u.copy(), np.asarray(rec.decoded_pos)))
    (u_quarter, x_quarter), (u_half, x_half) = runs
    assert np.abs(u_half).max() > 0.1
    assert np.abs(u_quarter - u_half).max() <= 1e-13 * np.abs(u_half).max()
    np.testing.assert_allclose(x_quarter, x_half, atol=1e-12)


def _dense_step(model, u, inp):
    """One Euler step of the dense float64 equations (no adaptation)."""
    p = model.params
    x = model.x
    k = gaussian(wrap(x[:, None] - x[None, :], model.z_range), p["a"]) * model.peak_weight
    r = u**2 / (1 + p["k"] * np.sum(u**2))
    irec = k @ r @ k / model.peak_weight if model.ndim == 2 else k @ r
    return u + model.dt / p["tau"] * (-u + irec + inp)


@pytest.mark.parametrize(("precision", "rtol"), [("float64", 1e-9), ("float32", 1e-7)])
@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize(("cls", "size"), [
    (CANN1D, 97), (CANN1D, 96), (CANN1D, 26),  # periods 96/97, 95/96, 25/26: an even period's antipode
    (CANN1D, 256), (CANN1D, 257),  # apart from the sweeps (96) or swept with them (26); period 256: the
    (CANN2D, 24), (CANN2D, DENSE_AXIS + 5)])    # quarter-wave sweeps (with the duplicate end neuron: 257)
def test_one_step_from_a_rough_state_matches_dense(cls, size, endpoint, precision, rtol):
    model = cls(size, endpoint=endpoint, dt=0.05, precision=precision)
    rng = np.random.default_rng(1)
    u0 = rng.random(model.shape)  # white noise: every mode of the kernel matters
    inp = rng.random(model.shape)
    model.u = u0.copy()
    model.update(inp)
    expected = _dense_step(model, u0, inp)
    # float32: each weight and the projections are rounded to 6e-8; one step of dt = 0.05 moves u by 1e-9
    assert np.abs(model.u - expected).max() <= rtol * np.abs(expected).max()


@pytest.mark.parametrize("size", [32, 30])  # 30: neither the rows nor the slots a multiple of four
@pytest.mark.parametrize("cls", [CANN2D, CANN2D_SFA])
def test_small_sheets_take_the_dense_route_to_the_same_run(cls, size):
    """A sheet of at most DENSE_AXIS neurons per axis applies the kernel along its columns as a dense
    matrix; without that matrix the same sheet takes the modal route, and the two runs agree."""
    assert ModalKernel.build(DENSE_AXIS, 0.5, 2 * np.pi).dense.shape == (DENSE_AXIS, DENSE_AXIS)
    assert ModalKernel.build(DENSE_AXIS + 1, 0.5, 2 * np.pi).dense.size == 0
    odd = ModalKernel.build(31, 0.5, 2 * np.pi)  # rows padded with zeros to a multiple of four
    assert odd.dense.shape == (32, 31) and not odd.dense[31].any()
    np.testing.assert_array_equal(odd.dense[:31], odd.matrix().astype(odd.dense.dtype))
    runs = []
    for dense in (True, False):
        model = cls(size)
        assert model.kernel.dense.shape == (-(-size // 4) * 4, size)
        if not dense:
            model.kernel = dataclasses.replace(model.kernel, dense=np.empty((0, 0), model.kernel.table.dtype))
        task = SmoothTracking2D(model, Iext=([0.0, 0.0], [2.0, 1.0]), duration=(20.0,), time_step=0.05)
        rec = simulate(model, task, record="summary")
        runs.append((model.u.copy(), np.stack([rec.decoded_x, rec.decoded_y])))
    (u_dense, pos_dense), (u_modal, pos_modal) = runs
    assert np.abs(u_dense).max() > 0.1  # a bump formed (the adaptive one is lower)
    assert np.abs(u_dense - u_modal).max() <= 1e-7 * np.abs(u_modal).max()
    np.testing.assert_allclose(pos_dense, pos_modal, atol=1e-6)


@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize(("num", "a"), [(64, 0.5), (1000, 0.3), (4097, 0.05), (50, 0.02)])
def test_input_bump_recurrence_equals_the_formula(num, a, endpoint):
    model = CANN1D(num, a=a, endpoint=endpoint)
    positions = np.array([0.0, 0.37, np.pi, -np.pi, 3.1, -3.14159, 10.0, -10.0, -3.5, 4.0, np.pi - 1e-12])
    task = SmoothTracking1D(model, Iext=(0.0, 0.0), duration=(len(positions) * 0.05,), time_step=0.05)
    task.stim_pos[:, 0] = positions
    rec = simulate(model, task)
    expected = np.array([model.A * stimulus_profile(model.x, p, a, model.z_range) for p in positions])
    assert np.abs(rec.inp - expected).max() <= 1e-13 * model.A


@pytest.mark.parametrize("cls", [CANN1D_SFA, CANN2D_SFA])
def test_chunking_never_changes_a_run(cls):
    def run(chunks):
        model = cls(40 if cls is CANN1D_SFA else 12)
        task_cls = SmoothTracking2D if model.ndim == 2 else SmoothTracking1D
        iext = ((0.0, 0.0), (1.0, -1.0)) if model.ndim == 2 else (0.0, 1.5)
        sim = Simulation(model, task_cls(model, Iext=iext, duration=(6.0,), time_step=0.05))
        for n in chunks:
            sim.step(n)
        return sim.recording.u, sim.recording.v, sim.recording.summary

    whole = run([120])
    for chunks in ([1] * 120, [7] * 17 + [1], [60, 60]):
        for a, b in zip(run(chunks), whole, strict=True):
            np.testing.assert_array_equal(a, b)


def test_noise_on_the_duplicate_end_neuron_is_kept_apart():
    """Template matching feeds independent noise to canns' duplicate last neuron: it must not be merged."""
    model = CANN1D(64)
    rec = simulate(model, TemplateMatching1D(model, Iext=0.5, duration=1.0, time_step=0.05, noise_level=0.3,
                                             seed=3))
    assert not np.array_equal(rec.u[:, 0], rec.u[:, -1])


@pytest.mark.parametrize("cls", [CANN1D, CANN2D])
def test_endpoint_false_grid(cls):
    model = cls(32 if cls is CANN2D else 128, endpoint=False)
    assert model.params["endpoint"] is False
    np.testing.assert_allclose(model.x, np.linspace(-np.pi, np.pi, model.num, endpoint=False))
    assert model.kernel.period == model.num
    np.testing.assert_array_equal(model.decoder.weight, np.ones(model.num))
    model.u = np.random.default_rng(2).random(model.shape)
    model.update(np.zeros(model.shape))  # runs on the circulant ring


def test_endpoint_must_be_a_boolean():
    for bad in (1, 0, "yes", None):
        with pytest.raises(ConfigError, match="endpoint"):
            CANN1D(64, endpoint=bad)
    assert CANN1D(64, endpoint=np.bool_(False)).params["endpoint"] is False


def test_task_positions_come_per_chunk_without_a_per_step_array():
    model = CANN1D(64)
    iext, duration = (0.0, 2.0, -1.0, 3.3, 0.2), (10.0, 7.3, 0.05, 4.0)
    task = SmoothTracking1D(model, Iext=iext, duration=duration, time_step=0.05)
    steps = np.arange(task.total_steps)[::-3]
    chunk = task.positions(steps)
    assert task._stim_pos is None  # a run never builds the per-step array
    expected = [np.linspace(p0, p1, int(d / 0.05))
                for p0, p1, d in zip(iext, iext[1:], duration, strict=False)]
    expected = np.concatenate([*expected, np.full(task.total_steps - sum(map(len, expected)), iext[-1])])
    np.testing.assert_array_equal(chunk[:, 0], expected[steps])  # bit for bit numpy's linspace
    np.testing.assert_array_equal(task.stim_pos[:, 0], expected)


def test_precision_is_validated_and_changes_the_table():
    model = CANN1D(64)
    assert model.precision == "float32" and model.kernel.table.dtype == np.float32
    model.precision = "float64"
    assert model.kernel.table.dtype == np.float64
    with pytest.raises(ConfigError, match="precision"):
        CANN1D(64, precision="half")
    # adaptation: round-off seeds the travelling wave, so the float64 product is the default there
    assert CANN1D_SFA(64).precision == CANN2D_SFA(8).precision == "float64"
    assert CANN2D(8).precision == "float32"


@pytest.mark.parametrize("noisy", [False, True])
@pytest.mark.parametrize("loop", [True, False])
def test_planned_inputs_give_the_run_that_per_step_inputs_give(monkeypatch, loop, noisy):
    """Inputs are planned thousands of steps ahead; edits, a pulse that ends inside a plan, a looping
    protocol (or one that ends, and the steps after it) and a directly assigned ``A`` must leave the
    run exactly as inputs computed step by step — noise included: it is drawn only for the steps a plan
    marks noisy (the protocol's, not a held stimulus's or a pulse's), also where a plan tiles a short
    looping protocol."""
    from canns_engine import simulation

    edits = {40: {"A": 7.0}, 90: {"stimulus": 1.0}, 130: {"stimulus": None},
             170: {"pulse": {"pos": -2.5, "duration": 0.35}}, 260: "A = 3"}

    def run(chunk: int, plan_steps: int):
        monkeypatch.setattr(simulation, "INPUT_PLAN_STEPS", plan_steps)
        model = CANN1D(64)
        if noisy:  # 20 steps (looped 20 times)
            task = TemplateMatching1D(model, Iext=0.5, duration=1.0, time_step=0.05, noise_level=0.3, seed=4)
        else:  # 100 steps (looped 4 times)
            task = SmoothTracking1D(model, Iext=(0.0, 2.0, -1.0), duration=(3.0, 2.0), time_step=0.05)
        sim = Simulation(model, task, record="summary", loop=loop)
        for stop in [*edits, 400]:
            while sim.step_index < stop:
                sim.step(min(chunk, stop - sim.step_index))
            edit = edits.get(stop)
            if edit == "A = 3":
                model.A = 3.0  # canns style, not through apply()
            elif edit is not None:
                sim.apply(edit)
        return sim.recording.summary, model.u.copy()

    plan_steps = simulation.INPUT_PLAN_STEPS
    summary, u = run(chunk=1, plan_steps=1)  # every step's input computed on its own
    for chunk in (7, 64, 400):
        planned_summary, planned_u = run(chunk, plan_steps)
        np.testing.assert_array_equal(planned_summary, summary)
        np.testing.assert_array_equal(planned_u, u)
    assert np.ptp(summary[:, 0][np.isfinite(summary[:, 0])]) > 3  # the stimulus did move around
    assert np.isnan(summary[-1, 0]) != loop  # past its end a protocol gives no input


@pytest.mark.parametrize("make", [
    lambda m: SmoothTracking1D(m, Iext=(0.0, 2.0, -1.0, 0.5), duration=(1.0, 0.0, 2.02), time_step=0.05),
    lambda m: TemplateMatching1D(m, Iext=0.5, duration=1.0, time_step=0.05),
    lambda m: CustomTracking1D(m, Iext=np.linspace(-1, 1, 70), time_step=0.05),
])
def test_a_range_of_steps_gives_the_positions_of_the_same_index_array(make):
    """A run asks for consecutive steps as a ``range`` (slices); any other index is an array (masks)."""
    task = make(CANN1D(32))
    total = task.total_steps
    for first, stop in ((0, total), (0, 5), (3, 41), (19, 20), (40, total + 30), (total + 1, total + 9)):
        steps = range(first, min(stop, total))
        as_array = np.arange(steps.start, steps.stop)
        np.testing.assert_array_equal(task.positions(steps), task.positions(as_array))
    np.testing.assert_array_equal(task.positions(range(0, total, 3)), task.stim_pos[::3])


@pytest.mark.parametrize("cls", [CANN1D_SFA, CANN2D_SFA])
def test_a_snapshot_copies_the_state_and_rates_it(cls):
    model = cls(40 if cls is CANN1D_SFA else 12)
    task_cls = SmoothTracking2D if model.ndim == 2 else SmoothTracking1D
    iext = ((0.0, 0.0), (1.0, -1.0)) if model.ndim == 2 else (0.0, 1.5)
    sim = Simulation(model, task_cls(model, Iext=iext, duration=(2.0,), time_step=0.05))
    sim.step(30)
    frame = sim.snapshot()
    for name in ("u", "inp", "v"):
        np.testing.assert_array_equal(getattr(frame, name), getattr(model, name))
        assert not np.shares_memory(getattr(frame, name), getattr(model, name))
    np.testing.assert_allclose(frame.r, model.u**2 / (1 + model.k * np.sum(model.u**2)), rtol=1e-14)
    np.testing.assert_array_equal(frame.x, model.x)
    assert frame.u.shape == frame.r.shape == frame.v.shape == model.shape
    # the read-outs take Σr from Σu² (no pass over r) and the width from the peak found once
    assert frame.summary["total_activity"] == pytest.approx(frame.r.sum(), rel=1e-12)
    assert frame.summary["bump_height"] == frame.u.max()
    if model.ndim == 1:
        assert frame.summary["bump_width"] == bump_width(frame.u, model.dx)
    else:  # the marginals are summed in another order than numpy's: equal to rounding
        np.testing.assert_allclose(frame.decoded_pos, decode_2d(frame.u, model.x), rtol=1e-12)
    rec = sim.recording
    np.testing.assert_allclose(rec.total_activity, rec.r.reshape(len(rec), -1).sum(axis=1), rtol=1e-6)


def test_a_stimulus_dragged_around_a_sheet_moves_the_input_at_every_chunk():
    model = CANN2D(12)
    sim = Simulation(model, record="summary")
    for pos in ([0.5, -1.0], [0.5, -1.0], [1.5, 2.0]):  # equal holds are separate edits
        sim.apply({"stimulus": pos})
        sim.step(3)
        assert sim.snapshot().stim_pos == pytest.approx(pos)
        assert np.unravel_index(np.argmax(model.inp), model.shape) == (
            np.argmin(np.abs(model.x - pos[1])), np.argmin(np.abs(model.x - pos[0])))


def test_the_step_loop_never_assigns_to_the_arguments_that_choose_its_version():
    """numba prunes a branch on an argument that is ``None`` only while nothing assigns to that name (a
    local ``half`` once made every sheet compile the ring's pass as well: 16.5 instead of 10.7 s)."""
    import ast
    import inspect
    import textwrap

    from canns_engine import _kernels

    tree = ast.parse(textwrap.dedent(inspect.getsource(_kernels.run.py_func)))
    assigned = {node.id for node in ast.walk(tree)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    assert not assigned & {"half", "quarter", "sheet", "wide"}
    for model in (CANN1D(64), CANN1D(512, endpoint=False), CANN2D(16)):
        flags = _kernels.passes(model.kernel, sheet=model.ndim == 2)
        assert sorted(flags, key=lambda flag: flag is None) == [True, None, None]  # one pass each


def test_the_step_loop_counts_no_references_widens_its_vectors_and_marks_unshared_arrays(monkeypatch):
    """The compiled step loop has no reference-counting calls (:data:`canns_engine._flags.NO_NRT`):
    with them, each array handed to a part costs two atomic operations a step. A ring of 128 neurons
    gets the version with 512-bit vectors where the CPU runs them at full clock, one of 16 neurons never
    (:mod:`canns_engine._vectors`). Exactly the arrays that no other thread or view writes are marked
    ``noalias`` (:mod:`canns_engine._noalias`). Recompiled here without the cache, because numba can only
    show the code of a function it compiled in this process."""
    import inspect
    import re

    from numba import jit
    from numba.core.inline_closurecall import InlineWorker

    from canns_engine import _kernels, _vectors

    fresh = jit(**_kernels.run.targetoptions)(_kernels.run.py_func)
    monkeypatch.setattr(_kernels, "run", fresh)
    inlined = set()
    inline = InlineWorker.inline_function

    def recording_inline(self, caller_ir, block, i, function, *args, **kwargs):
        inlined.add(function.__name__)
        return inline(self, caller_ir, block, i, function, *args, **kwargs)

    monkeypatch.setattr(InlineWorker, "inline_function", recording_inline)
    for num in (16, 128):
        model = CANN1D(num)
        sim = Simulation(model, SmoothTracking1D(model, Iext=[0.0, 1.0], duration=[1.0], time_step=model.dt))
        sim.step(3)
        assert sim.step_index == 3
    # the other passes' branches were pruned before they were inlined (the pass arguments' types)
    assert "_sheet_pass" in inlined and not inlined & {"_quarter_pass", "_sheet_rows", "_sheet_modes"}
    where = list(inspect.signature(_kernels.run.py_func).parameters).index("wide")
    wide = {str(sig[where]): "prefer-vector-width" in fresh.inspect_llvm(sig) for sig in fresh.signatures}
    assert wide == ({"none": False, "bool": True} if _vectors.WIDE else {"none": False})
    params = list(inspect.signature(_kernels.run.py_func).parameters)
    arrays = {p for p in params if p not in {"n_cos", "period", "gain", "k", "dt_tau", "dt_tau_v", "m", "sfa",
                                             "z_min", "z_range", "a", "step0", "rec_every", "dx", "sheet",
                                             "half", "quarter", "wide", "me", "work"}}
    # both threads of a cut network write u, v and the part results; proj_flat is a view of proj, and a
    # sheet's threads share coef: none of them may be marked
    shared, shared_work = {"u", "v", "proj_parts", "s2_parts", "sync"}, {"proj", "proj_flat", "coef"}
    unshared = arrays - shared | {f"work.{i}" for i, field in enumerate(_kernels.Workspace._fields)
                                  if field not in shared_work and field != "zero"}
    assert shared <= arrays and shared_work <= set(_kernels.Workspace._fields)
    for sig in fresh.signatures:
        code = fresh.inspect_llvm(sig)
        assert "define" in code and "NRT_incref" not in code and "NRT_decref" not in code
        define = next(line for line in code.splitlines() if line.startswith("define") and "run" in line)
        marked = set(re.findall(r'noalias[^%,]*%"?arg\.([\w.]+)\.4"?[,)]', define))
        assert marked == unshared
