"""Trajectories for the hierarchical network: canns' random-walk task, a steerable agent, and CSV import.

``OpenLoopNavigationTask`` reimplements the motion model of canns' task of that name (canns_lib's Rust
``Agent``; HIERARCHICAL.md §9) with NumPy's generator: same equations, statistically equivalent paths, not
the same random numbers. ``Trajectory`` follows canns' indexing: ``position[t]`` is the position *after*
step t, ``velocity[t] = (position[t] − position[t − 1])/dt`` with ``position[−1] = start_pos``.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from canns_engine.errors import ConfigError, SessionFormatError
from canns_engine.hierarchical import _motion
from canns_engine.hierarchical.params import check_float, check_int

CSV_COLUMNS = ("t", "x", "y")


@dataclass(frozen=True, eq=False)
class Trajectory:
    """A path sampled every ``dt``: start position (2,), then per step position, velocity (T, 2) and
    head-direction angle (T,)."""

    dt: float
    start_pos: np.ndarray
    position: np.ndarray
    velocity: np.ndarray
    hd_angle: np.ndarray

    def __len__(self) -> int:
        return self.position.shape[0]

    @property
    def t(self) -> np.ndarray:
        """Time (s) at the end of each step, (k + 1)·dt."""
        return (np.arange(len(self)) + 1) * self.dt

    @property
    def speed(self) -> np.ndarray:
        """Speed (m/s) per step."""
        return np.hypot(self.velocity[:, 0], self.velocity[:, 1])

    @classmethod
    def from_arrays(cls, time: object, x: object, y: object, *, dt: float | None = None) -> Trajectory:
        """Resample samples (time, x, y) onto steps of ``dt`` by linear interpolation.

        The first sample is the start position; steps end at time[0] + dt, time[0] + 2dt, … ≤ time[−1].
        ``dt`` defaults to the sampling interval, which must then be uniform.

        Raises
        ------
        ConfigError
            Mismatched lengths, fewer than 2 samples, NaN/infinite values, time not strictly increasing,
            non-uniform sampling without ``dt``, or a trajectory shorter than one step.
        """
        return _resample(time, x, y, dt, lambda i: f"row {i}")

    @classmethod
    def from_csv(cls, path: str | Path, *, dt: float | None = None) -> Trajectory:
        """Read a CSV file whose header names columns t, x, y (others are ignored); see from_arrays.

        Raises
        ------
        SessionFormatError
            Naming the file and the problem (missing columns, unparsable or NaN values, too few rows,
            non-monotonic time, …) with its line number.
        """
        path = Path(path)
        try:
            with path.open(newline="") as fh:
                rows = list(csv.reader(fh))
        except (OSError, UnicodeDecodeError) as exc:
            raise SessionFormatError(f"cannot read trajectory file: {exc}", path=str(path)) from exc
        header = [name.strip().lower() for name in rows[0]] if rows else []
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            raise SessionFormatError(f"missing column(s) {', '.join(missing)}; expected t, x, y, found "
                                     f"{', '.join(header) or 'nothing'}", path=str(path))
        index = [header.index(c) for c in CSV_COLUMNS]
        data = np.empty((len(rows) - 1, 3))
        for i, row in enumerate(rows[1:]):
            try:
                data[i] = [float(row[j]) for j in index]
            except (ValueError, IndexError) as exc:
                raise SessionFormatError(f"line {i + 2}: cannot read t, x, y from {row!r}",
                                         path=str(path)) from exc
        try:
            return _resample(data[:, 0], data[:, 1], data[:, 2], dt, lambda i: f"line {i + 2}")
        except ConfigError as exc:
            raise SessionFormatError(str(exc), path=str(path)) from exc

    def to_csv(self, path: str | Path) -> None:
        """Write columns t, x, y: the start position at t = 0, then the position after each step."""
        t = np.concatenate([[0.0], self.t])
        xy = np.vstack([self.start_pos, self.position])
        with Path(path).open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            writer.writerows(zip(t.tolist(), xy[:, 0].tolist(), xy[:, 1].tolist(), strict=True))


def _resample(
    time: object, x: object, y: object, dt: float | None, where: Callable[[int], str]
) -> Trajectory:
    """Validate samples and interpolate them onto steps of dt; ``where(i)`` names sample i in errors."""
    cols = {name: np.asarray(v, dtype=np.float64) for name, v in (("time", time), ("x", x), ("y", y))}
    for name, arr in cols.items():
        if arr.ndim != 1 or arr.shape != cols["time"].shape:
            raise ConfigError(f"time, x and y must be 1-D of equal length; {name} has shape {arr.shape}",
                              param=name)
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ConfigError(f"{where(bad[0])}: {name} is {arr[bad[0]]}", param=name)
    t_s, x_s, y_s = cols["time"], cols["x"], cols["y"]
    if t_s.size < 2:
        raise ConfigError(f"a trajectory needs at least 2 samples, got {t_s.size}", param="time")
    steps = np.diff(t_s)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        i = bad[0] + 1
        raise ConfigError(f"{where(i)}: time must be strictly increasing, but t = {t_s[i]:g} follows "
                          f"t = {t_s[i - 1]:g}", param="time")
    if dt is None:
        dt = float(steps[0])
        if np.abs(steps - dt).max() > 1e-9 * max(dt, 1.0):
            raise ConfigError("time stamps are not uniform; pass dt= to resample", param="dt")
    check_float("dt", dt, 0.0, open_lo=True)
    n_steps = math.floor((t_s[-1] - t_s[0]) / dt * (1 + 1e-12))
    if n_steps < 1:
        raise ConfigError(f"trajectory lasts {t_s[-1] - t_s[0]:g} s, less than one step of dt = {dt:g} s",
                          param="time")
    t_grid = t_s[0] + (np.arange(n_steps) + 1) * dt
    start = np.array([x_s[0], y_s[0]])
    position = np.stack([np.interp(t_grid, t_s, x_s), np.interp(t_grid, t_s, y_s)], axis=1)
    velocity = np.diff(np.vstack([start, position]), axis=0) / dt
    return Trajectory(dt=float(dt), start_pos=start, position=position, velocity=velocity,
                      hd_angle=_movement_direction(velocity))


def _movement_direction(velocity: np.ndarray) -> np.ndarray:
    """Direction of motion per step; a standing step keeps the previous direction (0 at the start)."""
    angle = np.arctan2(velocity[:, 1], velocity[:, 0])
    moving = np.hypot(velocity[:, 0], velocity[:, 1]) > 0
    last = np.maximum.accumulate(np.where(moving, np.arange(len(angle)), -1))
    return np.where(last >= 0, angle[np.maximum(last, 0)], 0.0)


@dataclass(frozen=True)
class NavigationParams:
    """Parameters of :class:`OpenLoopNavigationTask`: canns' names and defaults (``dt`` defaults to the
    0.05 s of canns' hierarchical example; canns takes brainpy's global dt)."""

    duration: float = 20.0
    width: float = 5.0
    height: float = 5.0
    start_pos: tuple[float, float] = (2.5, 2.5)
    dt: float = 0.05
    speed_mean: float = 0.04
    speed_std: float = 0.016
    speed_coherence_time: float = 0.7
    rotational_velocity_coherence_time: float = 0.08
    rotational_velocity_std: float = 120 * math.pi / 180
    head_direction_smoothing_timescale: float = 0.15
    thigmotaxis: float = 0.5
    wall_repel_distance: float = 0.1
    wall_repel_strength: float = 1.0
    initial_head_direction: float | None = None
    rng_seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("duration", "width", "height", "dt", "speed_coherence_time",
                     "rotational_velocity_coherence_time", "head_direction_smoothing_timescale"):
            check_float(name, getattr(self, name), 0.0, open_lo=True)
        for name in ("speed_mean", "speed_std", "rotational_velocity_std", "wall_repel_distance",
                     "wall_repel_strength"):
            check_float(name, getattr(self, name), 0.0)
        check_float("thigmotaxis", self.thigmotaxis, 0.0, 1.0)
        start = np.asarray(self.start_pos, dtype=np.float64)
        if start.shape != (2,) or not np.all(np.isfinite(start)):
            raise ConfigError(f"start_pos must be two finite numbers, got {self.start_pos!r}",
                              param="start_pos")
        if not (0 <= start[0] <= self.width and 0 <= start[1] <= self.height):
            raise ConfigError(f"start_pos {tuple(start)} lies outside the box [0, {self.width:g}] × "
                              f"[0, {self.height:g}]", param="start_pos")
        object.__setattr__(self, "start_pos", (float(start[0]), float(start[1])))
        if self.initial_head_direction is not None:
            check_float("initial_head_direction", self.initial_head_direction)
        if self.rng_seed is not None:
            check_int("rng_seed", self.rng_seed, 0, 2**63 - 1)

    @property
    def total_steps(self) -> int:
        """Number of steps, int(duration/dt) as in canns."""
        return int(self.duration / self.dt)

    def motion_vector(self) -> np.ndarray:
        """Parameters in the order the motion kernels expect (``_motion.P_*``)."""
        return np.array([self.dt, self.speed_mean, self.speed_std, self.speed_coherence_time,
                         self.rotational_velocity_coherence_time, self.rotational_velocity_std,
                         self.head_direction_smoothing_timescale, self.thigmotaxis,
                         self.wall_repel_distance, self.wall_repel_strength, self.width, self.height])

    def walls(self) -> np.ndarray:
        """Box walls (4, 2, 2) in canns' order: bottom, right, top, left."""
        w, h = self.width, self.height
        return np.array([[[0, 0], [w, 0]], [[w, 0], [w, h]], [[w, h], [0, h]], [[0, h], [0, 0]]],
                        dtype=np.float64)


