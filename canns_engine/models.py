"""The basic CANNs of canns 1.5: ``CANN1D``, ``CANN1D_SFA``, ``CANN2D`` and ``CANN2D_SFA``.

A model holds its parameters, grid, connectivity (in the compact Fourier form of
:mod:`canns_engine.connectivity`; the dense ``conn_mat`` is built only on request) and state (``u``,
``r``, ``inp`` and, with adaptation, ``v``). Whole runs go through :func:`canns_engine.simulate` or a
:class:`canns_engine.Simulation`; ``model.update(inp)`` steps once, as in a canns loop.

The step size is one value, owned by the task: creating a task with ``time_step=dt`` sets ``model.dt``
(canns keeps a separate global ``dt`` that silently disagrees with the task unless both are set).

References
----------
Wu, Hamaguchi & Amari (2008), Neural Computation 20:994. Fung, Wong & Wu (2010), Neural Computation
22:752. Mi, Fung, Wong & Wu (2014), NeurIPS (spike-frequency adaptation).
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import numpy as np

from . import _kernels
from ._memory import aligned_zeros, cache_aligned
from .analysis import Decoder
from .connectivity import (
    DEFAULT_PRECISION,
    PRECISIONS,
    ModalKernel,
    conn_mat_1d,
    conn_mat_2d,
    feature_space,
    peak_weight,
    stimulus_profile,
)
from .errors import ConfigError
from .params import LIVE_PARAMS, MODEL_PARAMS, ParamSpec, validate_params

DEFAULT_DT = 0.1
"""Step size of a model that no task has set (canns' default ``time_step``)."""


def check_step(dt: float, tau: float, tau_v: float | None = None) -> float:
    """Validate the Euler step ``dt`` against the time constants; return it as a float.

    Forward Euler on ``τ du/dt = −u + …`` needs ``dt ≤ τ``: beyond that the leak overshoots and the state
    oscillates or diverges.
    """
    if isinstance(dt, bool) or not isinstance(dt, int | float) or not math.isfinite(dt) or dt <= 0:
        raise ConfigError(f"dt (time_step) must be a finite number > 0, got {dt!r}", param="dt")
    if dt > tau:
        raise ConfigError(
            f"dt = {dt:g} is unstable for tau = {tau:g}: forward Euler needs dt ≤ tau "
            f"(use dt ≤ {tau / 10:g} for accuracy)",
            param="dt",
        )
    if tau_v is not None and dt > tau_v:
        raise ConfigError(f"dt = {dt:g} is unstable for tau_v = {tau_v:g}: need dt ≤ tau_v",
                          param="dt")
    return float(dt)


def _check_precision(value: Any) -> str:
    if value not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, got {value!r}",
                          param="precision")
    return value


