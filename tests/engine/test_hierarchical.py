"""HierarchicalNetwork: canns 1.5.0 reference, path integration, determinism, reset, validation, speed-ups.

The reference (tests/data/hierarchical_canns_ref.npz) holds a canns trajectory (rng_seed=2025, 3000 steps)
and canns' outputs on it, from float32 (canns' default) and float64 (x64) runs; docs/hierarchical.md says how
it was made. Tolerances: our float64 network must equal canns-x64 to rounding (1e-9 m leaves 5 orders of
magnitude of headroom over the 1e-14 observed) and canns-float32 within the 1e-4 m of the requirement (canns'
own f32–f64 gap is 4e-6 m).
"""

from __future__ import annotations

import doctest
import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest

from canns_engine.errors import ConfigError, NumericalInstabilityError
from canns_engine.hierarchical import (
    CANNS_ANCHOR,
    Anchor,
    HierarchicalNetwork,
    HierarchicalParams,
    NavigationParams,
    OpenLoopNavigationTask,
    Trajectory,
    simulate_navigation,
)
from canns_engine.hierarchical import _connectivity as conn
from canns_engine.hierarchical import _kernels as kern

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "data" / "hierarchical_canns_ref.npz"
PRESET = ROOT / "resources" / "presets" / "path_integration.json"
DT = 0.05


@pytest.fixture(scope="module")
def ref():
    with np.load(REF) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def net():
    return HierarchicalNetwork(num_module=5, num_place=30, dt=DT)


def angle_diff(a, b):
    return np.angle(np.exp(1j * (np.asarray(a) - np.asarray(b))))


def canns_protocol(ref, n_steps):
    """canns' example: anchoring at position[0] (velocity 0, strength 100 then 0), then navigation."""
    steps, release = int(ref["anchor_steps"]), int(ref["anchor_release"])
    pos, vel = ref["position"][:n_steps], ref["velocity"][:n_steps]
    velocity = np.vstack([np.zeros((steps, 2)), vel])
    loc = np.vstack([np.tile(pos[0], (steps, 1)), pos])
    strength = np.r_[np.where(np.arange(steps) < release, float(ref["anchor_strength"]), 0.0),
                     np.zeros(n_steps)]
    return velocity, loc, strength


def path(points):
    """A Trajectory through the given points (first = start), one point per step."""
    points = np.asarray(points, dtype=float)
    velocity = np.diff(points, axis=0) / DT
    return Trajectory(DT, points[0], points[1:], velocity, np.zeros(len(velocity)))


# ------------------------------------------------------------------ canns reference
def test_matches_canns_reference(net, ref):
    net.reset()
    trace = net.run(*canns_protocol(ref, len(ref["position"])))
    assert np.abs(trace.decoded - ref["decoded_f64"]).max() < 1e-9
    assert np.abs(trace.decoded - ref["decoded_f32"]).max() < 1e-4
    every = int(ref["centre_every"])
    assert np.abs(angle_diff(trace.band_phase[every - 1 :: every], ref["band_centre_f64"])).max() < 1e-9
    assert np.abs(angle_diff(trace.grid_centre[every - 1 :: every], ref["grid_centre_f64"])).max() < 1e-6


def test_simulate_navigation_with_canns_anchor_matches_reference(net, ref):
    net.reset()
    traj = path(np.vstack([[2.5, 2.5], ref["position"][:1000]]))
    rec = simulate_navigation(net, traj, anchor=CANNS_ANCHOR, record_every=10)
    anchor = int(ref["anchor_steps"])
    expected = ref["decoded_f64"][anchor:][9:1000:10]
    assert np.abs(rec.decoded - expected).max() < 1e-9
    assert np.array_equal(rec.step, np.arange(9, 1000, 10))
    assert np.allclose(rec.error, np.hypot(*(rec.decoded - ref["position"][9:1000:10]).T))


