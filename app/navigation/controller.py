"""The navigation controller: owns the :class:`NavigationSimulation` and the worker that runs it.

The threading contract is the basic controller's (``app/controller.py``, through
:class:`~app.run_loop.RunLoop`): while a run is on, a worker runs
:func:`~app.navigation.worker.run_navigation` on a pool thread and only that thread touches the
simulation; velocity commands go into an inbox queue it drains between chunks. The GUI receives every
frame (``frame_ingested``, for histories) but draws only the newest, on a 60 Hz timer (``frame_ready``).
"Pause" quits the worker and keeps the simulation; when idle, the GUI thread steps and resets it directly.
"""

from __future__ import annotations

import logging
import queue
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from canns_engine import ConfigError
from canns_engine.hierarchical import (
    HierarchicalNetwork,
    NavigationFrame,
    NavigationParams,
    NavigationSimulation,
    OpenLoopNavigationTask,
)

from ..controller import DISPLAY_HZ, KERNELS, Pacer
from ..run_loop import RunLoop
from .manifest import MODEL_TYPE
from .worker import drain_updates, run_navigation, steps_per_frame

log = logging.getLogger(__name__)

NAVIGATION_SPEEDS: tuple[float | None, ...] = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, None)
"""Speeds offered by the panel: simulated seconds per wall-clock second; ``None`` = as fast as possible."""
DEFAULT_NAVIGATION_SPEED = 10.0


def build_navigation(manifest: dict[str, Any], *, in_helpers: bool = False) -> NavigationSimulation:
    """The simulation of a "HierarchicalNetwork" manifest: network from ``model.params``, the random walk
    from ``task`` (``OpenLoopNavigationTask``) or none (closed-loop driving only).

    With ``in_helpers``, the network's kernels are first compiled in a helper process unless they are
    cached (:data:`app.controller.KERNELS`; the first build otherwise compiles here for half a minute).

    Raises
    ------
    ConfigError
        For another model or task type, or invalid parameters (the engine names the parameter).
    RuntimeError
        When the helper processes were stopped meanwhile (the app is closing).
    """
    if in_helpers:
        KERNELS.ensure(MODEL_TYPE)
        if KERNELS.stopped:
            raise RuntimeError("the app is closing")
    model = manifest.get("model") or {}
    if model.get("type") != MODEL_TYPE:
        raise ConfigError(f"not a path-integration experiment: model type {model.get('type')!r}",
                          param="model")
    net = HierarchicalNetwork(**dict(model.get("params") or {}))
    spec = manifest.get("task")
    if spec is None:
        return NavigationSimulation(net, None)
    if spec.get("type") != "OpenLoopNavigationTask":
        raise ConfigError(f"unknown navigation task type {spec.get('type')!r}; expected "
                          "'OpenLoopNavigationTask'", param="task")
    return NavigationSimulation(net, OpenLoopNavigationTask(**dict(spec.get("params") or {})))