class BaseCANN:
    """Common machinery of the four models; subclasses set ``model_type``, ``ndim`` and ``sfa``."""

    model_type = ""
    ndim = 1
    sfa = False
    size_param = "num"

    default_precision = DEFAULT_PRECISION
    """Precision of the recurrent product when none is given (see :attr:`precision`)."""

    def __init__(self, size: int, *, dt: float = DEFAULT_DT, precision: str | None = None,
                 **params: Any) -> None:
        self._params = validate_params(self.model_type, {self.size_param: size, **params})
        self.dt = dt
        self._precision = _check_precision(precision or self.default_precision)
        self._build()
        self.init_state()

    @property
    def precision(self) -> str:
        """Precision of the recurrent product ``W r``: ``"float32"`` (``u`` within ~1e-8 of the float64
        dense product, see :data:`canns_engine.connectivity.DEFAULT_PRECISION`) or ``"float64"``
        (~1e-14). The state is float64 either way. Defaults: float32 for ``CANN1D``/``CANN2D``, float64
        for the adaptation models, whose resting bump is an unstable equilibrium when ``m > tau/tau_v``:
        round-off seeds the travelling wave, and float32's (1e-8 instead of 1e-16) starts it about twice
        as early (t = 24 instead of 46 in the travelling-wave preset)."""
        return self._precision

    @precision.setter
    def precision(self, value: str) -> None:
        self._precision = _check_precision(value)
        self._build_kernel()

    # -- parameters -------------------------------------------------------------------------------
    @classmethod
    def param_specs(cls) -> tuple[ParamSpec, ...]:
        """The model's parameter table (labels, units, ranges, live/structural)."""
        return MODEL_PARAMS[cls.model_type]

    @property
    def params(self) -> dict[str, float | int]:
        """All parameter values (a copy), defaults included."""
        return dict(self._params)

    def __getattr__(self, name: str) -> Any:
        params = self.__dict__.get("_params", {})
        if name in params:
            return params[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def dt(self) -> float:
        """Euler step size; set by the task (``time_step``) or explicitly."""
        return self._dt

    @dt.setter
    def dt(self, value: float) -> None:
        self._dt = check_step(value, self._params["tau"], self._params.get("tau_v"))

    def set_params(self, **changes: Any) -> set[str]:
        """Change parameters; return the names that were structural (grid or connectivity rebuilt).

        Live parameters (``k``, ``A``, ``tau``, ``m``, ``tau_v``) apply at the next step. Changing
        ``a`` or ``J0`` rebuilds the connectivity and keeps the state; changing ``num``/``length``,
        ``z_min`` or ``z_max`` rebuilds the grid and resamples the state onto it (the bump survives).
        """
        new = validate_params(self.model_type, {**self._params, **changes})
        check_step(self._dt, new["tau"], new.get("tau_v"))
        changed = {name for name in changes if new[name] != self._params[name]}
        structural = changed - LIVE_PARAMS
        old_x, old_range, old_state = self.x, self.z_range, (self.u, self.v)
        self._params = new
        if structural:
            self._build()
            if structural & {self.size_param, "z_min", "z_max"}:
                self.u, self.v = (cache_aligned(self._resample(old_x, old_range, s)) for s in old_state)
                self.inp = aligned_zeros(self.shape)
                self.r = aligned_zeros(self.shape)
                _kernels._rate(self.u.reshape(-1), self.k, self.r.reshape(-1))
        return structural

    # -- grid and connectivity --------------------------------------------------------------------
    def _build(self) -> None:
        p = self._params
        self.num = p[self.size_param]
        self.z_range = p["z_max"] - p["z_min"]
        self.x = feature_space(self.num, p["z_min"], p["z_max"], endpoint=p["endpoint"])
        self.rho = self.num / self.z_range
        self.dx = self.z_range / self.num
        self.shape = (self.num,) * self.ndim
        self._build_kernel()
        self.decoder = Decoder(self.x, p["z_min"], p["z_max"], endpoint=p["endpoint"])
        self.__dict__.pop("conn_mat", None)

    def _build_kernel(self) -> None:
        p = self._params
        dtype, rtol = PRECISIONS[self._precision]
        self.kernel = ModalKernel.build(self.num, p["a"], self.z_range, endpoint=p["endpoint"], rtol=rtol,
                                        dtype=dtype)

    @cached_property
    def conn_mat(self) -> np.ndarray:
        """Dense recurrent weight matrix (``num²`` or ``L⁴`` entries: built only when asked for)."""
        build = conn_mat_1d if self.ndim == 1 else conn_mat_2d
        return build(self.x, self.J0, self.a, self.z_range)

    @property
    def peak_weight(self) -> float:
        """Largest recurrent weight ``J0 / (√(2π) a)``."""
        return peak_weight(self.J0, self.a)

    @property
    def k_c(self) -> float:
        """Critical inhibition ``ρ J0² / (8 √(2π) a)``: a bump persists without input only if k < k_c."""
        return self.rho * self.J0**2 / (8.0 * math.sqrt(2.0 * math.pi) * self.a)

    # -- state ------------------------------------------------------------------------------------
    def init_state(self) -> None:
        """Reset ``u``, ``r``, ``inp`` (and ``v``) to zero, as canns does (new arrays, on cache lines)."""
        self.u = aligned_zeros(self.shape)
        self.r = aligned_zeros(self.shape)
        self.inp = aligned_zeros(self.shape)
        self.v = aligned_zeros(self.shape)

    reset = reset_state = init_state

    def _resample(self, old_x: np.ndarray, period: float, state: np.ndarray) -> np.ndarray:
        """Periodic linear interpolation of a state from the old grid onto ``self.x``."""
        out = state
        for axis in range(self.ndim):
            moved = np.moveaxis(out, axis, -1)
            resampled = np.apply_along_axis(
                lambda row: np.interp(self.x, old_x, row, period=period), -1, moved
            )
            out = np.moveaxis(resampled, -1, axis)
        return np.ascontiguousarray(out)

    def get_stimulus_by_pos(self, pos: float | tuple[float, float]) -> np.ndarray:
        """External input ``A · exp(-¼ wrap(x − pos)² / a²)`` for a stimulus at ``pos``."""
        if self.ndim == 1:
            return self.A * stimulus_profile(self.x, float(np.asarray(pos).reshape(-1)[0]), self.a,
                                             self.z_range)
        px, py = np.asarray(pos, float).reshape(2)
        ex = stimulus_profile(self.x, px, self.a, self.z_range)
        ey = stimulus_profile(self.x, py, self.a, self.z_range)
        return self.A * ey[:, None] * ex[None, :]

    def update(self, inp: np.ndarray | None = None) -> None:
        """Advance one step of ``dt`` with the external input ``inp`` (zeros if ``None``)."""
        inp = np.zeros(self.shape) if inp is None else np.asarray(inp, dtype=np.float64)
        if inp.shape != self.shape:
            raise ConfigError(f"input has shape {inp.shape}, the network has {self.shape}",
                              param="inp")
        from .simulation import Simulation  # one stepping path for every caller

        sim = Simulation(self, None, record="none")
        sim.step_with_input(inp)

    __call__ = update

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:g}" for k, v in self._params.items())
        return f"{type(self).__name__}({shown})"