def test_other_sizes_match_canns_where_canns_crashes(ref):
    """grid_num=16, band_size=120 crash canns' network; its modules, with resized buffers, give the ref."""
    small = HierarchicalNetwork(num_module=3, num_place=20, grid_num=16, band_size=120, dt=DT)
    trace = small.run(*canns_protocol(ref, int(ref["small_steps"])))
    assert np.abs(trace.decoded - ref["small_decoded_f64"]).max() < 1e-9
    assert np.abs(trace.decoded - ref["small_decoded_f32"]).max() < 1e-4
    every = int(ref["centre_every"])
    assert np.abs(angle_diff(trace.band_phase[every - 1 :: every], ref["small_band_centre_f64"])).max() < 1e-9


def test_odd_sizes_run_and_decode():
    """Odd sizes (no Nyquist mode, no half-torus offset) integrate a short path; the coarser 15 × 15 grid
    sheets decode less precisely (observed ≤ 5 cm), hence 8 cm."""
    odd = HierarchicalNetwork(num_module=3, num_place=30, grid_num=15, band_size=91, dt=DT)
    rec = simulate_navigation(odd, path(np.linspace([2.0, 2.0], [2.6, 2.4], 201)))
    assert odd.grid_fr.shape == (3, 225) and odd.band_r.shape == (3, 3, 91)
    assert rec.error.max() < 0.08


# ------------------------------------------------------------------ path integration
def test_path_integration_straight_line(net):
    """Anchored at the start, the decoded path follows a 3.6 m line through the interior.

    Tolerance 3 cm: away from the walls canns' half-max place readout errs by 1.1–2.3 cm on average
    (HIERARCHICAL.md §11.10); the error is a readout effect and does not grow along the path.
    """
    net.reset()
    line = np.linspace([1.0, 1.5], [4.0, 3.5], 1443)
    rec = simulate_navigation(net, path(line))
    assert rec.error.max() < 0.03


def test_path_integration_circle(net):
    """A 1 m-radius circle at 5 cm/s (2513 steps) turns every band through all directions; 3 cm as above."""
    net.reset()
    theta = np.linspace(0.0, 2 * np.pi, 2514)
    circle = np.stack([2.5 + np.cos(theta), 2.5 + np.sin(theta)], axis=1)
    rec = simulate_navigation(net, path(circle))
    assert rec.error.max() < 0.03
    assert np.linalg.norm(rec.decoded[-1] - circle[-1]) < 0.03


def test_band_phases_integrate_projected_velocity(net):
    """Each band's phase advances by ∫ v·k dt from its anchored value phase(start, k).

    Tolerance 0.06 rad (2 cm of path in module 0): the bumps move at v·k to within 1 %, and module 0,
    with the largest |k|, lags most (canns: ≤ 0.13 rad over 100 000 random steps, §11.10).
    """
    net.reset()
    theta = np.linspace(0.0, 2 * np.pi, 2000)
    points = np.stack([2.5 + 0.9 * np.cos(theta), 2.5 + 0.6 * np.sin(theta)], axis=1)  # 4.8 m ellipse
    traj = path(points)
    rec = simulate_navigation(net, traj)
    k = net.band_wave_vectors  # (M, 3, 2)
    start_phase = np.mod(np.einsum("c,mbc->mb", points[0], k), 2 * np.pi) - np.pi
    integral = np.cumsum(traj.velocity * DT, axis=0)  # ∫ v dt
    expected = start_phase + np.einsum("tc,mbc->tmb", integral, k)
    assert np.abs(angle_diff(rec.band_phase, expected)).max() < 0.06


def test_quality_of_a_short_random_walk(net):
    """5000 random-walk steps in the 5 m box: mean error under the 4.5 cm bar of 100 000 steps."""
    net.reset()
    rec = simulate_navigation(net, OpenLoopNavigationTask(duration=250.0, dt=DT, rng_seed=2025),
                              record_every=5)
    assert rec.error.mean() < 0.045