class NavigationController(RunLoop):
    """Runs one :class:`NavigationSimulation` and reports through signals only.

    Parameters
    ----------
    sim : NavigationSimulation
        The simulation (reset and anchored).
    parent : QObject, optional
        Qt parent.
    """

    frame_ready = Signal(object)  # NavigationFrame: draw it now
    frame_ingested = Signal(object)  # NavigationFrame: every frame produced, for histories
    views_reset = Signal()  # back to t = 0: clear histories
    error_occurred = Signal(object)  # exception from a run
    run_finished = Signal(float)  # simulated time at which the task's duration ran out

    def __init__(self, sim: NavigationSimulation, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sim = sim
        self._worker = None
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._pacer = Pacer(DEFAULT_NAVIGATION_SPEED)
        self._velocity: np.ndarray | None = None if sim.task is not None else np.zeros(2)
        self._latest: NavigationFrame | None = None
        self._undrawn: NavigationFrame | None = None
        self._render_timer = QTimer(self)
        self._render_timer.setInterval(round(1000 / DISPLAY_HZ))
        self._render_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._render_timer.timeout.connect(self._on_render_timer_timeout)

    # -- state ------------------------------------------------------------------------------------------
    @property
    def simulation(self) -> NavigationSimulation:
        """The simulation. Touch it from the GUI thread only while :attr:`is_busy` is False."""
        return self._sim

    @property
    def is_busy(self) -> bool:
        """A worker owns the simulation (running or stopping)."""
        return self._worker is not None

    @property
    def latest_frame(self) -> NavigationFrame | None:
        """The newest frame produced (drawn or not)."""
        return self._latest

    @property
    def velocity(self) -> np.ndarray | None:
        """The velocity command last requested (m/s); ``None`` while the random walk drives."""
        return None if self._velocity is None else self._velocity.copy()

    @property
    def speed(self) -> float | None:
        """Simulated seconds per wall-clock second; ``None`` = as fast as possible."""
        return self._pacer.speed

    @property
    def chunk_seconds(self) -> float:
        """Simulated seconds per worker chunk at the current speed."""
        dt = self._sim.net.params.dt
        return steps_per_frame(self._pacer.speed, dt) * dt

    @property
    def speed_scale(self) -> float:
        """A natural driving speed (m/s): the random walk's mean speed."""
        task = self._sim.task
        return float((task.params if task is not None else NavigationParams()).speed_mean)

    @property
    def arena_size(self) -> tuple[float, float]:
        """Width and height of the box (m)."""
        p = self._sim.net.params
        return p.arena_width, p.arena_height

    # -- transport --------------------------------------------------------------------------------------
    def start(self) -> None:
        """Run (or resume); a run asked for while the last one is still stopping starts when it has."""
        if self._worker is not None:
            self._start_when_ready = True
            return
        self._start_worker(run_navigation, self._sim, self._inbox, self._pacer)
        self._render_timer.start()

    def set_speed(self, speed: float | None) -> None:
        """Simulated seconds per wall-clock second; ``None`` runs as fast as possible."""
        self._pacer.set_speed(speed)

    def step_once(self) -> None:
        """Advance one display frame at the current speed (pausing first if running)."""
        self.stop(wait=True)
        self._sim.step(steps_per_frame(self._pacer.speed, self._sim.net.params.dt))
        self.publish()

    def reset(self, seed: int | None = None) -> None:
        """Back to t = 0 (agent, network and anchoring); paused; the random walk drives again."""
        self.stop(wait=True)
        self._sim.reset(seed)
        self._velocity = None if self._sim.task is not None else np.zeros(2)
        self._latest = None
        self.views_reset.emit()
        self.publish()

    def set_velocity(self, velocity: tuple[float, float] | np.ndarray | None) -> None:
        """Drive the agent at ``velocity`` (m/s) from the next chunk on; ``None`` resumes the random walk.

        Raises
        ------
        ConfigError
            For a velocity that is not two finite numbers, or ``None`` without a random walk to return to.
        """
        if velocity is None:
            if self._sim.task is None:
                raise ConfigError("this experiment has no random walk; send a velocity", param="velocity")
            v = None
        else:
            v = np.asarray(velocity, dtype=np.float64)
            if v.shape != (2,) or not np.all(np.isfinite(v)):
                raise ConfigError(f"velocity must be two finite numbers (m/s), got {velocity!r}",
                                  param="velocity")
        self._velocity = v
        self._inbox.put({"velocity": None if v is None else (float(v[0]), float(v[1]))})
        if not self.is_busy:
            drain_updates(self._sim, self._inbox)

    # -- worker signals ---------------------------------------------------------------------------------
    def _on_worker_yielded(self, frame: NavigationFrame | None) -> None:
        if frame is not None:
            self._ingest(frame)

    def _on_worker_errored(self, exc: Exception) -> None:
        log.error("navigation run failed", exc_info=exc)
        self.error_occurred.emit(exc)

    def _on_worker_returned(self, task_ended: bool) -> None:
        if task_ended:
            self.run_finished.emit(self._sim.step_count * self._sim.net.params.dt)

    def _after_run(self) -> None:
        self._render_timer.stop()
        drain_updates(self._sim, self._inbox)
        self._on_render_timer_timeout()  # draw the last frame

    # -- frames -----------------------------------------------------------------------------------------
    def _ingest(self, frame: NavigationFrame) -> None:
        self._latest = frame
        self._undrawn = frame
        self.frame_ingested.emit(frame)

    def publish(self) -> None:
        """Show the simulation's current state now (GUI thread; does nothing while a worker runs)."""
        if self.is_busy:
            return
        self._ingest(self._sim.snapshot())
        self._on_render_timer_timeout()

    def _on_render_timer_timeout(self) -> None:
        if self._undrawn is None:
            return
        frame, self._undrawn = self._undrawn, None
        self.frame_ready.emit(frame)

    # -- shutdown ---------------------------------------------------------------------------------------
    def shutdown(self, timeout: float = 3.0) -> None:
        """Stop the run and wait until its worker thread is gone (panel closed, app exit)."""
        self.stop(wait=True, timeout=timeout)
        self._render_timer.stop()
