"""Running a network: :func:`simulate` for whole tasks, :class:`Simulation` for streaming and live edits.

A :class:`Simulation` owns one model and (optionally) one task. It advances in compiled chunks, keeps a
:class:`~canns_engine.recording.Recording`, and accepts changes between chunks (:meth:`Simulation.apply`):
live parameters, a dragged or pulsed stimulus, a new protocol, or a structural change that rebuilds the
grid. Every change is logged with its step in :attr:`Simulation.events`, so a run can be replayed
exactly (:meth:`Simulation.run` with ``events=``). :meth:`Simulation.frames` is a generator of
:class:`Frame` snapshots (copies) for the GUI, notebooks and the command line; it takes updates through
``generator.send(update)``.

Only one thread may use a Simulation at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from . import _kernels, _vectors, parts
from ._memory import cache_aligned, is_aligned
from .analysis import SUMMARY_FIELDS_1D, SUMMARY_FIELDS_2D, summarize_1d, summarize_2d
from .errors import ConfigError, NumericalInstabilityError
from .models import BaseCANN, check_step
from .recording import SUMMARY_DTYPE, Recording
from .tasks import Task, make_task

CHUNK_ELEMENTS = 1 << 21
"""Largest ``steps × neurons`` block (noise or recorded states) built per compiled call (16 MB)."""
INPUT_PLAN_STEPS = 1 << 16
"""Steps of stimulus input planned ahead in one go (see :meth:`Simulation._inputs`; ~1 MB)."""


@dataclass(frozen=True)
class _InputPlan:
    """The stimulus of steps ``first …`` as planned for ``key``: the task, the held stimulus, the protocol
    start, the loop flag and ``A``, which is all it depends on."""

    key: tuple
    first: int
    pos: np.ndarray
    amp: np.ndarray
    noisy: np.ndarray | None


@dataclass(frozen=True)
class Frame:
    """A snapshot of a running network: copies, safe to hand to another thread.

    ``stim_pos`` is NaN (1D) or a NaN pair (2D) while no stimulus is on; ``decoded_pos`` is the
    population-vector position (a pair in 2D); ``summary`` maps the summary fields to values.
    """

    step: int
    t: float
    model_type: str
    params: dict[str, Any]
    x: np.ndarray
    u: np.ndarray
    r: np.ndarray
    inp: np.ndarray
    v: np.ndarray | None
    stim_pos: float | np.ndarray
    decoded_pos: float | np.ndarray
    summary: dict[str, float]
    done: bool = False


ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(steps_done, steps_total)`` after each chunk of :meth:`Simulation.run`."""