class Agent:
    """A navigating agent in a walled box: random walk (canns' motion model) or driven velocity.

    The generator is ``np.random.default_rng(rng_seed)``; each random-walk step draws two standard normals,
    so a walk of n steps in any number of calls gives the same path.
    """

    def __init__(self, params: NavigationParams, rng_seed: int | None = None) -> None:
        self.params = params
        self._p = params.motion_vector()
        self._walls = params.walls()
        self._rng = np.random.default_rng(rng_seed)
        alpha = self._rng.uniform(0.0, 2.0 * math.pi)  # canns draws a random initial direction
        if params.initial_head_direction is not None:
            alpha = params.initial_head_direction
        ca, sa = math.cos(alpha), math.sin(alpha)
        x, y = params.start_pos
        self._state = np.array([x, y, params.speed_mean * ca, params.speed_mean * sa, 0.0, ca, sa])

    @property
    def position(self) -> np.ndarray:
        """Current position (2,)."""
        return self._state[:2].copy()

    @property
    def head_direction(self) -> float:
        """Current head-direction angle (rad)."""
        return math.atan2(self._state[6], self._state[5])

    def random_walk(self, n_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance n_steps of the random walk; return position, velocity (n, 2) and hd angle (n,)."""
        out = _empty_steps(n_steps)
        xi = self._rng.standard_normal((n_steps, 2))
        _motion.random_walk(self._state, self._p, self._walls, xi, *out)
        return out

    def drive(self, velocity: object, n_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance n_steps at the given velocity (m/s), stopping at the walls; same return as random_walk."""
        v = np.asarray(velocity, dtype=np.float64)
        if v.shape != (2,) or not np.all(np.isfinite(v)):
            raise ConfigError(f"velocity must be two finite numbers, got {velocity!r}", param="velocity")
        out = _empty_steps(n_steps)
        _motion.drive(self._state, self._p, float(v[0]), float(v[1]), *out)
        return out


def _empty_steps(n_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    check_int("n_steps", n_steps, 0, 2**40)
    return np.empty((n_steps, 2)), np.empty((n_steps, 2)), np.empty(n_steps)


class OpenLoopNavigationTask:
    """A seeded random walk in a ``width`` × ``height`` box with walls (canns ``OpenLoopNavigationTask``).

    Parameters are those of :class:`NavigationParams` (canns' names and defaults). ``get_data()`` fills
    ``self.data`` with a :class:`Trajectory` of ``total_steps = int(duration/dt)`` steps.

    Examples
    --------
    >>> task = OpenLoopNavigationTask(duration=10.0, dt=0.05, rng_seed=2025)
    >>> task.get_data().position.shape
    (200, 2)
    """

    def __init__(self, duration: float = 20.0, **params: object) -> None:
        names = {f.name for f in dataclasses.fields(NavigationParams)}
        for key in params:
            if key not in names:
                raise ConfigError(f"unknown parameter {key!r} of OpenLoopNavigationTask; valid: "
                                  f"{', '.join(sorted(names))}", param=key)
        self.params = NavigationParams(duration=duration, **params)  # type: ignore[arg-type]
        self.data: Trajectory | None = None

    def __getattr__(self, name: str) -> object:
        # canns exposes its parameters as attributes (task.width, task.dt, …).
        if name != "params" and name in NavigationParams.__dataclass_fields__:
            return getattr(self.params, name)
        raise AttributeError(name)

    @property
    def total_steps(self) -> int:
        """Number of steps, int(duration/dt)."""
        return self.params.total_steps

    def make_agent(self, rng_seed: int | None = None) -> Agent:
        """A fresh agent at start_pos, seeded with ``rng_seed`` (default: the task's rng_seed)."""
        return Agent(self.params, self.params.rng_seed if rng_seed is None else rng_seed)

    def get_data(self) -> Trajectory:
        """Generate the trajectory (deterministic for a given rng_seed) and store it in ``self.data``."""
        agent = self.make_agent()
        start = agent.position
        position, velocity, hd = agent.random_walk(self.total_steps)
        self.data = Trajectory(dt=self.params.dt, start_pos=start, position=position, velocity=velocity,
                               hd_angle=hd)
        return self.data
