"""The simulation controller: owns the :class:`~canns_engine.Simulation` and the worker that runs it.

Threading contract (STYLE.md §12)
---------------------------------
* While a run is on, a worker (:mod:`app.workers`) iterates :func:`run_frames` on a pool thread, and only
  that thread touches the Simulation. When idle, the GUI thread may call the Simulation directly
  (single steps, resets, parameter changes).
* The worker yields a :class:`Tick` per compiled chunk (one chunk is sized to ~11 ms of compute, so a
  pause request is honoured within a few tens of ms). The GUI keeps every tick's frame for the views'
  histories (``frame_ingested``) but draws only the newest one, on a 60 Hz timer (``frame_ready``): the
  engine rate and the display rate are independent.
* Edits made while running go into an inbox queue the worker drains between chunks (a queue, so two
  quick edits are both applied). An edit the engine refuses comes back in the next tick and is reported;
  it never stops the run.
* "Pause" quits the worker and keeps the Simulation; "Run" starts a new worker on the same object.
* Numba compiles the kernels in a worker at start-up (``warm_up``); until then every engine call is
  queued, so the window never freezes on a first compile. In the app that worker only waits while helper
  processes (:data:`KERNELS`) compile into numba's cache, then loads the result.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThreadPool, QTimer, Signal

from canns_engine import (
    MODELS,
    CannsEngineError,
    ConfigError,
    Frame,
    NumericalInstabilityError,
    Simulation,
    make_model,
    make_task,
)
from canns_engine.models import check_step
from canns_engine.params import validate_params
from canns_engine.warmup import WARMABLE, KernelCompiler, warm_up

from .run_loop import RunLoop, RunState, WorkerGC
from .workers import create_worker

log = logging.getLogger(__name__)

SPEEDS: tuple[float | None, ...] = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0,
                                    1000.0, None)
"""Speed ladder of the transport bar: simulated time per wall-clock second; ``None`` = as fast as possible."""
DEFAULT_SPEED = 10.0
DISPLAY_HZ = 60
"""Redraw rate of the views while running."""
CHUNK_SECONDS = 0.011
"""Target compute time of one worker chunk: two thirds of a display frame. It bounds the pause latency
(a chunk plus a snapshot) and keeps the frames the GUI must take in near the display rate. Shorter than
a frame so that every tick of the 60 Hz display finds a new frame: with 15 ms chunks the worker's ticks
(chunk, snapshot, hand-over) came at about the display rate and beat against it, leaving some display
ticks nothing new to draw (CANN1D-512 at full speed, alternating runs: 54.7–59.4 FPS against
57.3–59.9 with 11 ms chunks, engine rate unchanged)."""
RECORD_LIMIT_BYTES = 256 * 2**20
"""The app records per-step summaries (not whole states); a run stops with a message at this size."""
STATS_WINDOW = 1.0
"""Seconds over which steps/s, frames/s and the real-time factor are measured."""



@dataclass(frozen=True)
class Tick:
    """What the worker yields after each chunk.

    ``frame`` is the state after the chunk, or ``None`` when the worker only waited (slow motion);
    ``rejected`` lists the edits from the inbox that the engine refused, with the reason.
    """

    frame: Frame | None
    rejected: tuple[tuple[dict[str, Any], Exception], ...] = ()


@dataclass(frozen=True)
class RunStats:
    """Measured performance for the status bar (all over the last :data:`STATS_WINDOW`)."""

    t: float
    steps_per_s: float
    fps: float
    rtf: float
    speed: float | None
    running: bool
    fast_forward: bool

    @property
    def engine_behind(self) -> bool:
        """The engine cannot keep up with the requested speed."""
        return self.running and self.speed is not None and self.rtf < 0.85 * self.speed

    @property
    def dropping_frames(self) -> bool:
        """The display cannot keep up with its redraw rate."""
        return self.running and not self.fast_forward and 0 < self.fps < 0.75 * DISPLAY_HZ


@dataclass
class ExperimentSettings:
    """The experiment as the user asked for it (edits still queued for the worker included): what the
    parameter panel shows and what edits are checked against."""

    model_type: str
    params: dict[str, Any]
    dt: float
    task: dict[str, Any] | None  # task spec without ``time_step``
    loop: bool
    seed: int | None

    @classmethod
    def of(cls, sim: Simulation) -> ExperimentSettings:
        """The settings of ``sim`` as it is (GUI thread, idle only)."""
        task = None if sim.task is None else {k: v for k, v in sim.task.spec.items() if k != "time_step"}
        return cls(sim.model.model_type, sim.model.params, sim.dt, task, sim.loop, sim.seed)

    def copy(self) -> ExperimentSettings:
        return replace(self, params=dict(self.params), task=None if self.task is None else dict(self.task))

    def with_update(self, update: dict[str, Any]) -> ExperimentSettings:
        """These settings after :meth:`Simulation.apply` of ``update``."""
        out = self.copy()
        out.params.update({k: v for k, v in update.items() if k in out.params})
        if "dt" in update:
            out.dt = float(update["dt"])
        if update.get("task") is not None:
            spec = dict(update["task"])
            out.dt = float(spec.pop("time_step", out.dt))
            out.task = spec
        return out


class Pacer:
    """The speed setting shared with the worker (the GUI thread writes, the worker reads).

    Attribute writes are atomic under the GIL; ``generation`` tells the worker to restart its clock.
    """

    def __init__(self, speed: float | None = DEFAULT_SPEED) -> None:
        self.speed = speed
        self.generation = 0

    def set_speed(self, speed: float | None) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be > 0 or None, got {speed!r}")
        self.speed = speed
        self.generation += 1


def run_frames(sim: Simulation, inbox: queue.SimpleQueue, pacer: Pacer, stop_at_end: bool
               ) -> Generator[Tick, None, bool]:
    """The worker's generator: step ``sim`` in paced chunks and yield a :class:`Tick` after each.

    It runs until the worker is asked to quit or, when ``stop_at_end``, until a finite protocol ends
    (then it returns ``True``). Past the end of a protocol the input is off and the network runs free.
    Edits waiting in ``inbox`` are applied between chunks with :meth:`Simulation.apply`.
    """
    rate = None  # measured steps per second of compute
    generation = -1
    rejected: list[tuple[dict[str, Any], Exception]] = []
    while True:
        if _drain(sim, inbox, rejected):
            rate = None  # a structural change can alter the cost of a step a lot
        if pacer.generation != generation:
            generation, wall0, sim_elapsed = pacer.generation, time.perf_counter(), 0.0
        if stop_at_end and sim.done:
            if rejected:
                yield Tick(None, tuple(rejected))
            return True
        max_chunk = 16 if rate is None else max(1, int(rate * CHUNK_SECONDS))
        speed = pacer.speed
        if speed is None:
            n = max_chunk
        else:
            due = ((time.perf_counter() - wall0) * speed - sim_elapsed) / sim.dt
            # at most about one chunk per display frame: fewer, larger chunks cost the GUI less
            wanted = min(max(1.0, speed / DISPLAY_HZ / sim.dt), max_chunk)
            if due < wanted:
                time.sleep(min((wanted - due) * sim.dt / speed, 1 / DISPLAY_HZ))
                yield Tick(None, tuple(rejected))  # lets the worker notice a pause request
                rejected.clear()
                continue
            if due > 4 * max_chunk:  # the engine is behind: drop the backlog instead of racing after it
                sim_elapsed += (due - max_chunk) * sim.dt
            n = min(int(due), max_chunk)
        if stop_at_end and sim.total_steps is not None:
            n = max(1, min(n, sim.total_steps - sim.step_index))
        start = time.perf_counter()
        sim.step(n)
        measured = n / max(time.perf_counter() - start, 1e-7)
        rate = measured if rate is None else 0.7 * rate + 0.3 * measured
        sim_elapsed += n * sim.dt
        yield Tick(sim.snapshot(), tuple(rejected))
        rejected.clear()


def _drain(sim: Simulation, inbox: queue.SimpleQueue, rejected: list) -> bool:
    """Apply every queued edit; collect the refused ones. True when anything was applied."""
    applied = False
    while True:
        try:
            update = inbox.get_nowait()
        except queue.Empty:
            return applied
        try:
            sim.apply(update)
            applied = True
        except CannsEngineError as exc:
            rejected.append((update, exc))


KERNELS = KernelCompiler()
"""The helper processes that compile kernels for this app (stopped when it quits)."""


def compile_kernels(model_types: Iterable[str] = tuple(MODELS), *, in_helpers: bool = False) -> None:
    """Make ``model_types``' kernels ready in this process: compiled, or loaded from numba's cache.

    A first start compiles for 10–19 s per geometry and precision (ring or sheet; float32 for CANN1D and
    CANN2D, float64 for the SFA models). With ``in_helpers`` that happens in helper processes
    (:data:`KERNELS`), which leave this process's GIL to the GUI; this process then only loads the
    result (0.1–0.5 s a model). If a helper fails, this process compiles; if the helpers were stopped
    (the app is quitting), nothing is compiled.
    """
    model_types = list(model_types)
    if in_helpers:
        for model_type in model_types:
            KERNELS.ensure(model_type)
        if KERNELS.stopped:
            return
    warm_up(model_types)
    SimulationController.compiled.update(model_types)


class SimulationController(RunLoop):
    """Runs one Simulation at a time and tells the GUI what happened, through signals only.

    Parameters
    ----------
    parent : QObject, optional
        Qt parent.
    """

    frame_ready = Signal(object)  # Frame: draw it now
    frame_ingested = Signal(object)  # Frame: every frame produced, for histories
    views_reset = Signal()  # the state went back (reset, new experiment): clear histories
    simulation_changed = Signal(object)  # Simulation: a new experiment was loaded
    settings_changed = Signal(object)  # ExperimentSettings as now requested
    update_rejected = Signal(dict, object)  # update, exception
    error_occurred = Signal(object)  # exception from a run
    protocol_finished = Signal(float)  # simulated time at which the protocol ended
    warmup_changed = Signal(bool)  # True while kernels compile
    stats_changed = Signal(object)  # RunStats, ~4 times a second

    compiled: ClassVar[set[str]] = set()
    """Model types whose kernels this process has compiled (or loaded from numba's cache)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        pool = QThreadPool.globalInstance()
        pool.setMaxThreadCount(max(pool.maxThreadCount(), 4))  # warm-up, run and exporters side by side
        self._sim: Simulation | None = None
        self._worker = None
        self._warmup_worker = None
        self._warming_up = False
        self._warm_next: set[str] = set()
        self.compile_in_background = True
        """Compile a new experiment's kernels in a worker before its first engine call (off: that call
        compiles them, on the calling thread)."""
        self.compile_in_helpers = False
        """Compile in helper processes (:data:`KERNELS`) rather than in the warm-up worker, and compile the
        models not shown yet (path integration last) ahead of time, at low priority (the app does; tests
        need not)."""
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._pacer = Pacer(DEFAULT_SPEED)
        self._fast_forward = False
        self._latest: Frame | None = None
        self._undrawn: Frame | None = None
        self._diverged: NumericalInstabilityError | None = None
        self._settings: ExperimentSettings | None = None
        self._needs_resync = False
        self._saved_speed: float | None = DEFAULT_SPEED
        self._history: deque[tuple[float, int, float]] = deque()
        self._draw_times: deque[float] = deque()
        self._render_timer = QTimer(self)  # re-armed each tick: a 17 ms interval would be 58.8 Hz
        self._render_timer.setSingleShot(True)
        self._render_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._render_timer.timeout.connect(self._on_render_timer_timeout)
        self._next_render = 0.0
        self._tick_owed = False
        """The last display tick found no new frame: the next frame from the worker is drawn on arrival."""
        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(250)
        self._stats_timer.timeout.connect(self._on_stats_timer_timeout)

    # -- state ------------------------------------------------------------------------------------------
    @property
    def simulation(self) -> Simulation | None:
        """The Simulation. Touch it from the GUI thread only while :attr:`is_busy` is False."""
        return self._sim

    @property
    def is_busy(self) -> bool:
        """A worker owns the Simulation (running, stopping or compiling)."""
        return self._worker is not None or self._warming_up

    @property
    def is_warming_up(self) -> bool:
        return self._warming_up

    @property
    def latest_frame(self) -> Frame | None:
        """The newest frame produced (drawn or not)."""
        return self._latest

    @property
    def settings(self) -> ExperimentSettings | None:
        """The experiment as requested (edits still queued for the worker included); a copy."""
        return None if self._settings is None else self._settings.copy()

    @property
    def params(self) -> dict[str, Any]:
        """Model parameters as requested."""
        return {} if self._settings is None else dict(self._settings.params)

    @property
    def speed(self) -> float | None:
        """Requested real-time factor (simulated time per second); ``None`` = as fast as possible."""
        return self._pacer.speed if not self._fast_forward else self._saved_speed

    @property
    def fast_forward(self) -> bool:
        return self._fast_forward

    @property
    def diverged(self) -> NumericalInstabilityError | None:
        """The error of a run that went non-finite (cleared by :meth:`reset`)."""
        return self._diverged

    # -- experiment -------------------------------------------------------------------------------------
    def set_simulation(self, sim: Simulation, history: Sequence[Frame] = ()) -> None:
        """Replace the experiment (stops a run first). The views are reset and shown the new state.

        ``history`` (older snapshots of ``sim``'s run, oldest first, as a session replay returns them;
        the last one may be the current state) goes to the views' histories first, so their scrolling
        views show the run that led here."""
        was_running = self.is_running
        self.stop(wait=True)
        self._sim = sim
        self._diverged = None
        self._settings = ExperimentSettings.of(sim)
        self._latest = None
        self._undrawn = None
        self._history.clear()
        self.simulation_changed.emit(sim)
        self.views_reset.emit()
        self.settings_changed.emit(self.settings)
        if self.compile_in_background:
            self.warm_up([sim.model.model_type])  # a model not shown before compiles now, in a worker
        for frame in history:
            if frame.step < sim.step_index:  # the current state comes with the snapshot below
                self.frame_ingested.emit(frame)
        self._publish_snapshot()
        if was_running:
            self.start()

    def warm_up(self, model_types: Iterable[str] | None = None) -> None:
        """Compile the kernels of ``model_types`` (default: every model) in a worker, unless they are
        compiled already; engine calls made meanwhile wait for it."""
        wanted = [t for t in (MODELS if model_types is None else model_types) if t not in self.compiled]
        if not wanted:
            return
        if self._warming_up:  # after the current warm-up
            self._warm_next.update(wanted)
            return
        self._warming_up = True
        self.warmup_changed.emit(True)
        WorkerGC.hold()
        if self.compile_in_helpers:
            KERNELS.prefetch([t for t in WARMABLE if t not in wanted and t not in self.compiled])
        self._warmup_worker = create_worker(
            compile_kernels, wanted, in_helpers=self.compile_in_helpers, _start_thread=True,
            _connect={"finished": self._on_warmup_finished, "errored": self._on_warmup_errored})

    def _on_warmup_errored(self, exc: Exception) -> None:
        log.error("kernel warm-up failed", exc_info=exc)
        self.error_occurred.emit(exc)

    def _on_warmup_finished(self) -> None:
        WorkerGC.release()
        WorkerGC.freeze()  # modules, kernels and widgets are loaded: keep them out of collections
        self._warming_up = False
        self._warmup_worker = None
        if self._warm_next:
            wanted, self._warm_next = list(self._warm_next), set()
            self.warm_up(wanted)
            if self._warming_up:
                return
        self.warmup_changed.emit(False)
        self._apply_inbox_now()
        self._publish_snapshot()
        if self._start_when_ready:
            self._start_when_ready = False
            self.start()

    # -- transport --------------------------------------------------------------------------------------
    def start(self) -> bool:
        """Run (or resume). Returns False, and says why through a signal, when it cannot."""
        if self._sim is None:
            return False
        if self._worker is not None:  # running, or stopping: then run again once it has stopped
            self._start_when_ready = True
            return True
        if self._warming_up:
            self._start_when_ready = True
            return True
        if self._diverged is not None:
            self.error_occurred.emit(self._diverged)
            return False
        self._start_worker(run_frames, self._sim, self._inbox, self._pacer, not self._sim.done)
        self._next_render = time.perf_counter()
        self._render_timer.start(0)
        self._stats_timer.start()
        self._set_state(RunState.RUNNING)
        return True

    def steps_per_display_frame(self) -> int:
        """Steps in one display frame at the current speed (what Step advances)."""
        if self._sim is None:
            return 1
        speed = self.speed if self.speed is not None else max(s for s in SPEEDS if s is not None)
        return max(1, round(speed / DISPLAY_HZ / self._sim.dt))

    def step_once(self) -> None:
        """Advance one display frame (pausing first if running)."""
        if self._sim is None or self._warming_up:
            return
        self.stop(wait=True)
        if self._diverged is not None:
            self.error_occurred.emit(self._diverged)
            return
        try:
            self._sim.step(self.steps_per_display_frame())
        except NumericalInstabilityError as exc:
            self._on_worker_errored(exc)
        self._publish_snapshot()

    def reset(self, seed: int | None = None) -> None:
        """Back to t = 0: zero state, protocol and noise restarted (with ``seed`` if given); paused."""
        if self._sim is None or self._warming_up:
            return
        self.stop(wait=True)
        self._sim.reset(seed)
        self._diverged = None
        self._history.clear()
        self.views_reset.emit()
        self._publish_snapshot()

    def set_speed(self, speed: float | None) -> None:
        """Requested real-time factor; ``None`` runs as fast as possible (leaves fast-forward)."""
        self._fast_forward = False
        self._pacer.set_speed(speed)
        self._on_stats_timer_timeout()

    def set_fast_forward(self, on: bool) -> None:
        """Run as fast as possible without drawing (the status bar still updates)."""
        if on == self._fast_forward:
            return
        if on:
            self._saved_speed = self._pacer.speed
            self._pacer.set_speed(None)
        else:
            self._pacer.set_speed(self._saved_speed)
            if self._latest is not None:
                self._undrawn = self._latest
        self._fast_forward = on

    # -- edits ------------------------------------------------------------------------------------------
    def check_update(self, update: dict[str, Any]) -> None:
        """Raise :class:`ConfigError` (naming the parameter) if the engine would refuse ``update``.

        Checked against the requested settings, so edits still queued count.
        """
        if self._settings is None:
            raise ConfigError("no experiment is loaded", param=None)
        after = self._settings.with_update(update)
        params = validate_params(after.model_type, after.params)
        check_step(after.dt, params["tau"], params.get("tau_v"))
        if update.get("task") is not None:
            size_param = MODELS[after.model_type].size_param
            probe = make_model(after.model_type, {**params, size_param: 8}, dt=after.dt)
            make_task(probe, {**after.task, "time_step": after.dt})

    def apply(self, update: dict[str, Any]) -> None:
        """Apply an edit (parameters, ``dt``, ``task``, ``stimulus``, ``pulse``), live if running.

        A refused edit is reported through ``update_rejected``; nothing raises.
        """
        if self._sim is None:
            return
        self._settings = self._settings.with_update(update)
        self.settings_changed.emit(self.settings)
        if self.is_busy:
            self._inbox.put(dict(update))
            return
        try:
            self._sim.apply(dict(update))
        except CannsEngineError as exc:
            self._on_update_rejected(update, exc)
        self._publish_snapshot()

    def set_param(self, name: str, value: Any) -> None:
        """Change one model parameter (see :meth:`apply`)."""
        self.apply({name: value})

    def dt_update(self, dt: float) -> dict[str, Any]:
        """The edit that changes the step size: the protocol is re-timed to it (durations are kept)."""
        task = self._settings.task
        return {"dt": dt} if task is None else {"task": {**task, "time_step": dt}}

    def task_update(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The edit that starts protocol ``spec`` (a task spec without ``time_step``) now."""
        return {"task": {**spec, "time_step": self._settings.dt}}

    def set_loop(self, loop: bool) -> None:
        """Repeat the protocol forever (takes effect at once; a running worker is restarted)."""
        running = self.is_running
        self.stop(wait=True)
        self._sim.loop = self._settings.loop = bool(loop)
        self.settings_changed.emit(self.settings)
        if running:
            self.start()

    def set_seed(self, seed: int | None) -> None:
        """Seed of the input noise; used from the next :meth:`reset`."""
        self._sim.seed = self._settings.seed = seed
        self.settings_changed.emit(self.settings)

    def set_stimulus(self, pos: float | tuple[float, float] | None) -> None:
        """Hold the stimulus at ``pos`` (a drag or an arrow key); ``None`` hands it back to the protocol."""
        self.apply({"stimulus": None if pos is None else _plain(pos)})

    def pulse(self, pos: float | tuple[float, float], duration: float = 2.0) -> None:
        """A brief input of amplitude ``A`` at ``pos`` for ``duration`` time units."""
        self.apply({"pulse": {"pos": _plain(pos), "duration": float(duration)}})

    # -- worker signals ---------------------------------------------------------------------------------
    def _on_worker_yielded(self, tick: Tick) -> None:
        for update, exc in tick.rejected:
            self._on_update_rejected(update, exc)
        if tick.frame is not None:
            self._ingest(tick.frame)
            if self._tick_owed:
                self._tick_owed = False
                self._draw_newest()

    def _on_worker_errored(self, exc: Exception) -> None:
        if isinstance(exc, NumericalInstabilityError):
            self._diverged = exc
        else:
            log.error("simulation run failed", exc_info=exc)
        self.error_occurred.emit(exc)

    def _on_worker_returned(self, protocol_ended: bool) -> None:
        if protocol_ended and self._sim is not None:
            self.protocol_finished.emit(self._sim.t)

    def _after_run(self) -> None:
        self._render_timer.stop()
        self._tick_owed = False
        self._apply_inbox_now()
        self._draw_newest()  # the last frame
        self._on_stats_timer_timeout()
        self._stats_timer.stop()

    def _on_update_rejected(self, update: dict[str, Any], exc: Exception) -> None:
        self._resync_settings()
        self.update_rejected.emit(dict(update), exc)

    def _resync_settings(self) -> None:
        """Settings from the engine after a refused edit: exact when idle, the parameters of the newest
        frame while running (and exact again when the run stops)."""
        if self._sim is None:
            return
        if not self.is_busy:
            self._settings = ExperimentSettings.of(self._sim)
        elif self._latest is not None:
            self._settings.params = dict(self._latest.params)
            self._needs_resync = True
        self.settings_changed.emit(self.settings)

    def _apply_inbox_now(self) -> None:
        """Apply edits that arrived while the worker was stopping (GUI thread, idle)."""
        rejected: list[tuple[dict[str, Any], Exception]] = []
        applied = _drain(self._sim, self._inbox, rejected) if self._sim is not None else False
        for update, exc in rejected:
            self._on_update_rejected(update, exc)
        if self._needs_resync:
            self._needs_resync = False
            self._resync_settings()
        if applied or rejected:
            self._publish_snapshot()

    # -- frames and statistics --------------------------------------------------------------------------
    def _ingest(self, frame: Frame) -> None:
        if self._latest is not None and frame.step < self._latest.step:
            self._history.clear()
        self._latest = frame
        self._undrawn = frame
        self._history.append((time.perf_counter(), frame.step, frame.t))
        self.frame_ingested.emit(frame)

    def _publish_snapshot(self) -> None:
        """Show the Simulation's current state (GUI thread, idle only; after a divergence the last
        finite frame stays on screen)."""
        if self._sim is None or self.is_busy or self._diverged is not None:
            return
        self._ingest(self._sim.snapshot())
        self._draw_newest()
        self.stats_changed.emit(self.stats())  # the status bar's time follows steps, resets and sessions

    def _on_render_timer_timeout(self) -> None:
        """A display tick: draw, and schedule the next tick on a fixed 1/DISPLAY_HZ grid (a late tick
        does not delay the ones after it; after a long stall the grid restarts from now).

        A tick that finds no new frame is owed: the next frame is drawn as soon as it arrives instead of
        waiting a whole tick. The worker's frames come every ~12 ms, but unevenly (gaps of 20–35 ms when
        it waits for the GIL), so a fixed tick alone missed 5–6 % of the display frames (CANN1D-512 at
        full speed: 55.4 FPS with 82 frames/s arriving)."""
        if self._worker is not None:
            now = time.perf_counter()
            self._next_render += 1.0 / DISPLAY_HZ
            if self._next_render < now - 1.0 / DISPLAY_HZ:
                self._next_render = now
            self._render_timer.start(max(0, round((self._next_render - now) * 1000)))
        self._tick_owed = self._undrawn is None and self._worker is not None
        self._draw_newest()

    def _draw_newest(self) -> None:
        """Emit ``frame_ready`` with the newest frame if it has not been drawn yet."""
        if self._undrawn is None or (self._fast_forward and self._worker is not None):
            return
        frame, self._undrawn = self._undrawn, None
        self._draw_times.append(time.perf_counter())
        self.frame_ready.emit(frame)

    def stats(self) -> RunStats:
        """Current performance figures (see :class:`RunStats`)."""
        now = time.perf_counter()
        while self._history and now - self._history[0][0] > STATS_WINDOW:
            self._history.popleft()
        while self._draw_times and now - self._draw_times[0] > STATS_WINDOW:
            self._draw_times.popleft()
        steps_per_s = rtf = 0.0
        if len(self._history) >= 2:
            (w0, s0, t0), (_, s1, t1) = self._history[0], self._history[-1]
            span = max(now - w0, 1e-6)
            steps_per_s, rtf = (s1 - s0) / span, (t1 - t0) / span
        fps = len(self._draw_times) / STATS_WINDOW if self._worker is not None else 0.0
        t = self._latest.t if self._latest is not None else 0.0
        return RunStats(t=t, steps_per_s=steps_per_s, fps=fps, rtf=rtf, speed=self.speed,
                        running=self.is_running, fast_forward=self._fast_forward)

    def _on_stats_timer_timeout(self) -> None:
        WorkerGC.collect()
        self.stats_changed.emit(self.stats())

    # -- shutdown ---------------------------------------------------------------------------------------
    def shutdown(self, timeout: float = 3.0) -> None:
        """Stop the run and wait for every worker of this controller (window close, app exit). With
        :attr:`compile_in_helpers` (the app's controller), the helper processes are stopped too: a warm-up
        waiting for one ends at once."""
        self.stop(wait=True, timeout=timeout)
        if self.compile_in_helpers:
            KERNELS.stop()
        if self._warmup_worker is not None:
            QThreadPool.globalInstance().waitForDone(round(timeout * 1000))
            QCoreApplication.sendPostedEvents(self)
        self._render_timer.stop()
        self._stats_timer.stop()


def _plain(pos: Any) -> float | list[float]:
    """A position as plain floats (events are logged as JSON)."""
    try:
        return float(pos)
    except TypeError:
        return [float(p) for p in pos]
