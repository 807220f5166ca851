"""Stimulus protocols with canns' signatures: smooth tracking, population coding, template matching.

A task knows, for every step, where the stimulus is (``stim_pos``) and whether it is on (``stim_on``);
the amplitude is the model's ``A`` at the time of the step, so ``A`` can change live. Inputs are built
inside the compiled loop, never stored as a ``steps × neurons`` array (``get_data()`` still builds canns'
dense ``data`` for scripts that want it). Creating a task sets the model's ``dt`` to ``time_step``: one
step size per run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .errors import ConfigError
from .models import BaseCANN


def _duration(value: Any, name: str) -> float:
    try:
        d = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}", param=name) from None
    if not math.isfinite(d) or d < 0:
        raise ConfigError(f"{name} must be a finite duration ≥ 0, got {value!r}", param=name)
    return d


def _position(value: Any, ndim: int, name: str) -> np.ndarray:
    try:
        pos = np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a position, got {value!r}", param=name) from None
    if pos.size != ndim:
        what = "a number" if ndim == 1 else "a pair (x, y)"
        raise ConfigError(f"{name} must be {what}, got {value!r}", param=name)
    if not np.isfinite(pos).all():
        raise ConfigError(f"{name} must be finite, got {value!r}", param=name)
    return pos


class Task:
    """Base class: a protocol of ``total_steps`` steps of ``time_step`` for ``cann_instance``."""

    ndim = 1
    task_type = ""

    def __init__(self, cann_instance: BaseCANN, time_step: float, *, noise_level: float = 0.0,
                 seed: int | None = None) -> None:
        if not isinstance(cann_instance, BaseCANN):
            raise ConfigError(f"cann_instance must be a canns_engine model, got "
                              f"{type(cann_instance).__name__}", param="cann_instance")
        if cann_instance.ndim != self.ndim:
            raise ConfigError(f"{type(self).__name__} needs a {self.ndim}D model, got "
                              f"{type(cann_instance).__name__}", param="cann_instance")
        cann_instance.dt = time_step  # validates dt against tau (and tau_v)
        self.cann_instance = cann_instance
        self.time_step = float(time_step)
        self.noise_level = noise_level
        self.seed = seed
        self.shape = cann_instance.shape

    # Set by subclasses: on-flags (steps,), and either the positions (``stim_pos``, shape (steps, ndim))
    # or a rule for them (``_positions``), so a long protocol needs no per-step position array.
    stim_on: np.ndarray
    _stim_pos: np.ndarray | None = None

    @property
    def stim_pos(self) -> np.ndarray:
        """Stimulus position of every step, shape ``(steps, ndim)`` (built on first access; a run reads
        the positions chunk by chunk through :meth:`positions` instead)."""
        if self._stim_pos is None:
            self._stim_pos = self._positions(range(self.total_steps))
        return self._stim_pos

    @stim_pos.setter
    def stim_pos(self, value: np.ndarray) -> None:
        self._stim_pos = np.asarray(value, dtype=float)

    def positions(self, steps: np.ndarray | range) -> np.ndarray:
        """Stimulus positions of the steps ``steps`` (indices into the protocol), shape ``(n, ndim)``.

        ``steps`` is an index array or a ``range`` (step 1), the cheap form for a run's consecutive steps:
        a run plans a chunk of thousands of steps at a time, and slices cost far less than masks there.
        """
        if not isinstance(steps, range) or steps.step != 1:
            steps = np.asarray(steps)
        if self._stim_pos is not None:
            return self._stim_pos[slice(steps.start, steps.stop) if isinstance(steps, range) else steps]
        return self._positions(steps)

    def _positions(self, steps: np.ndarray | range) -> np.ndarray:
        raise NotImplementedError

    @property
    def total_steps(self) -> int:
        """Number of steps in the protocol."""
        return len(self.stim_on)

    @property
    def Iext_sequence(self) -> np.ndarray:
        """canns' name for the per-step stimulus positions, shape ``(steps, ndim)``."""
        return self.stim_pos

    @property
    def spec(self) -> dict[str, Any]:
        """The task's constructor arguments (JSON-able), for session manifests."""
        return {"type": self.task_type, "time_step": self.time_step, **self._spec()}

    def _spec(self) -> dict[str, Any]:
        raise NotImplementedError

    def get_data(self, progress_bar: bool = False) -> np.ndarray:
        """Build and return canns' dense input array ``data`` (``steps × shape``; large!)."""
        model = self.cann_instance
        rng = np.random.default_rng(self.seed)
        data = np.zeros((self.total_steps, *self.shape))
        for i in np.flatnonzero(self.stim_on):
            data[i] = model.get_stimulus_by_pos(self.stim_pos[i])
            if self.noise_level:
                data[i] += self.noise_level * model.A * rng.standard_normal(self.shape)
        self.data = data
        return data