# ------------------------------------------------------------------ interface, determinism, reset
def test_update_matches_run_bit_for_bit(ref):
    v, loc, s = canns_protocol(ref, 40)
    rows = np.r_[0:5, 395:405, 500:540]
    a = HierarchicalNetwork(5, 30, dt=DT)
    b = HierarchicalNetwork(5, 30, dt=DT)
    trace = a.run(v[rows], loc[rows], s[rows])
    for i in rows:
        b(velocity=v[i], loc=loc[i], loc_input_stre=s[i])
    assert np.array_equal(b.decoded_pos, trace.decoded[-1])
    assert np.array_equal(b.band_phase, trace.band_phase[-1])
    assert np.array_equal(b.grid_fr, a.grid_fr) and np.array_equal(b.place_fr, a.place_fr)
    assert b.step_count == len(rows) and b.t == pytest.approx(len(rows) * DT)


def test_record_every_picks_the_same_steps(net, ref):
    v, loc, s = canns_protocol(ref, 200)
    net.reset()
    full = net.run(v, loc, s, place_rates=True)
    net.reset()
    sparse = net.run(v, loc, s, record_every=7, place_rates=True)
    assert np.array_equal(sparse.decoded, full.decoded[6::7])
    assert np.array_equal(sparse.place_rates, full.place_rates[6::7])
    assert sparse.band_phase.shape == (len(v) // 7, 5, 3)


def test_noise_is_seeded_and_independent_of_chunking():
    def make(seed):
        return HierarchicalNetwork(2, 10, band_noise=0.5, seed=seed, dt=DT)

    rng = np.random.default_rng(0)
    v = rng.normal(0, 0.04, (600, 2))
    loc = np.full((600, 2), 2.5)
    a, b, c = make(3), make(3), make(4)
    one = a.run(v, loc, record_every=1)
    b.run(v[:100], loc[:100])
    part = b.run(v[100:], loc[100:], record_every=1)
    assert np.array_equal(one.decoded[100:], part.decoded)
    assert np.array_equal(a.band_r, b.band_r)
    assert not np.array_equal(c.run(v, loc).decoded, one.decoded)
    a.reset()
    assert np.array_equal(a.run(v, loc).decoded, one.decoded)  # reset reseeds


def test_reset_restores_constructor_state(ref):
    fresh = HierarchicalNetwork(3, 12, dt=DT)
    used = HierarchicalNetwork(3, 12, dt=DT)
    used.run(*canns_protocol(ref, 300))
    used.reset()
    for name in ("band_r", "band_phase", "grid_fr", "grid_centre", "decoded_pos", "place_fr"):
        assert np.array_equal(getattr(used, name), getattr(fresh, name)), name
    assert used.step_count == 0
    v, loc, s = canns_protocol(ref, 50)
    assert np.array_equal(used.run(v, loc, s).decoded, fresh.run(v, loc, s).decoded)


def test_constructor_state_is_canns_initial_state():
    net = HierarchicalNetwork(2, 5, dt=DT)
    x = conn.ring_lattice(180)
    bump = np.exp(-0.5 * (x / (2 * np.pi / 9)) ** 2) / (np.sqrt(2 * np.pi) * 2 * np.pi / 9)
    assert np.allclose(net.band_r, 30 * bump, rtol=1e-15, atol=0)
    assert not net.grid_fr.any() and not net.band_phase.any()
    assert np.array_equal(net.decoded_pos, [0.0, 0.0]) and not net.place_fr.any()


def test_attributes_are_copies(net):
    net.band_r[...] = 7.0
    net.grid_fr[...] = 7.0
    assert not (net.band_r == 7.0).all() and not (net.grid_fr == 7.0).any()


def test_canns_names_and_geometry(net):
    assert net.num_place == 900 and net.num_module == 5
    assert np.allclose(net.spacing, [2.0, 2.75, 3.5, 4.25, 5.0])
    assert np.allclose(net.place_center[[0, 1, 30]], [[0, 0], [5 / 29, 0], [0, 5 / 29]])
    k = net.band_wave_vectors[0]
    assert np.allclose(np.degrees(np.arctan2(k[:, 1], k[:, 0])), [-90, -30, 30])
    assert np.allclose(np.hypot(k[:, 0], k[:, 1]), 2 * np.pi / 2.0)
    assert net.grid_input_gain == 5000.0


def test_arena_sets_place_centres():
    net = HierarchicalNetwork(2, 5, arena_width=8.0, arena_height=4.0, dt=DT)
    assert np.allclose(net.place_center.max(axis=0), [8.0, 4.0])


# ------------------------------------------------------------------ validation and errors
@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"grid_num": 3}, "grid_num"),
        ({"band_size": 4}, "band_size"),
        ({"num_module": 0}, "num_module"),
        ({"num_place": 2.5}, "num_place"),
        ({"spacing_min": 3.0, "spacing_max": 2.0}, "spacing_max"),
        ({"gauss_a": 0.0}, "gauss_a"),
        ({"grid_tau": float("nan")}, "grid_tau"),
        ({"band_noise": -1.0}, "band_noise"),
        ({"dt": 0.2}, "dt"),
        ({"num_place": 100, "num_module": 16, "grid_num": 48}, "num_place"),
        ({"grid_nmu": 20}, "grid_nmu"),
    ],
)
def test_invalid_parameters_name_the_parameter(kwargs, param):
    base = {"num_module": 2, "num_place": 5} | kwargs
    with pytest.raises(ConfigError) as err:
        HierarchicalNetwork(**base)
    assert err.value.param == param
    assert param in str(err.value)