class Simulation:
    """A network, its protocol and its recording, advanced step by step.

    Parameters
    ----------
    model : BaseCANN
        The network; the run starts from its current state (zeros for a new model).
    task : Task, optional
        The stimulus protocol; ``None`` runs without input until a stimulus is set.
    seed : int, optional
        Seed of the noise generator (template matching). Defaults to the task's ``seed``.
    record : {"full", "summary", "none"}
        Keep whole states and summaries, summaries only, or nothing.
    record_every : int
        Keep every n-th step.
    max_bytes : int, optional
        Stop with an error before the in-memory recording exceeds this size.
    loop : bool
        Repeat the protocol forever instead of finishing after ``task.total_steps``.
    threads : {1, 2}
        Threads that step the network. With 2, a large network (a ring of ≥ 2 047 neurons, a sheet of
        ≥ 31 × 31) is stepped in two halves on two cores, meeting once per step; smaller networks use
        one thread either way. The numbers are the same for 1 and 2 (:mod:`canns_engine.parts`). Use 2
        for headless runs on a machine with a free core, not next to a GUI that needs it.

    Examples
    --------
    >>> from canns_engine import CANN1D, PopulationCoding1D, Simulation
    >>> model = CANN1D(num=64)
    >>> task = PopulationCoding1D(model, before_duration=1.0, after_duration=5.0, Iext=0.5,
    ...                           duration=5.0, time_step=0.05)
    >>> sim = Simulation(model, task, record="summary")
    >>> for frame in sim.frames(steps_per_frame=50):
    ...     pass
    >>> round(float(frame.decoded_pos), 2)
    0.5
    """

    def __init__(self, model: BaseCANN, task: Task | None = None, *, seed: int | None = None,
                 record: str = "full", record_every: int = 1, max_bytes: int | None = None,
                 loop: bool = False, threads: int = 1) -> None:
        if not isinstance(model, BaseCANN):
            raise ConfigError(f"model must be a canns_engine model, got {type(model).__name__}",
                              param="model")
        if task is not None and task.cann_instance is not model:
            raise ConfigError("the task was created for another model instance", param="task")
        if isinstance(threads, bool) or threads not in (1, 2):
            raise ConfigError(f"threads must be 1 or 2, got {threads!r}", param="threads")
        self.model = model
        self.task = task
        self.loop = loop
        self.threads = threads
        self._work: list[_kernels.Workspace] = []
        self._work_key: tuple | None = None
        self.seed = seed if seed is not None else (task.seed if task is not None else None)
        self._record_args = {"record": record, "record_every": record_every,
                             "max_bytes": max_bytes}
        self._restart()

    # -- state ------------------------------------------------------------------------------------
    @property
    def t(self) -> float:
        """Simulated time."""
        return self.step_index * self.model.dt

    @property
    def dt(self) -> float:
        """Step size (the task's ``time_step``)."""
        return self.model.dt

    @property
    def total_steps(self) -> int | None:
        """Steps until the protocol ends (``None`` when it never does)."""
        if self.task is None or self.loop:
            return None
        return self._protocol_start + self.task.total_steps

    @property
    def done(self) -> bool:
        """True once a finite protocol has run to its end."""
        total = self.total_steps
        return total is not None and self.step_index >= total

    def reset(self, seed: int | None = None) -> None:
        """Zero the state, restart the protocol, the noise (with ``seed`` if given) and the recording."""
        if seed is not None:
            self.seed = seed
        self.model.init_state()
        self._restart()

    def _restart(self) -> None:
        """Step 0: fresh noise, protocol, event log and recording; remember the starting set-up."""
        self.start: dict[str, Any] = {
            "params": self.model.params, "dt": self.model.dt,
            "task": None if self.task is None else self.task.spec,
        }
        """Parameters, step size and protocol at step 0: with :attr:`events`, all a replay needs."""
        self._rng = np.random.default_rng(self.seed)
        self.step_index = 0
        self._protocol_start = 0
        self._override: dict[str, Any] | None = None
        self._plan: _InputPlan | None = None
        self._last_stim = self._no_stimulus()
        self.events: list[dict[str, Any]] = []
        self.previous_recordings: list[Recording] = []
        self.recording = self._new_recording()

    def _new_recording(self) -> Recording | None:
        if self._record_args["record"] == "none":
            return None
        m = self.model
        return Recording(model_type=m.model_type, params=m.params, x=m.x, dt=m.dt, ndim=m.ndim,
                         sfa=m.sfa, **self._record_args)

    def _no_stimulus(self) -> np.ndarray:
        return np.full(self.model.ndim, np.nan)

    # -- live changes -----------------------------------------------------------------------------
    def apply(self, update: dict[str, Any]) -> None:
        """Apply a change now and log it in :attr:`events`.

        Keys: any model parameter (live ones take effect at the next step; ``num``/``length``, ``a``,
        ``J0``, ``z_min``, ``z_max`` rebuild), ``"dt"``, ``"stimulus"`` (a position: hold the stimulus
        there; ``None``: give it back to the protocol), ``"pulse"`` (``{"pos": p, "duration": d,
        "amplitude": A}``: a brief input), ``"task"`` (a task spec dict: a new protocol from now).
        """
        update = dict(update)
        params = {k: update.pop(k) for k in list(update) if k in self.model.params}
        unknown = set(update) - {"stimulus", "pulse", "task", "dt"}
        if unknown:
            known = ", ".join([*self.model.params, "dt", "stimulus", "pulse", "task"])
            raise ConfigError(f"cannot apply {', '.join(sorted(unknown))}; known: {known}",
                              param=sorted(unknown)[0])
        if "stimulus" in update:
            self._set_stimulus(update["stimulus"])
        if "pulse" in update:
            self._set_pulse(update["pulse"])
        if "dt" in update:
            self.model.dt = update["dt"]
        if params:
            grid_before = self.model.x
            self.model.set_params(**params)
            if self.recording is not None and self.model.x is not grid_before:
                self.previous_recordings.append(self.recording)  # states change shape: new segment
                self.recording = self._new_recording()
        if "task" in update:  # a new protocol from now; None: free run (no input until a stimulus is set)
            self.task = None if update["task"] is None else make_task(self.model, update["task"])
            self._protocol_start = self.step_index
        self.events.append({"step": self.step_index, **_jsonable(params), **_jsonable(update)})

    def _set_stimulus(self, pos: Any) -> None:
        if pos is None:
            self._override = None
            return
        p = np.asarray(pos, dtype=float).reshape(-1)
        if p.size != self.model.ndim or not np.isfinite(p).all():
            raise ConfigError(f"stimulus must be a finite position with {self.model.ndim} "
                              f"coordinate(s), got {pos!r}", param="stimulus")
        self._override = {"pos": p, "until": None, "amplitude": None}

    def _set_pulse(self, pulse: dict[str, Any]) -> None:
        try:
            p = np.asarray(pulse["pos"], dtype=float).reshape(-1)
            steps = round(float(pulse.get("duration", 1.0)) / self.dt)
            amp = pulse.get("amplitude")
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"pulse needs a position 'pos' and a 'duration' ({exc})",
                              param="pulse") from exc
        if p.size != self.model.ndim or not np.isfinite(p).all() or steps < 1:
            raise ConfigError(f"pulse must have a finite position and last ≥ one step, got {pulse}",
                              param="pulse")
        self._override = {"pos": p, "until": self.step_index + steps,
                          "amplitude": None if amp is None else float(amp)}

    # -- stepping ---------------------------------------------------------------------------------
    def _inputs(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stimulus positions, amplitudes and noise of the next ``n`` steps.

        Positions and amplitudes are sliced from a plan of the next :data:`INPUT_PLAN_STEPS` (or ``n``)
        steps, made in one go and remade only when it runs out or when something it depends on changed
        (task, protocol start, loop, held stimulus or pulse, ``A``). A chunk then costs no numpy work on
        long arrays, which matters in a worker thread: every such operation releases the GIL and must win
        it back from the GUI thread (a 1800-step chunk's input took 0.15 ms alone, 2.8 ms next to a thread
        running Python). Noise is drawn per chunk, exactly for the steps taken (the random stream must
        not depend on how a run is chunked).
        """
        model = self.model
        key = (self.task, self._override, self._protocol_start, self.loop, float(model.A))
        plan = self._plan
        first = self.step_index
        # the same task and held stimulus (objects: a new hold is a new dict) and the same numbers
        same = (plan is not None and plan.key[0] is key[0] and plan.key[1] is key[1]
                and plan.key[2:] == key[2:])
        if not same or not plan.first <= first or first + n > plan.first + len(plan.amp):
            # a plan that ran out is followed by a long one; after a change (a dragged stimulus changes
            # it at every chunk) only this chunk is planned, as cheaply as before
            count = max(n, INPUT_PLAN_STEPS) if same else n
            plan = self._plan = _InputPlan(key, first, *self._plan_inputs(first, count))
        a = first - plan.first
        pos, amp = plan.pos[a:a + n], plan.amp[a:a + n]
        ov = self._override
        if ov is not None and ov["until"] is not None and first + n >= ov["until"]:
            self._override = None  # the pulse is over (the plan holds the steps after it already)
        noise = np.empty((0, *model.shape))  # (np.zeros would release the GIL)
        if plan.noisy is not None and plan.noisy[a:a + n].any():
            noisy = plan.noisy[a:a + n]
            noise = np.zeros((n, *model.shape))
            scale = self.task.noise_level * model.A
            noise[noisy] = scale * self._rng.standard_normal((int(noisy.sum()), *model.shape))
        return pos, amp, noise

    def _plan_inputs(self, first: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Positions (``(n,)`` for a ring, ``(n, 2)`` for a sheet), amplitudes and noise flags (``None``
        when no step is noisy) of the steps ``first … first + n - 1``.

        The protocol's steps in a plan are consecutive up to its end, or up to where a loop starts it
        again, so the plan is made of slices (:meth:`_protocol_pieces`; a held stimulus is a prefix):
        a few numpy operations however long the plan. A loop that repeats the protocol within the plan
        tiles one whole repeat instead. (Masks over the steps cost ~40 ns a step, 5 % of a 128-neuron
        ring's step; a looping protocol's 65,536-step plan took 3.9–4.8 ms with them, now 1.5–2.6.)"""
        model, ndim = self.model, self.model.ndim
        pos = np.zeros((n, ndim))
        amp = np.zeros(n)
        on_protocol = np.zeros(n, dtype=bool)
        task = self.task
        if task is not None:
            k0 = first - self._protocol_start
            total = task.total_steps
            if self.loop and total < n:  # the whole protocol, repeated: one repeat, tiled
                cut = k0 % total  # the plan starts this far into a repeat
                repeat = np.roll(task.positions(range(total)), -cut, axis=0)
                pos[:] = np.resize(repeat, pos.shape)  # (rows, in order, as often as they fit)
                amp[:] = np.resize(np.where(np.roll(task.stim_on, -cut), model.A, 0.0), n)
                on_protocol[:] = True
            else:
                for offset, steps in self._protocol_pieces(k0, n):
                    where = slice(offset, offset + len(steps))
                    pos[where] = task.positions(steps)
                    amp[where] = np.where(task.stim_on[steps.start:steps.stop], model.A, 0.0)
                    on_protocol[where] = True
        ov = self._override
        if ov is not None:
            held = slice(0, n if ov["until"] is None else min(max(ov["until"] - first, 0), n))
            pos[held] = ov["pos"]
            amp[held] = model.A if ov["amplitude"] is None else ov["amplitude"]
            on_protocol[held] = False
        noisy = on_protocol if task is not None and task.noise_level > 0 and on_protocol.any() else None
        return (pos[:, 0].copy() if ndim == 1 else pos), amp, noisy

    def _protocol_pieces(self, k0: int, n: int) -> list[tuple[int, range]]:
        """Where the ``n`` steps from protocol step ``k0`` fall in the protocol: ``(offset in the plan,
        consecutive protocol steps)`` pieces. Without a loop one piece, or none past the end; with a
        loop a new piece where the protocol starts again."""
        total = self.task.total_steps
        if not self.loop:
            count = min(max(total - k0, 0), n)
            return [(0, range(k0, k0 + count))] if count else []
        pieces, offset, k = [], 0, k0 % total
        while offset < n:
            count = min(total - k, n - offset)
            pieces.append((offset, range(k, k + count)))
            offset += count
            k = 0
        return pieces

    def _chunk_limit(self) -> int:
        return max(1, CHUNK_ELEMENTS // math.prod(self.model.shape))

    def step(self, n: int = 1) -> Simulation:
        """Advance ``n`` steps (past the end of a finite protocol the input is off)."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ConfigError(f"n must be an integer ≥ 0, got {n!r}", param="n")
        remaining = int(n)
        while remaining > 0:
            chunk = min(remaining, self._chunk_limit())
            self._advance(*self._inputs(chunk))
            remaining -= chunk
        return self

    def step_with_input(self, inp: np.ndarray) -> None:
        """Advance one step with an explicit input array (canns' ``model.update(inp)``)."""
        model = self.model
        noise = np.asarray(inp, dtype=np.float64).reshape(1, *model.shape)
        pos = np.zeros(1) if model.ndim == 1 else np.zeros((1, 2))
        self._advance(pos, np.zeros(1), noise)

    def _advance(self, pos: np.ndarray, amp: np.ndarray, noise: np.ndarray) -> None:
        model, rec = self.model, self.recording
        # The compiled loops do not check bounds: refuse inconsistent arrays here, loudly.
        shapes = {a.shape for a in (model.u, model.v, model.r, model.inp)} | {noise.shape[1:] or model.shape}
        if shapes != {model.shape} or model.kernel.num != model.num:
            raise RuntimeError(f"inconsistent network state shapes {shapes} for {model.shape}")
        # the kernel updates views of these: C order, float64, on a cache line, and no two sharing memory,
        # nor with the input it reads (it tells LLVM so: canns_engine._noalias)
        states = []
        for name in ("u", "v", "r", "inp"):
            state = np.ascontiguousarray(getattr(model, name), dtype=np.float64)
            if not is_aligned(state) or any(np.may_share_memory(state, s) for s in states):
                state = cache_aligned(state)
            setattr(model, name, state)
            states.append(state)
        if any(np.may_share_memory(noise, s) for s in states):  # e.g. model.update(model.inp)
            noise = noise.copy()
        n = len(amp)
        every = rec.record_every if rec is not None else 1 << 62
        rows = (self.step_index + n) // every - self.step_index // every
        full = rec is not None and rec.full
        if rec is not None:
            rec.check_room(rows, int(np.prod(model.shape)))
        state_rows = rows if full else 0
        out_u = np.empty((state_rows, *model.shape))
        out_inp = np.empty((state_rows, *model.shape))
        out_v = np.empty((state_rows if model.sfa else 0, *model.shape))
        # summaries are stored as float32: the kernel writes them so, sparing the recording a conversion
        out_sum = np.empty((rows, len(rec.fields) if rec is not None else 8), dtype=SUMMARY_DTYPE)
        grid = (1, model.num) if model.ndim == 1 else model.shape  # a ring is a sheet of one row

        def sheet(a: np.ndarray) -> np.ndarray:
            return a.reshape(*a.shape[: a.ndim - model.ndim], *grid)

        p, dec, kern = model.params, model.decoder, model.kernel
        which = _kernels.passes(kern, sheet=model.ndim == 2)  # the pass: half, quarter, sheet
        args = (
            *(sheet(a) for a in (model.u, model.v, model.r, model.inp)),
            kern.table, kern.dense, kern.n_cos, kern.weight, kern.period, model.peak_weight,
            p["k"], model.dt / p["tau"], model.dt / p.get("tau_v", 1.0), p.get("m", 0.0), model.sfa,
            p["z_min"], model.z_range, p["a"], pos.reshape(n, model.ndim), amp, sheet(noise),
            self.step_index, every, *(sheet(a) for a in (out_u, out_v, out_inp)), out_sum,
            dec.cos, dec.sin, dec.weight, model.x, model.dx, *which,
            _vectors.wide(kern.slots, model.ndim == 2),
        )
        bounds = parts.slot_bounds(kern.slots, sheet=model.ndim == 2,
                                   swept=_kernels.swept_slots(kern, quarter=which[1]))
        threads = self.threads if len(bounds) > 2 else 1  # (an uncut network runs on one thread)
        work = self._workspaces(grid, len(noise) > 0, out_sum.shape[1], threads)
        recorded, bad = parts.run(args, bounds, kern.table.shape[0], grid[0], kern.table.dtype, work, threads)
        done = n if bad < 0 else bad
        if done:
            last = done - 1
            self._last_stim = (np.atleast_1d(pos[last]).astype(float) if amp[last] != 0
                               else self._no_stimulus())
        if rec is not None and recorded:
            first = (self.step_index // every + 1) * every - 1
            rec.append(range(first, first + every * recorded, every), out_sum[:recorded],
                       *(out_u[:recorded], out_inp[:recorded]) if full else (None, None),
                       v=out_v[:recorded] if full and model.sfa else None)
        self.step_index += done
        if bad >= 0:
            raise self._diverged()

    def _workspaces(self, grid: tuple[int, int], noise: bool, fields: int,
                    threads: int) -> list[_kernels.Workspace]:
        """The compiled loop's scratch arrays, one set per engine thread, kept from chunk to chunk while
        their sizes stay (the loop sets whatever it reads; made anew, they cost 30 µs a chunk and thread,
        ~3 % of a 2 048-neuron ring's run on two threads)."""
        kern = self.model.kernel
        key = (kern.table.shape, kern.table.dtype, kern.dense.shape, grid, kern.period, noise, fields,
               threads)
        if self._work_key != key:
            make = partial(_kernels.workspace, kern.table, kern.dense.shape[0], *grid, kern.period,
                           noise=noise, fields=fields)
            first = make()
            self._work = [first] + [make(coef=first.coef) for _ in range(threads - 1)]
            self._work_key = key
        return self._work

    def _diverged(self) -> NumericalInstabilityError:
        m, step = self.model, max(self.step_index - 1, 0)
        p = m.params
        causes = []
        if p["k"] == 0:
            causes.append("k = 0 leaves no divisive inhibition, so recurrent excitation grows "
                          "without bound (set k > 0)")
        if m.dt > 0.5 * p["tau"]:
            causes.append(f"dt = {m.dt:g} is large for tau = {p['tau']:g} (try dt ≤ {p['tau'] / 10:g})")
        if not causes:
            causes.append("the input or the recurrent gain is too large for the step size "
                          f"(A = {p['A']:g}, J0 = {p['J0']:g}, k = {p['k']:g}, dt = {m.dt:g})")
        return NumericalInstabilityError(
            f"the network state became non-finite at step {step} (t = {(step + 1) * m.dt:g}); "
            f"likely cause: {'; '.join(causes)}. Reset to continue.",
            step=step, t=(step + 1) * m.dt)

    def run(self, steps: int | None = None, *, duration: float | None = None,
            events: Iterable[dict[str, Any]] = (), progress: ProgressCallback | None = None,
            should_stop: Callable[[], bool] | None = None) -> Recording | None:
        """Run ``steps`` (or ``duration``; default: to the end of the protocol) and return the
        recording. ``events`` (as logged in :attr:`events`) are applied at their steps, which replays
        a recorded session exactly."""
        if steps is None and duration is not None:
            steps = round(float(duration) / self.dt)
        if steps is None:
            if self.total_steps is None:
                raise ConfigError("give steps or duration: this simulation has no finite protocol",
                                  param="steps")
            steps = self.total_steps - self.step_index
        end = self.step_index + int(steps)
        pending = sorted((dict(e) for e in events), key=lambda e: e["step"])
        limit = self._chunk_limit()
        while self.step_index < end:
            while pending and pending[0]["step"] <= self.step_index:
                event = pending.pop(0)
                event.pop("step")
                self.apply(event)
                limit = self._chunk_limit()
            nxt = pending[0]["step"] if pending else end
            self.step(min(end, nxt, self.step_index + limit) - self.step_index)
            if progress is not None:
                progress(self.step_index - (end - int(steps)), int(steps))
            if should_stop is not None and should_stop():
                break
        return self.recording

    # -- streaming --------------------------------------------------------------------------------
    def snapshot(self) -> Frame:
        """The current state as a :class:`Frame` (copies)."""
        m = self.model
        flat = [np.ascontiguousarray(a, dtype=np.float64).reshape(-1) for a in (m.u, m.v, m.inp)]
        u, r, inp, v, x, total_r = _kernels.state_copies(*flat, m.x, float(m.k), m.sfa)
        u, r, inp = (a.reshape(m.shape) for a in (u, r, inp))
        dec = m.decoder
        if m.ndim == 1:
            stim = float(self._last_stim[0])
            out = np.empty(7)
            summarize_1d(u, total_r, stim, dec.cos, dec.sin, dec.weight, x, dec.z_min, dec.z_range, m.dx,
                         out)
            fields, decoded = self._fields(), float(out[1])
        else:
            stim = self._last_stim.copy()
            out = np.empty(8)
            summarize_2d(u, total_r, stim[0], stim[1], dec.cos, dec.sin, dec.weight, dec.z_min,
                         dec.z_range, m.dx, np.empty((2, m.num)), out)
            fields, decoded = self._fields(), out[2:4].copy()
        return Frame(step=self.step_index, t=self.t, model_type=m.model_type, params=m.params,
                     x=x, u=u, r=r, inp=inp, v=v.reshape(m.shape) if m.sfa else None,
                     stim_pos=stim, decoded_pos=decoded,
                     summary=dict(zip(fields, out.tolist(), strict=True)), done=self.done)

    def _fields(self) -> tuple[str, ...]:
        return SUMMARY_FIELDS_1D if self.model.ndim == 1 else SUMMARY_FIELDS_2D

    def frames(self, steps_per_frame: int = 10, max_steps: int | None = None
               ) -> Generator[Frame, dict[str, Any] | None, Recording | None]:
        """Yield a :class:`Frame` every ``steps_per_frame`` steps until the protocol ends (or
        ``max_steps``); ``send(update)`` applies an update (as :meth:`apply`) before the next chunk.
        Returns the recording."""
        if steps_per_frame < 1:
            raise ConfigError(f"steps_per_frame must be ≥ 1, got {steps_per_frame}",
                              param="steps_per_frame")
        start = self.step_index
        while not self.done and (max_steps is None or self.step_index - start < max_steps):
            n = steps_per_frame
            if self.total_steps is not None:
                n = min(n, self.total_steps - self.step_index)
            if max_steps is not None:
                n = min(n, max_steps - (self.step_index - start))
            self.step(n)
            update = yield self.snapshot()
            if update:
                for item in update if isinstance(update, list) else [update]:
                    self.apply(item)
        return self.recording


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Numpy scalars and arrays to plain Python, so events serialise to JSON."""
    out = {}
    for k, v in values.items():
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def simulate(model: BaseCANN, task: Task, *, seed: int | None = None, record: str = "full",
             record_every: int = 1, max_bytes: int | None = None,
             progress: ProgressCallback | None = None, threads: int = 1) -> Recording:
    """Run ``task`` on ``model`` in compiled code and return the :class:`Recording`.

    The model integrates with the task's ``time_step`` and starts from its current state (as a canns
    ``for_loop`` does). ``record="summary"`` keeps only the per-step summaries (memory independent
    of the number of neurons); ``record_every`` keeps every n-th step; ``threads=2`` steps a large
    network on two cores (see :class:`Simulation`).

    Examples
    --------
    >>> from canns_engine import CANN1D, SmoothTracking1D, simulate
    >>> model = CANN1D(num=128)
    >>> task = SmoothTracking1D(model, Iext=(0.0, 2.0), duration=(20.0,), time_step=0.05)
    >>> rec = simulate(model, task, record="summary")
    >>> bool(abs(rec.error[-1]) < 0.1)
    True
    """
    check_step(model.dt, model.tau, model.params.get("tau_v"))
    sim = Simulation(model, task, seed=seed, record=record, record_every=record_every,
                     max_bytes=max_bytes, threads=threads)
    return sim.run(progress=progress)