def _within(steps: np.ndarray | range, start: int, stop: int) -> tuple[np.ndarray | slice, np.ndarray]:
    """Where ``steps`` (an array, or a range of step 1) fall in ``start … stop - 1``, and those steps
    minus ``start`` (as floats)."""
    if isinstance(steps, range):
        lo = min(max(start - steps.start, 0), len(steps))
        hi = max(min(stop - steps.start, len(steps)), lo)
        return slice(lo, hi), np.arange(steps.start + lo - start, steps.start + hi - start, dtype=float)
    inside = (steps >= start) & (steps < stop)
    return inside, (steps[inside] - start).astype(float)


def _linspace_at(start: float, stop: float, num: int, j: np.ndarray) -> np.ndarray:
    """``np.linspace(start, stop, num)[j]`` without building the whole array (numpy's arithmetic)."""
    div = num - 1
    delta = stop - start
    if div > 0:
        step = delta / div
        y = j / div * delta if step == 0 else j * step
    else:
        y = j * delta
    y = y + start
    if num > 1:
        y[j == num - 1] = stop
    return y


def _steps(total: float, time_step: float) -> int:
    """Total steps as canns counts them: ``ceil(total / time_step)``."""
    return int(np.ceil(total / time_step))


class SmoothTracking1D(Task):
    """Stimulus moving linearly through key positions ``Iext`` over segments of ``duration``.

    Segment ``i`` lasts ``int(duration[i] / time_step)`` steps and moves from ``Iext[i]`` to
    ``Iext[i+1]`` (``linspace``, both ends included); any remainder holds the last position.
    """

    task_type = "SmoothTracking1D"

    def __init__(self, cann_instance: BaseCANN, Iext: Sequence[Any], duration: Sequence[float],
                 time_step: float = 0.1) -> None:
        super().__init__(cann_instance, time_step)
        if isinstance(duration, str) or not isinstance(duration, Sequence | np.ndarray):
            raise ConfigError(f"duration must be a sequence of segment durations, got {duration!r}",
                              param="duration")
        if isinstance(Iext, str) or not isinstance(Iext, Sequence | np.ndarray) or (
            len(Iext) != len(duration) + 1
        ):
            raise ConfigError(
                f"Iext must hold one more key position than duration has segments "
                f"(got {len(Iext) if hasattr(Iext, '__len__') else Iext!r} positions for "
                f"{len(duration)} durations)", param="Iext")
        if len(duration) == 0:
            raise ConfigError("duration must hold at least one segment", param="duration")
        self.Iext = [_position(p, self.ndim, "Iext") for p in Iext]
        self.duration = [_duration(d, "duration") for d in duration]
        total = _steps(sum(self.duration), self.time_step)
        if total < 1:
            raise ConfigError(f"the task lasts {sum(self.duration):g}, shorter than one step",
                              param="duration")
        self._segments = []  # (first step, steps, from, to) of every non-empty segment
        start = 0
        for i, d in enumerate(self.duration):
            n = int(d / self.time_step)
            if n:
                self._segments.append((start, n, self.Iext[i], self.Iext[i + 1]))
            start += n
        self.stim_on = np.ones(total, dtype=bool)

    def _positions(self, steps: np.ndarray | range) -> np.ndarray:
        """``linspace(from, to, n)`` per segment, evaluated at ``steps`` only (bit for bit numpy's
        formula), and the last key position after the segments."""
        out = np.empty((len(steps), self.ndim))
        out[:] = self.Iext[-1]
        for start, n, p0, p1 in self._segments:
            where, j = _within(steps, start, start + n)
            if not j.size:
                continue
            for axis in range(self.ndim):
                out[where, axis] = _linspace_at(p0[axis], p1[axis], n, j)
        return out

    def _spec(self) -> dict[str, Any]:
        return {"Iext": [p.tolist() if self.ndim > 1 else float(p[0]) for p in self.Iext],
                "duration": list(self.duration)}