class CANN1D(BaseCANN):
    """Ring attractor of ``num`` neurons (canns' ``CANN1D``).

    Parameters
    ----------
    num : int
        Number of neurons on the ring.
    tau, k, a, A, J0, z_min, z_max : float
        As in canns: time constant (1.0), global inhibition (8.1), connection half-width (0.5), stimulus
        amplitude (10), connection strength (4.0), feature space (−π, π).
    dt : float
        Euler step (normally set by the task's ``time_step``).
    precision : {"float32", "float64"}, optional
        Precision of the recurrent product (the state is float64 either way): float32 (the default here)
        keeps ``u`` within ~1e-8 of the float64 dense equations, float64 within ~1e-14.

    Examples
    --------
    >>> from canns_engine import CANN1D, SmoothTracking1D, simulate
    >>> model = CANN1D(num=128)
    >>> task = SmoothTracking1D(cann_instance=model, Iext=(0.0, 1.0), duration=(5.0,),
    ...                         time_step=0.05)
    >>> rec = simulate(model, task)
    >>> rec.u.shape
    (100, 128)
    """

    model_type = "CANN1D"

    def __init__(self, num: int, **params: Any) -> None:
        super().__init__(num, **params)


class CANN1D_SFA(CANN1D):
    """Ring attractor with spike-frequency adaptation ``v`` (canns' ``CANN1D_SFA``).

    Extra parameters: ``tau_v`` (50) and ``m`` (0.3); defaults ``a = 0.3``, ``A = 0.2``, ``J0 = 1``.
    The bump travels on its own when ``m > tau / tau_v`` (if a bump exists, i.e. ``k < k_c``).
    """

    model_type = "CANN1D_SFA"
    sfa = True
    default_precision = "float64"  # round-off seeds the travelling wave: see BaseCANN.precision


class CANN2D(BaseCANN):
    """Torus attractor of ``length × length`` neurons (canns' ``CANN2D``); neuron ``(i, j)`` sits at
    ``(x[j], x[i])``. Same parameters and defaults as :class:`CANN1D`."""

    model_type = "CANN2D"
    ndim = 2
    size_param = "length"

    def __init__(self, length: int, **params: Any) -> None:
        super().__init__(length, **params)


class CANN2D_SFA(CANN2D):
    """Torus attractor with adaptation (canns' ``CANN2D_SFA``); defaults as :class:`CANN1D_SFA`."""

    model_type = "CANN2D_SFA"
    sfa = True
    default_precision = "float64"  # round-off seeds the travelling wave: see BaseCANN.precision


MODELS: dict[str, type[BaseCANN]] = {
    cls.model_type: cls for cls in (CANN1D, CANN1D_SFA, CANN2D, CANN2D_SFA)
}
"""Model classes by name, for session files and the GUI."""


def make_model(model_type: str, params: dict[str, Any], *, dt: float = DEFAULT_DT,
               precision: str | None = None) -> BaseCANN:
    """Build a model from its name and a parameter dict (as stored in a session manifest)."""
    if model_type not in MODELS:
        raise ConfigError(f"unknown model {model_type!r}; choose one of {', '.join(MODELS)}",
                          param="model")
    cls = MODELS[model_type]
    params = dict(params)
    if cls.size_param not in params:
        params[cls.size_param] = next(p.default for p in cls.param_specs()
                                      if p.name == cls.size_param)
    return cls(params.pop(cls.size_param), dt=dt, precision=precision, **params)
