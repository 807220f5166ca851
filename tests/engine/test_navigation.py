"""Navigation: canns' motion model (statistically), trajectory import, and the streaming NavigationSimulation.

The motion-model reference numbers are canns 1.5.0's (canns_lib Rust agent) over 100 000 steps in the 5 m
box: speed Rayleigh(σ = speed_mean) (mean 1.2533σ, std 0.655σ); direction-change rate std 2.87 ± 0.10 rad/s
and 5–14 % of the time within 0.1 m of a wall, across six seeds (HIERARCHICAL.md §9; docs/hierarchical.md).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from canns_engine.errors import ConfigError, SessionFormatError
from canns_engine.hierarchical import (
    Anchor,
    HierarchicalNetwork,
    NavigationSimulation,
    OpenLoopNavigationTask,
    Trajectory,
    simulate_navigation,
)

DT = 0.05


@pytest.fixture(scope="module")
def long_walk():
    return OpenLoopNavigationTask(duration=5000.0, dt=DT, rng_seed=11).get_data()


@pytest.fixture(scope="module")
def net():
    return HierarchicalNetwork(num_module=5, num_place=30, dt=DT)


def wall_distance(position, width=5.0, height=5.0):
    x, y = position[:, 0], position[:, 1]
    return np.minimum.reduce([x, y, width - x, height - y])


# ------------------------------------------------------------------ motion model
def test_speed_is_rayleigh_with_scale_speed_mean(long_walk):
    speed = long_walk.speed
    assert speed.mean() == pytest.approx(0.04 * math.sqrt(math.pi / 2), rel=0.03)
    assert speed.std() == pytest.approx(0.04 * math.sqrt(2 - math.pi / 2), rel=0.05)


def test_turning_and_wall_statistics_match_canns(long_walk):
    direction = np.arctan2(long_walk.velocity[:, 1], long_walk.velocity[:, 0])
    turn_rate = np.angle(np.exp(1j * np.diff(direction))) / DT
    assert 2.4 < turn_rate.std() < 3.4
    assert 0.02 < np.mean(wall_distance(long_walk.position) < 0.1) < 0.25


def test_agent_stays_in_the_box_and_bounces(long_walk):
    p = long_walk.position
    assert p.min() >= 0.0 and p[:, 0].max() <= 5.0 and p[:, 1].max() <= 5.0
    bounces = np.abs(long_walk.speed - 0.5 * 0.04) < 1e-12  # a bounce moves at half the mean speed
    assert bounces.sum() >= 1


def test_bounce_reflects_off_the_wall_at_half_speed():
    """Head straight at the right wall without turning, repulsion or speed noise."""
    task = OpenLoopNavigationTask(duration=5.0, dt=DT, start_pos=(4.9, 2.5), initial_head_direction=0.3,
                                  rotational_velocity_std=0.0, speed_std=0.0, wall_repel_distance=0.0,
                                  speed_mean=0.5, rng_seed=0)
    traj = task.get_data()
    hit = int(np.argmax(traj.velocity[:, 0] < 0))
    assert hit > 0
    assert np.hypot(*traj.velocity[hit]) == pytest.approx(0.25)
    assert np.arctan2(traj.velocity[hit, 1], traj.velocity[hit, 0]) == pytest.approx(math.pi - 0.3)
    assert traj.position[:, 0].max() <= 5.0


def test_speed_std_only_switches_speed_noise_off():
    a = OpenLoopNavigationTask(duration=20.0, dt=DT, speed_std=0.05, rng_seed=4).get_data()
    b = OpenLoopNavigationTask(duration=20.0, dt=DT, speed_std=0.016, rng_seed=4).get_data()
    assert np.array_equal(a.position, b.position)
    c = OpenLoopNavigationTask(duration=20.0, dt=DT, speed_std=0.0, wall_repel_distance=0.0,
                               rng_seed=4).get_data()
    assert np.allclose(c.speed, 0.04)


def test_trajectory_indexing_follows_canns():
    traj = OpenLoopNavigationTask(duration=10.0, dt=DT, rng_seed=1).get_data()
    previous = np.vstack([traj.start_pos, traj.position[:-1]])
    assert np.abs(traj.position - previous - traj.velocity * DT).max() < 1e-15
    assert np.array_equal(traj.start_pos, [2.5, 2.5])
    assert len(traj) == 200 and np.allclose(traj.t[[0, -1]], [0.05, 10.0])


def test_seeded_walks_are_reproducible_and_chunk_independent():
    task = OpenLoopNavigationTask(duration=15.0, dt=DT, rng_seed=9)
    first = task.get_data()
    assert np.array_equal(task.get_data().position, first.position)
    agent = task.make_agent()
    parts = [agent.random_walk(n)[0] for n in (1, 99, 200)]
    assert np.array_equal(np.vstack(parts), first.position)
    other = OpenLoopNavigationTask(duration=15.0, dt=DT, rng_seed=10).get_data()
    assert not np.array_equal(other.position, first.position)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"start_pos": (6.0, 1.0)}, "start_pos"),
        ({"thigmotaxis": 1.5}, "thigmotaxis"),
        ({"speed_mean": -0.1}, "speed_mean"),
        ({"dt": 0.0}, "dt"),
        ({"rng_seed": -1}, "rng_seed"),
        ({"spead_mean": 0.1}, "spead_mean"),
    ],
)
def test_invalid_task_parameters_name_the_parameter(kwargs, param):
    with pytest.raises(ConfigError) as err:
        OpenLoopNavigationTask(duration=1.0, **kwargs)
    assert err.value.param == param


# ------------------------------------------------------------------ trajectory import
def write(path, text):
    path.write_text(text)
    return path


def test_csv_round_trip_is_exact(tmp_path):
    traj = OpenLoopNavigationTask(duration=10.0, dt=DT, rng_seed=5).get_data()
    traj.to_csv(tmp_path / "walk.csv")
    back = Trajectory.from_csv(tmp_path / "walk.csv", dt=DT)
    assert np.array_equal(back.position, traj.position) and np.array_equal(back.start_pos, traj.start_pos)
    assert np.allclose(back.velocity, traj.velocity, rtol=0, atol=1e-12)


def test_csv_import_resamples_and_ignores_extra_columns(tmp_path):
    csv = write(tmp_path / "tracked.csv", " X ,t,y,frame\n1.0,0.0,2.0,0\n1.2,0.1,2.0,1\n1.2,0.25,2.3,2\n")
    traj = Trajectory.from_csv(csv, dt=DT)
    assert len(traj) == 5 and np.array_equal(traj.start_pos, [1.0, 2.0])
    assert np.allclose(traj.position[:3], [[1.1, 2.0], [1.2, 2.0], [1.2, 2.1]])
    assert np.allclose(traj.velocity[0], [2.0, 0.0])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("time,x,y\n0,1,1\n0.05,1,1\n", "missing column(s) t"),
        ("t,x\n0,1\n0.05,1\n", "missing column(s) y"),
        ("", "missing column(s) t, x, y"),
        ("t,x,y\n0,1,1\n0.05,nan,1\n0.1,1,1\n", "line 3: x is nan"),
        ("t,x,y\n0,1,1\n0.05,1,1\n0.05,1,2\n", "line 4: time must be strictly increasing"),
        ("t,x,y\n0,1,1\n0.1,1,1\n0.05,1,2\n", "line 4: time must be strictly increasing"),
        ("t,x,y\n0,1,1\n", "at least 2 samples"),
        ("t,x,y\n0,1,1\n0.05,one,1\n", "line 3: cannot read"),
        ("t,x,y\n0,1,1\n0.05,1,1\n0.2,1,1\n", "not uniform"),
    ],
)
def test_bad_trajectory_files_name_file_and_problem(tmp_path, text, problem):
    csv = write(tmp_path / "bad.csv", text)
    with pytest.raises(SessionFormatError) as err:
        Trajectory.from_csv(csv)
    assert problem in str(err.value)
    assert str(csv) in str(err.value) and err.value.path == str(csv)


def test_missing_file_is_a_session_format_error(tmp_path):
    with pytest.raises(SessionFormatError, match="cannot read"):
        Trajectory.from_csv(tmp_path / "nowhere.csv")


def test_array_import_errors_name_the_array():
    with pytest.raises(ConfigError) as err:
        Trajectory.from_arrays([0, 1, 2], [0, 0], [0, 0, 0], dt=DT)
    assert err.value.param == "x"
    with pytest.raises(ConfigError, match="less than one step"):
        Trajectory.from_arrays([0, 0.01], [0, 0], [0, 0], dt=DT)


def test_imported_trajectory_drives_the_network(net):
    t = np.arange(0, 30.0001, 0.1)
    traj = Trajectory.from_arrays(t, 2.0 + 0.02 * t, 2.5 + 0.5 * np.sin(t / 10), dt=DT)
    net.reset()
    rec = simulate_navigation(net, traj)
    assert rec.error.max() < 0.03


# ------------------------------------------------------------------ streaming simulation
def test_frames_reproduce_simulate_navigation(net):
    for anchor in (Anchor(), Anchor(at="first")):
        task = OpenLoopNavigationTask(duration=20.0, dt=DT, rng_seed=3)
        net.reset()
        rec = simulate_navigation(net, task, anchor=anchor, record_every=50)
        sim = NavigationSimulation(net, task, anchor=anchor)
        frames = list(sim.frames(50))
        assert [f.step for f in frames] == list(range(50, 401, 50))
        assert np.array_equal(np.array([f.decoded for f in frames]), rec.decoded)
        assert np.array_equal(np.array([f.position for f in frames]), rec.position)


def test_frame_contents_are_copies_with_display_shapes(net):
    sim = NavigationSimulation(net, OpenLoopNavigationTask(duration=5.0, dt=DT, rng_seed=3))
    frame = sim.snapshot()
    assert frame.step == 0 and np.array_equal(frame.position, [2.5, 2.5])
    assert frame.place_rates.shape == (30, 30) and frame.grid_r.shape == (5, 20, 20)
    assert frame.band_r.shape == (5, 3, 180) and frame.band_phase.shape == (5, 3)
    assert np.linalg.norm(frame.decoded - frame.position) < 0.01  # anchored at the start
    iy, ix = np.unravel_index(np.argmax(frame.place_rates), frame.place_rates.shape)
    assert abs(net.place_center[iy * 30 + ix] - frame.position).max() < 0.2
    frame.grid_r[...] = -1.0
    sim.step(5)
    assert (sim.snapshot().grid_r >= 0).all()


def test_closed_loop_driving_moves_the_agent_and_the_decoded_position(net):
    sim = NavigationSimulation(net, None)
    gen = sim.frames(20, max_steps=2000)
    first = next(gen)
    assert first.closed_loop and np.array_equal(first.position, [2.5, 2.5])  # no task: standing still
    frame = gen.send({"velocity": (0.1, 0.05)})
    for _ in range(10):
        frame = next(gen)
    assert frame.closed_loop and np.allclose(frame.velocity, [0.1, 0.05])
    assert np.allclose(frame.position, [2.5 + 0.1 * 11 * 20 * DT, 2.5 + 0.05 * 11 * 20 * DT])
    assert np.linalg.norm(frame.decoded - frame.position) < 0.03
    frame = gen.send({"velocity": (0.0, -0.5)})
    for _ in range(30):
        frame = next(gen)
    assert frame.position[1] == 0.0 and np.array_equal(frame.velocity, [0.0, 0.0])  # held by the wall
    with pytest.raises(ConfigError):
        gen.send({"velocity": None})  # no task: no random walk to return to


def test_velocity_none_returns_to_the_random_walk(net):
    task = OpenLoopNavigationTask(duration=100.0, dt=DT, rng_seed=3)
    sim = NavigationSimulation(net, task)
    gen = sim.frames(10)
    next(gen)
    gen.send({"velocity": (0.0, 0.0)})
    held = next(gen).position
    assert np.array_equal(next(gen).position, held)
    frame = gen.send({"velocity": None})
    assert not frame.closed_loop and not np.array_equal(frame.position, held)
    with pytest.raises(ConfigError) as err:
        gen.send({"speed": 1.0})
    assert err.value.param == "speed"


def test_open_loop_frames_end_with_the_task_and_reset_reseeds(net):
    task = OpenLoopNavigationTask(duration=2.0, dt=DT, rng_seed=3)
    sim = NavigationSimulation(net, task, anchor=None)
    assert [f.step for f in sim.frames(15)] == [15, 30, 40]
    sim.reset(seed=8)
    a = [f.position for f in sim.frames(10)]
    sim.reset(seed=8)
    b = [f.position for f in sim.frames(10)]
    assert np.array_equal(a, b)
    sim.reset()
    assert not np.array_equal([f.position for f in sim.frames(10)], a)
