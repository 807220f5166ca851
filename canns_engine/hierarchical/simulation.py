"""Running the hierarchical network along a path: whole runs (``simulate_navigation``) and a streaming,
steerable simulation for the GUI (``NavigationSimulation``)."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from canns_engine.errors import ConfigError
from canns_engine.hierarchical.navigation import (
    Agent,
    NavigationParams,
    OpenLoopNavigationTask,
    Trajectory,
)
from canns_engine.hierarchical.network import HierarchicalNetwork
from canns_engine.hierarchical.params import check_float, check_int


@dataclass(frozen=True)
class Anchor:
    """The anchoring phase of canns' example: before navigating, ``steps`` steps at zero velocity with a
    location input of peak ``strength`` for the first ``release`` steps (then none), so that the band and
    grid bumps start where the agent is.

    ``at="start"`` anchors at the true start position, so decoded and true paths coincide from step 0.
    ``at="first"`` anchors at position[0], the position after the first step, as canns' example does; the
    network then integrates velocity[0] once more and runs ≈ speed·dt (2 mm) ahead of the true path. Use it
    (``CANNS_ANCHOR``) to reproduce canns' outputs.
    """

    steps: int = 500
    strength: float = 100.0
    release: int = 400
    at: Literal["start", "first"] = "start"

    def __post_init__(self) -> None:
        check_int("anchor_steps", self.steps, 0, 10**7)
        check_int("anchor_release", self.release, 0, self.steps)
        check_float("anchor_strength", self.strength)
        if self.at not in ("start", "first"):
            raise ConfigError(f"anchor 'at' must be 'start' or 'first', got {self.at!r}", param="anchor_at")

    def run(self, net: HierarchicalNetwork, start_pos: np.ndarray, first_pos: np.ndarray) -> None:
        """Run the anchoring steps on ``net`` (no readout)."""
        loc = start_pos if self.at == "start" else first_pos
        strength = np.where(np.arange(self.steps) < self.release, self.strength, 0.0)
        net.run(np.zeros((self.steps, 2)), np.broadcast_to(loc, (self.steps, 2)), strength, decode=False)


CANNS_ANCHOR = Anchor(at="first")


@dataclass(frozen=True, eq=False)
class NavigationRecording:
    """Every ``record_every``-th step of a navigation run (R rows).

    ``step`` (R,) step indices; ``t`` (R,) time at the end of the step; ``position`` and ``decoded`` (R, 2);
    ``error`` (R,) their distance; ``band_phase`` (R, M, 3); ``grid_centre`` (R, M, 2); ``place_rates``
    (R, P) or None.
    """

    step: np.ndarray
    t: np.ndarray
    position: np.ndarray
    decoded: np.ndarray
    error: np.ndarray
    band_phase: np.ndarray
    grid_centre: np.ndarray
    place_rates: np.ndarray | None = None

    def error_summary(self) -> dict[str, float]:
        """Mean, median, 95th percentile and maximum decoding error (m)."""
        e = self.error
        return {"mean": float(e.mean()), "median": float(np.median(e)),
                "p95": float(np.percentile(e, 95)), "max": float(e.max())}

    def save_npz(self, path: str) -> None:
        """Save all arrays to an ``.npz`` file."""
        arrays = {k: v for k, v in self.__dict__.items() if v is not None}
        np.savez_compressed(path, **arrays)


def _trajectory_of(task: OpenLoopNavigationTask | Trajectory) -> Trajectory:
    if isinstance(task, Trajectory):
        return task
    return task.data if task.data is not None else task.get_data()


def _check_compatible(net: HierarchicalNetwork, task: OpenLoopNavigationTask | Trajectory) -> None:
    """The network and the path must share dt; a task's box must be the network's place-cell arena."""
    traj_dt = task.dt if isinstance(task, Trajectory) else task.params.dt
    if not np.isclose(traj_dt, net.params.dt, rtol=1e-12, atol=0):
        raise ConfigError(f"the trajectory has dt = {traj_dt:g} s but the network dt = {net.params.dt:g} s",
                          param="dt")
    if isinstance(task, OpenLoopNavigationTask):
        box = (task.params.width, task.params.height)
        arena = (net.params.arena_width, net.params.arena_height)
        if box != arena:
            raise ConfigError(f"the task's box is {box[0]:g} × {box[1]:g} m but the place cells cover "
                              f"{arena[0]:g} × {arena[1]:g} m; build the network with arena_width="
                              f"{box[0]:g}, arena_height={box[1]:g}", param="arena_width")


def simulate_navigation(
    net: HierarchicalNetwork,
    task: OpenLoopNavigationTask | Trajectory,
    *,
    record_every: int = 1,
    anchor: Anchor | None = Anchor(),
    place_rates: bool = False,
) -> NavigationRecording:
    """Anchor ``net`` (optional), then drive it along the task's trajectory in compiled code.

    Navigation step t feeds velocity[t] (and loc = position[t] with zero strength), as canns' example does.
    The network continues from its current state; call ``net.reset()`` first for a fresh run.

    Examples
    --------
    >>> net = HierarchicalNetwork(num_module=5, num_place=30, dt=0.05)
    >>> task = OpenLoopNavigationTask(duration=50.0, dt=0.05, rng_seed=2025)
    >>> rec = simulate_navigation(net, task, record_every=10)
    >>> rec.decoded.shape
    (100, 2)
    """
    _check_compatible(net, task)
    traj = _trajectory_of(task)
    if anchor is not None:
        anchor.run(net, traj.start_pos, traj.position[0])
    trace = net.run(traj.velocity, traj.position, 0.0, record_every=record_every, decode=True,
                    place_rates=place_rates)
    step = np.arange(trace.band_phase.shape[0]) * record_every + record_every - 1
    position = traj.position[step]
    return NavigationRecording(
        step=step, t=traj.t[step], position=position, decoded=trace.decoded,
        error=np.hypot(*(trace.decoded - position).T), band_phase=trace.band_phase,
        grid_centre=trace.grid_centre, place_rates=trace.place_rates,
    )


@dataclass(frozen=True, eq=False)
class NavigationFrame:
    """A snapshot for display (all arrays are copies).

    ``place_rates`` (num_place, num_place) is indexed [iy, ix]; ``grid_r`` (M, n, n) is indexed [row, col],
    the neuron at phase (x[col], x[row]); ``band_r`` (M, 3, N) holds bands x, y, z.
    """

    step: int
    t: float
    position: np.ndarray
    velocity: np.ndarray
    decoded: np.ndarray
    place_rates: np.ndarray
    grid_r: np.ndarray
    band_r: np.ndarray
    band_phase: np.ndarray
    grid_centre: np.ndarray
    closed_loop: bool


class NavigationSimulation:
    """Step a network along a path that is generated as it goes, for live display.

    With a task the agent follows canns' random walk (open loop); sending ``{"velocity": (vx, vy)}`` into
    :meth:`frames` switches to closed loop: the agent moves at that velocity inside the box walls until
    ``{"velocity": None}`` hands control back to the random walk. Without a task the agent stands in the
    middle of the network's arena until it is given a velocity.

    Parameters
    ----------
    net : HierarchicalNetwork
    task : OpenLoopNavigationTask or None
        Box, motion model and seed; None for closed-loop driving only.
    anchor : Anchor or None
        Anchoring run by :meth:`reset` before the first step.
    """

    def __init__(
        self,
        net: HierarchicalNetwork,
        task: OpenLoopNavigationTask | None = None,
        *,
        anchor: Anchor | None = Anchor(),
    ) -> None:
        if task is None:
            p = net.params
            self._params = NavigationParams(width=p.arena_width, height=p.arena_height, dt=p.dt,
                                            start_pos=(p.arena_width / 2, p.arena_height / 2))
        else:
            _check_compatible(net, task)
            self._params = task.params
        self.net = net
        self.task = task
        self.anchor = anchor
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        """Restart: fresh network state (``seed`` also reseeds its noise), fresh agent (seeded with ``seed``
        or the task's rng_seed), then the anchoring phase."""
        self.net.reset(seed=seed)
        self._agent = Agent(self._params, self._params.rng_seed if seed is None else seed)
        self._command: np.ndarray | None = None if self.task is not None else np.zeros(2)
        self._velocity = np.zeros(2)
        self.step_count = 0
        start = self._start = self._agent.position
        self._pending: tuple[np.ndarray, ...] | None = None
        if self.anchor is not None:
            if self.anchor.at == "first":
                self._pending = self._move(1)
            first = start if self._pending is None else self._pending[0][0]
            self.anchor.run(self.net, start, first)

    @property
    def position(self) -> np.ndarray:
        """True position of the agent (2,) after the last step."""
        return self._agent.position if self._pending is None else self._start.copy()

    @property
    def closed_loop(self) -> bool:
        """Whether the agent follows a velocity command rather than the random walk."""
        return self._command is not None

    def set_velocity(self, velocity: object) -> None:
        """Drive the agent at ``velocity`` (m/s) from now on; None resumes the random walk (with a task)."""
        if velocity is None:
            if self.task is None:
                raise ConfigError("without a task there is no random walk to return to; send a velocity",
                                  param="velocity")
            self._command = None
            return
        v = np.asarray(velocity, dtype=np.float64)
        if v.shape != (2,) or not np.all(np.isfinite(v)):
            raise ConfigError(f"velocity must be two finite numbers (m/s), got {velocity!r}",
                              param="velocity")
        self._command = v

    def apply_update(self, update: dict) -> None:
        """Apply a live update sent into :meth:`frames`; supported key: ``"velocity"``."""
        unknown = set(update) - {"velocity"}
        if unknown:
            raise ConfigError(f"unknown live update key(s) {sorted(unknown)}; supported: 'velocity'",
                              param=sorted(unknown)[0])
        if "velocity" in update:
            self.set_velocity(update["velocity"])

    def step(self, n: int = 1) -> None:
        """Advance the agent and the network n steps (no place readout)."""
        check_int("n", n, 0, 2**40)
        if n == 0:
            return
        position, velocity, _ = self._take(n)
        self.net.run(velocity, position, 0.0, decode=False)
        self._velocity = velocity[-1].copy()
        self.step_count += n

    def snapshot(self) -> NavigationFrame:
        """The current state as a :class:`NavigationFrame` (copies)."""
        net = self.net
        side = net.params.num_place
        n = net.params.grid_num
        return NavigationFrame(
            step=self.step_count,
            t=self.step_count * net.params.dt,
            position=self.position,
            velocity=self._velocity.copy(),
            decoded=net.decoded_pos,
            place_rates=net.place_fr.reshape(side, side),
            grid_r=net.grid_fr.reshape(net.num_module, n, n),
            band_r=net.band_r,
            band_phase=net.band_phase,
            grid_centre=net.grid_centre,
            closed_loop=self.closed_loop,
        )

    def frames(
        self, steps_per_frame: int, max_steps: int | None = None
    ) -> Generator[NavigationFrame, dict | None, None]:
        """Yield a frame every ``steps_per_frame`` steps; ``generator.send(update)`` applies a live update.

        Stops after ``max_steps`` steps; by default, with a task, when the task's duration is used up in open
        loop (closed-loop driving never ends by itself).
        """
        check_int("steps_per_frame", steps_per_frame, 1, 2**40)
        done = 0
        while True:
            limit = max_steps
            if limit is None and self.task is not None and not self.closed_loop:
                limit = done + max(self.task.total_steps - self.step_count, 0)
            n = steps_per_frame if limit is None else min(steps_per_frame, limit - done)
            if n <= 0:
                return
            self.step(n)
            done += n
            update = yield self.snapshot()
            if update is not None:
                self.apply_update(update)

    def _take(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The next n steps of the path: a pending first step (anchor at='first') and then new motion."""
        if self._pending is None:
            return self._move(n)
        head, self._pending = self._pending, None
        if n == 1:
            return head
        rest = self._move(n - 1)
        return tuple(np.concatenate([a, b]) for a, b in zip(head, rest, strict=True))  # type: ignore[return-value]

    def _move(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._command is None:
            return self._agent.random_walk(n)
        return self._agent.drive(self._command, n)