class SmoothTracking2D(SmoothTracking1D):
    """:class:`SmoothTracking1D` with key positions ``(x, y)``."""

    ndim = 2
    task_type = "SmoothTracking2D"


class PopulationCoding1D(Task):
    """No input for ``before_duration``, a fixed stimulus at ``Iext`` for ``duration``, then none for
    ``after_duration``: the bump must persist after the input is removed (working memory).

    The stimulus is on from step ``int(before / time_step)`` to ``int((total - after) / time_step)``.
    """

    task_type = "PopulationCoding1D"

    def __init__(self, cann_instance: BaseCANN, before_duration: float, after_duration: float,
                 Iext: Any, duration: float, time_step: float = 0.1) -> None:
        super().__init__(cann_instance, time_step)
        self.before_duration = _duration(before_duration, "before_duration")
        self.after_duration = _duration(after_duration, "after_duration")
        self.duration = _duration(duration, "duration")
        self.Iext = _position(Iext, self.ndim, "Iext")
        total_time = self.before_duration + self.duration + self.after_duration
        total = _steps(total_time, self.time_step)
        if total < 1:
            raise ConfigError("the task is shorter than one step", param="duration")
        self.stim_on = np.zeros(total, dtype=bool)
        start = int(self.before_duration / self.time_step)
        stop = int((total_time - self.after_duration) / self.time_step)
        self.stim_on[start:stop] = True

    def _positions(self, steps: np.ndarray | range) -> np.ndarray:
        return np.tile(self.Iext, (len(steps), 1))

    def _spec(self) -> dict[str, Any]:
        return {"before_duration": self.before_duration, "after_duration": self.after_duration,
                "Iext": self.Iext.tolist() if self.ndim > 1 else float(self.Iext[0]),
                "duration": self.duration}


class PopulationCoding2D(PopulationCoding1D):
    """:class:`PopulationCoding1D` with a 2D stimulus position."""

    ndim = 2
    task_type = "PopulationCoding2D"


class TemplateMatching1D(Task):
    """A fixed stimulus plus fresh Gaussian noise ``noise_level · A · randn`` every step.

    The network denoises the input. ``seed`` makes the noise reproducible (canns draws from numpy's
    global generator); a :class:`~canns_engine.Simulation` seed overrides it.
    """

    task_type = "TemplateMatching1D"

    def __init__(self, cann_instance: BaseCANN, Iext: Any, duration: float,
                 time_step: float = 0.1, noise_level: float = 0.1, seed: int | None = None) -> None:
        noise_level = _duration(noise_level, "noise_level")
        super().__init__(cann_instance, time_step, noise_level=noise_level, seed=seed)
        self.Iext = _position(Iext, self.ndim, "Iext")
        self.duration = _duration(duration, "duration")
        total = _steps(self.duration, self.time_step)
        if total < 1:
            raise ConfigError("the task is shorter than one step", param="duration")
        self.stim_on = np.ones(total, dtype=bool)

    def _positions(self, steps: np.ndarray | range) -> np.ndarray:
        return np.tile(self.Iext, (len(steps), 1))

    def _spec(self) -> dict[str, Any]:
        return {"Iext": self.Iext.tolist() if self.ndim > 1 else float(self.Iext[0]),
                "duration": self.duration, "noise_level": self.noise_level, "seed": self.seed}


