"""What the pool thread runs: the navigation simulation in paced chunks, velocity commands applied between
them.

Only this generator touches the :class:`NavigationSimulation` while a run is on. It iterates
:meth:`NavigationSimulation.frames` with one display frame's worth of steps per chunk at the requested
speed (simulated seconds per wall-clock second, shared through the basic controller's
:class:`~app.controller.Pacer`) and sleeps when it is ahead; with speed ``None`` chunks are sized to
~8 ms of compute.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Generator

from canns_engine.hierarchical import NavigationFrame, NavigationSimulation

from ..controller import CHUNK_SECONDS, DISPLAY_HZ, Pacer

FAST_STEPS = max(1, round(CHUNK_SECONDS / 2e-4))
"""Steps per chunk at full speed (a step of the preset network takes ≈ 0.2 ms)."""


def steps_per_frame(speed: float | None, dt: float) -> int:
    """Steps in one display frame at ``speed`` (``None``: as fast as possible)."""
    if speed is None:
        return FAST_STEPS
    return max(1, round(speed / DISPLAY_HZ / dt))


def drain_updates(sim: NavigationSimulation, inbox: queue.SimpleQueue) -> None:
    """Apply every queued live update (``{"velocity": ...}``) to ``sim``, oldest first."""
    while True:
        try:
            update = inbox.get_nowait()
        except queue.Empty:
            return
        sim.apply_update(update)


def run_navigation(sim: NavigationSimulation, inbox: queue.SimpleQueue, pacer: Pacer
                   ) -> Generator[NavigationFrame | None, None, bool]:
    """Yield a frame per chunk (``None`` while waiting, so the worker can be quit); return True when the
    task's duration is used up in open loop."""
    dt = sim.net.params.dt
    while True:
        generation, speed = pacer.generation, pacer.speed
        frames = sim.frames(steps_per_frame(speed, dt))
        wall0, sim_elapsed = time.perf_counter(), 0.0
        while pacer.generation == generation:
            drain_updates(sim, inbox)
            if speed is not None:
                ahead = sim_elapsed / speed - (time.perf_counter() - wall0)
                if ahead < -4 / DISPLAY_HZ:  # the engine is behind: drop the backlog instead of racing
                    wall0 += -ahead - 1 / DISPLAY_HZ
                elif ahead > 0:
                    time.sleep(min(ahead, 1 / DISPLAY_HZ))
                    yield None
                    continue
            step0 = sim.step_count
            frame = next(frames, None)
            if frame is None:
                return True
            sim_elapsed += (sim.step_count - step0) * dt
            yield frame