def test_invalid_inputs_name_the_input(net):
    with pytest.raises(ConfigError, match="velocity") as err:
        net.update(velocity=(1.0, 2.0, 3.0), loc=(0, 0))
    assert err.value.param == "velocity"
    with pytest.raises(ConfigError, match="NaN") as err:
        net.update(velocity=(0.0, 0.0), loc=(np.nan, 0.0))
    assert err.value.param == "loc"
    with pytest.raises(ConfigError) as err:
        net.run(np.zeros((3, 2)), np.zeros((3, 2)), record_every=0)
    assert err.value.param == "record_every"


def test_non_finite_state_raises_with_step_and_time():
    """dt = 2.5·gauss_tau makes the band rings' forward Euler step diverge (|1 − dt/τ| > 1)."""
    net = HierarchicalNetwork(1, 5, dt=0.1, gauss_tau=0.04)
    with pytest.raises(NumericalInstabilityError) as err:
        net.run(np.full((1500, 2), 0.03), np.zeros((1500, 2)))
    assert 100 < err.value.step < 1500
    assert err.value.t == pytest.approx((err.value.step + 1) * 0.1)
    assert "reset" in str(err.value)


def test_simulation_rejects_mismatched_dt_and_arena(net):
    with pytest.raises(ConfigError) as err:
        simulate_navigation(net, OpenLoopNavigationTask(duration=1.0, dt=0.02))
    assert err.value.param == "dt"
    with pytest.raises(ConfigError) as err:
        simulate_navigation(net, OpenLoopNavigationTask(duration=1.0, dt=DT, width=8.0))
    assert err.value.param == "arena_width"
    with pytest.raises(ConfigError) as err:
        Anchor(steps=10, release=20)
    assert err.value.param == "anchor_release"


# ------------------------------------------------------------------ the fast forms equal canns' dense forms
def test_ring_operator_equals_dense_matrices():
    a, size = 2 * np.pi / 9, 180
    op = conn.ring_operator(size, a, 1.1, 5e-4, 1.0)
    w_rec, w_left, w_right = conn.band_matrices(size, a, 1.1, 5e-4, 1.0)
    x = conn.ring_lattice(size)
    r = 30 * np.exp(-conn.wrap_r(x - 1.3) ** 2 / (2 * (a / 1.4) ** 2))
    sums = np.r_[r @ op.cos_xm, r @ op.sin_xm]
    synth = np.vstack([op.cos_mx, op.sin_mx])
    for lam, dense in ((op.lam_rec, w_rec @ r), (op.lam_left, r @ w_left), (op.lam_right, r @ w_right)):
        coef = np.zeros_like(sums)
        kern._apply_spectrum(lam, sums, coef)
        assert np.abs(coef @ synth - dense).max() < 1e-12 * np.abs(dense).max()


