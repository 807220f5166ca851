"""Read-outs of a bump: decoded position, width, height, tracking error, lag, total activity.

The per-state functions are compiled (``@njit``) because the simulation kernels call them at every
recorded step (so summaries cost no extra pass and need no stored activity); the public functions apply
them to whole recordings, ``(..., num)`` for 1D and ``(..., L, L)`` for 2D. The small ones are inlined
into their callers (numba IR, ``inline="always"``) instead of compiled as functions of their own: a
first-ever ring compile 0.3–0.6 s shorter (5.0–5.7 s → 4.7–5.4 s, alternating fresh processes), and a
ring recording a summary at every step 5–7 % faster (no calls per state).

Decoders
--------
* circular population vector (default): ``angle(Σ u⁺_j e^{iθ_j})`` mapped back to the feature space; it
  is correct across the ±π seam. On canns' endpoint-included grid the first and last neuron share one
  angle, so each counts half.
* centre of mass ``Σ u_j x_j / Σ u_j`` (what the canns tutorial plots); biased near the seam.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._flags import LOOP

helper = njit(cache=True, nogil=True, inline="always")
"""The decorator of the small per-state helpers: compiled into each caller."""



def summary(**options):
    """The decorator of the per-state summaries (they keep the GIL: called per snapshot, a release costs
    more than it saves). Compiled with the step loop's flags, because the loop calls them too
    (:mod:`canns_engine._flags` says why)."""
    return njit(cache=True, **LOOP, **options)

WIDTH_FRACTION = 0.1
"""Neurons above this fraction of the peak count towards the bump width."""

SUMMARY_FIELDS_1D = (
    "stim_pos", "decoded_pos", "decoded_com", "error", "bump_height", "bump_width",
    "total_activity",
)
SUMMARY_FIELDS_2D = (
    "stim_x", "stim_y", "decoded_x", "decoded_y", "error", "bump_height", "bump_width",
    "total_activity",
)
"""Columns of the per-step summary table, in kernel order. ``stim_*`` and ``error`` are NaN while no
stimulus is on; ``error`` is the wrapped distance |decoded − stimulus|."""


class Decoder:
    """Precomputed angles and weights of a grid for the population-vector decoder."""

    def __init__(self, x: np.ndarray, z_min: float, z_max: float, *, endpoint: bool = True) -> None:
        self.z_min = float(z_min)
        self.z_range = float(z_max - z_min)
        theta = 2.0 * np.pi * (x - z_min) / self.z_range
        self.cos = np.cos(theta)
        self.sin = np.sin(theta)
        self.weight = np.ones_like(x)
        if endpoint:
            self.weight[0] = self.weight[-1] = 0.5
        self.x = x
        self.dx = self.z_range / len(x)


@helper
def wrap_scalar(d, z_range):
    """Periodic difference into ``(-z_range/2, z_range/2]`` (canns' convention).

    ``d % z_range`` (a call of ``fmod``: 3 % of a 128-neuron ring's step, which wraps the input bump's
    offset every step) is done without the call for ``-z_range ≤ d < z_range``, with the same bits:
    there ``fmod`` returns ``d`` and Python's ``%`` adds ``z_range`` to a negative remainder."""
    if 0.0 < d < z_range:
        m = d
    elif -z_range <= d < 0.0:
        m = d + z_range
    else:
        m = d % z_range
    if m > z_range / 2:
        m -= z_range
    return m


@helper
def _pv_angle(u, cos_t, sin_t, weight):
    c = 0.0
    s = 0.0
    for j in range(u.shape[0]):
        if u[j] > 0.0:
            c += weight[j] * u[j] * cos_t[j]
            s += weight[j] * u[j] * sin_t[j]
    if c == 0.0 and s == 0.0:
        return np.nan
    return math.atan2(s, c)


@helper
def angle_to_position(angle, z_min, z_range):
    """Map an angle on the circle back to ``[z_min, z_min + z_range)``."""
    return z_min + (z_range * angle / (2.0 * math.pi)) % z_range


@helper
def decode_pv_1d(u, cos_t, sin_t, weight, z_min, z_range):
    """Population-vector position of one 1D state (NaN when nothing is active)."""
    return angle_to_position(_pv_angle(u, cos_t, sin_t, weight), z_min, z_range)


@helper
def decode_com_1d(u, x):
    """Centre of mass ``Σ u x / Σ u`` of one 1D state, exactly as the canns tutorial computes it."""
    num = 0.0
    den = 0.0
    for j in range(u.shape[0]):
        num += u[j] * x[j]
        den += u[j]
    return num / den if den != 0.0 else np.nan


@helper
def _peak(u):
    """``(max, argmax)`` of a 1D state as numpy gives them (NaN wins); a loop compiles much faster."""
    best = -np.inf
    where = 0
    for j in range(u.shape[0]):
        if best == best and (u[j] > best or u[j] != u[j]):
            best = u[j]
            where = j
    return best, where


@helper
def bump_width_1d(u, dx):
    """Width: the number of neurons above ``WIDTH_FRACTION`` of the peak, times the spacing."""
    return _width_below_peak(u, _peak(u)[0], dx)


@helper
def _width_below_peak(u, peak, dx):
    """:func:`bump_width_1d` of ``u`` whose peak is known."""
    if peak <= 0.0:
        return 0.0
    count = 0
    for j in range(u.shape[0]):
        if u[j] > WIDTH_FRACTION * peak:
            count += 1
    return count * dx


@summary()
def summarize_1d(u, total_r, stim_pos, cos_t, sin_t, weight, x, z_min, z_range, dx, out):
    """Fill ``out`` (``SUMMARY_FIELDS_1D``) for one state whose total rate ``Σ r`` is ``total_r`` (the
    caller has it from ``Σu²``); ``stim_pos`` is NaN when no input is on."""
    decoded = decode_pv_1d(u, cos_t, sin_t, weight, z_min, z_range)
    peak = _peak(u)[0]
    out[0] = stim_pos
    out[1] = decoded
    out[2] = decode_com_1d(u, x)
    out[3] = abs(wrap_scalar(decoded - stim_pos, z_range))
    out[4] = peak
    out[5] = _width_below_peak(u, peak, dx)
    out[6] = total_r


@summary()
def summarize_2d(u, total_r, stim_x, stim_y, cos_t, sin_t, weight, z_min, z_range, dx, marginals, out):
    """Fill ``out`` (``SUMMARY_FIELDS_2D``) for one ``L × L`` state whose total rate is ``total_r``.

    The centre is decoded per axis from the marginals; the width is that of the row through the peak.
    The marginals are summed in any order (``reassoc``: the loop over a row vectorises; a recorded
    summary is float32 anyway) of the positive part, without a branch. ``marginals`` (``2 × L``) is
    scratch, passed in because the compiled step loop calling this cannot allocate
    (:data:`canns_engine._flags.NO_NRT`).
    """
    length = u.shape[0]
    col = marginals[0]  # activity per column j: the x marginal
    row = marginals[1]  # activity per row i: the y marginal
    for j in range(length):
        col[j] = 0.0
    for i in range(length):
        total = 0.0
        for j in range(length):
            positive = u[i, j] if u[i, j] > 0.0 else 0.0  # NaN counts as nothing, as before
            col[j] += positive
            total += positive
        row[i] = total
    dec_x = decode_pv_1d(col, cos_t, sin_t, weight, z_min, z_range)
    dec_y = decode_pv_1d(row, cos_t, sin_t, weight, z_min, z_range)
    flat = u.reshape(length * length)
    peak, where = _peak(flat)
    peak_row = where // length
    ex = wrap_scalar(dec_x - stim_x, z_range)
    ey = wrap_scalar(dec_y - stim_y, z_range)
    out[0] = stim_x
    out[1] = stim_y
    out[2] = dec_x
    out[3] = dec_y
    out[4] = math.sqrt(ex * ex + ey * ey)
    out[5] = peak
    out[6] = bump_width_1d(u[peak_row], dx)
    out[7] = total_r


@njit(cache=True, nogil=True)
def _rows_pv(us, cos_t, sin_t, weight, z_min, z_range):
    out = np.empty(us.shape[0])
    for t in range(us.shape[0]):
        out[t] = decode_pv_1d(us[t], cos_t, sin_t, weight, z_min, z_range)
    return out


@njit(cache=True, nogil=True)
def _rows_com(us, x):
    out = np.empty(us.shape[0])
    for t in range(us.shape[0]):
        out[t] = decode_com_1d(us[t], x)
    return out


@njit(cache=True, nogil=True)
def _rows_width(us, dx):
    out = np.empty(us.shape[0])
    for t in range(us.shape[0]):
        out[t] = bump_width_1d(us[t], dx)
    return out


def _rows(u: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    u = np.asarray(u, dtype=np.float64)
    return np.ascontiguousarray(u.reshape(-1, u.shape[-1])), u.shape[:-1]


def decode_population_vector(u: np.ndarray, x: np.ndarray, z_min: float = -math.pi,
                             z_max: float = math.pi, *, endpoint: bool = True) -> np.ndarray:
    """Circular population-vector position of each 1D state in ``u`` (shape ``(..., num)``).

    Examples
    --------
    >>> x = np.linspace(-np.pi, np.pi, 64)
    >>> float(np.round(decode_population_vector(np.exp(4 * np.cos(x - 3.0)), x), 3))
    3.0
    """
    dec = Decoder(np.asarray(x, float), z_min, z_max, endpoint=endpoint)
    rows, shape = _rows(u)
    return _rows_pv(rows, dec.cos, dec.sin, dec.weight, dec.z_min, dec.z_range).reshape(shape)


def decode_center_of_mass(u: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Centre of mass ``Σ u x / Σ u`` of each 1D state (the canns tutorial's decoder)."""
    rows, shape = _rows(u)
    return _rows_com(rows, np.asarray(x, float)).reshape(shape)


def decode_2d(u: np.ndarray, x: np.ndarray, z_min: float = -math.pi, z_max: float = math.pi, *,
              endpoint: bool = True) -> np.ndarray:
    """Population-vector centre ``(x, y)`` of each ``L × L`` state in ``u`` (shape ``(..., L, L)``)."""
    u = np.maximum(np.asarray(u, float), 0.0)
    cols = decode_population_vector(u.sum(axis=-2), x, z_min, z_max, endpoint=endpoint)
    rows = decode_population_vector(u.sum(axis=-1), x, z_min, z_max, endpoint=endpoint)
    return np.stack([cols, rows], axis=-1)


def bump_width(u: np.ndarray, dx: float) -> np.ndarray:
    """Width of each 1D state: neurons above 10 % of the peak times the spacing ``dx``."""
    rows, shape = _rows(u)
    return _rows_width(rows, float(dx)).reshape(shape)


def bump_height(u: np.ndarray) -> np.ndarray:
    """Peak activity of each state (last axis, or last two axes for 2D when ``u.ndim > 2``)."""
    return np.asarray(u).max(axis=-1)


def total_activity(r: np.ndarray) -> np.ndarray:
    """Summed firing rate of each 1D state."""
    return np.asarray(r).sum(axis=-1)


def tracking_error(decoded: np.ndarray, stimulus: np.ndarray, z_range: float = 2 * math.pi
                   ) -> np.ndarray:
    """Wrapped distance between decoded and stimulus positions (``(..., 2)`` arrays for 2D)."""
    d = np.remainder(np.asarray(decoded) - np.asarray(stimulus), z_range)
    d = np.where(d > z_range / 2, d - z_range, d)
    return np.sqrt(np.square(d).sum(axis=-1)) if d.ndim > 1 and d.shape[-1] == 2 else np.abs(d)


def tracking_lag(decoded: np.ndarray, stimulus: np.ndarray, dt: float, *,
                 max_lag: float | None = None, z_range: float = 2 * math.pi) -> float:
    """Time shift (positive: the bump trails the stimulus) that best aligns decoded and stimulus.

    Minimises the mean wrapped error between ``decoded[t]`` and ``stimulus[t - lag]`` over whole steps
    up to ``max_lag`` (default: a quarter of the recording). NaN entries are ignored.
    """
    decoded = np.asarray(decoded, float)
    stimulus = np.asarray(stimulus, float)
    n = len(decoded)
    limit = n // 4 if max_lag is None else min(n - 1, round(max_lag / dt))
    best, best_err = 0, np.inf
    for shift in range(-limit, limit + 1):
        if shift >= 0:
            err = tracking_error(decoded[shift:], stimulus[: n - shift], z_range)
        else:
            err = tracking_error(decoded[:shift], stimulus[-shift:], z_range)
        mean = np.nanmean(err) if np.isfinite(err).any() else np.inf
        if mean < best_err:
            best, best_err = shift, mean
    return best * dt