class TemplateMatching2D(TemplateMatching1D):
    """:class:`TemplateMatching1D` with a 2D stimulus position."""

    ndim = 2
    task_type = "TemplateMatching2D"


class CustomTracking1D(Task):
    """Any stimulus trajectory: an array of per-step positions, or a function of time.

    Parameters
    ----------
    Iext : array_like or callable
        Positions, one per step (shape ``(steps,)``; ``(steps, 2)`` in 2D), or ``f(t)`` evaluated at
        ``t = i · time_step`` for ``i < ceil(duration / time_step)``. A NaN position means no input.
    duration : float, optional
        Required with a function; with an array it defaults to ``len(Iext) · time_step``.
    """

    task_type = "CustomTracking1D"

    def __init__(self, cann_instance: BaseCANN, Iext: np.ndarray | Callable[[np.ndarray], Any],
                 duration: float | None = None, time_step: float = 0.1) -> None:
        super().__init__(cann_instance, time_step)
        if callable(Iext):
            if duration is None:
                raise ConfigError("duration is required when Iext is a function of time",
                                  param="duration")
            self.duration = _duration(duration, "duration")
            t = np.arange(_steps(self.duration, self.time_step)) * self.time_step
            try:
                pos = np.asarray(Iext(t), dtype=float)
            except Exception as exc:
                raise ConfigError(f"Iext(t) failed: {exc}", param="Iext") from exc
        else:
            pos = np.asarray(Iext, dtype=float)
            self.duration = len(pos) * self.time_step if duration is None else _duration(
                duration, "duration")
        pos = pos.reshape(len(pos), -1) if pos.ndim else pos.reshape(1, 1)
        expected = _steps(self.duration, self.time_step)
        if pos.shape != (expected, self.ndim):
            raise ConfigError(f"Iext must have shape ({expected}, {self.ndim}) (one position per "
                              f"step), got {pos.shape}", param="Iext")
        if np.isinf(pos).any():
            raise ConfigError("Iext positions must be finite (NaN means no input)", param="Iext")
        if expected < 1:
            raise ConfigError("the task is shorter than one step", param="duration")
        self.stim_on = ~np.isnan(pos).any(axis=1)
        self.stim_pos = np.where(np.isnan(pos), 0.0, pos)

    def _spec(self) -> dict[str, Any]:
        pos = [[*p] if on else [None] * self.ndim for p, on in zip(self.stim_pos.tolist(),
                                                                     self.stim_on, strict=True)]
        if self.ndim == 1:
            pos = [p[0] for p in pos]
        return {"Iext": pos, "duration": self.duration}


class CustomTracking2D(CustomTracking1D):
    """:class:`CustomTracking1D` with 2D positions."""

    ndim = 2
    task_type = "CustomTracking2D"


TASKS: dict[str, type[Task]] = {
    cls.task_type: cls
    for cls in (SmoothTracking1D, SmoothTracking2D, PopulationCoding1D, PopulationCoding2D,
                TemplateMatching1D, TemplateMatching2D, CustomTracking1D, CustomTracking2D)
}
"""Task classes by name, for session files and the GUI."""


def make_task(model: BaseCANN, spec: dict[str, Any]) -> Task:
    """Build a task for ``model`` from a spec as returned by :attr:`Task.spec`."""
    spec = dict(spec)
    name = spec.pop("type", None)
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}",
                          param="task")
    try:
        return TASKS[name](model, **spec)
    except TypeError as exc:
        raise ConfigError(f"bad arguments for {name}: {exc}", param="task") from exc