@pytest.mark.parametrize(("num", "a"), [(20, math.pi / 9), (16, math.pi / 9), (15, 0.8), (12, 1.0)])
def test_grid_recurrence_equals_dense_matrix(num, a):
    op = conn.grid_operator(num, a, 1.0)
    sc = HierarchicalNetwork(2, 4, grid_num=num, grid_a=a, dt=DT)._sc
    r = np.random.default_rng(1).random((2, num * num)) ** 6
    out = np.empty_like(r)
    kern.sheet_recurrence(sc, r, out, kern.sheet_work(2, num))
    dense = r @ conn.grid_matrix(num, a, 1.0).T
    assert np.abs(out - dense).max() < 1e-13 * np.abs(dense).max()
    assert (op.fix_val.size > 0) == (num % 2 == 0 and a > 0.5)  # half-torus correction only when it matters


@pytest.mark.parametrize(("num", "a"), [(20, 2 * math.pi / 9), (15, 2 * math.pi / 9), (4, 2 * math.pi / 9),
                                        (20, 0.05)])
def test_factorised_grid_input_equals_canns_formula(num, a):
    """The lattice factorisation (or, for a kernel as narrow as 0.05 rad, the direct fallback)."""
    sc = HierarchicalNetwork(1, 4, grid_num=num, gauss_a=a, dt=DT)._sc
    assert (sc.input_table.size == 0) == (a < 0.1)
    phases = conn.grid_phases(num)
    out = np.empty(num * num)
    for phi in np.random.default_rng(3).uniform(-np.pi, np.pi, (20, 2)):
        kern._sheet_input(sc, phi[0], phi[1], out, np.empty((4, num)), np.empty((2, num), dtype=np.int64))
        want = 5000 * conn.gaussian(conn.hexdist(phi[None, :] - phases), a)
        assert np.abs(out - want).max() <= 1e-13 * want.max()


def test_pruned_readout_equals_dense_readout(net, ref):
    def dense(r):
        g = net._ro.w @ r.reshape(-1)
        u = np.where(g > g.max() / 2, g - g.max() / 2, 0.0)
        return net.place_center.T @ u / (1e-5 + u.sum()), u**2 / (1 + (u**2).sum())

    net.reset()
    net.run(*canns_protocol(ref, 800), decode=False)
    states = [net._ss.r.copy(), np.random.default_rng(2).random(net._ss.r.shape), np.zeros(net._ss.r.shape)]
    for r in states:
        decoded, place = np.zeros(2), np.zeros(net.num_place)
        kern.readout(net._ro, r, np.empty(net.num_place), np.empty(net.num_place, dtype=np.int64),
                     decoded, place)
        want_decoded, want_place = dense(r)
        assert np.allclose(decoded, want_decoded, rtol=0, atol=1e-12)
        assert np.allclose(place, want_place, rtol=0, atol=1e-14)


# ------------------------------------------------------------------ docs and preset
@pytest.mark.parametrize("name", ["network", "navigation", "simulation"])
def test_docstring_examples(name):
    module = importlib.import_module(f"canns_engine.hierarchical.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0



def test_preset_builds_network_and_task():
    preset = json.loads(PRESET.read_text())
    assert preset["format"] == "canns-studio-session" and preset["schema_version"] == 1
    assert preset["model"]["type"] == "HierarchicalNetwork"
    params = HierarchicalParams(**preset["model"]["params"])
    assert params == HierarchicalParams(num_module=5, num_place=30)  # canns' example settings
    task = NavigationParams(**preset["task"]["params"])
    assert task.dt == params.dt == preset["dt"]
    assert (task.width, task.height) == (params.arena_width, params.arena_height)
