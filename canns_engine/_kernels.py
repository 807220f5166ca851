"""Compiled step loops of the basic CANNs: arrays and scalars in, state arrays updated in place.

One call advances the network by a chunk of steps, building each step's input from the stimulus
position and amplitude, recording every ``rec_every``-th state and its summary. All loops release the GIL
(``nogil=True``) so a GUI keeps drawing while a worker thread runs them.

Update order (canns, forward Euler): ``r = u² / (1 + k Σu²)`` from the old ``u``; ``Irec = W r``;
``u += dt/τ (−u + Irec + inp [− v])``; for SFA ``v += dt/τ_v (−v + m u)`` with the new ``u``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .analysis import summarize_1d, summarize_2d, wrap_scalar


@njit(cache=True, nogil=True)
def _profile_1d(x, pos, a, z_range, out):
    """Unit input bump ``exp(-¼ wrap(x - pos)² / a²)``."""
    c = 0.25 / (a * a)
    for j in range(x.shape[0]):
        d = wrap_scalar(x[j] - pos, z_range)
        out[j] = math.exp(-c * d * d)


@njit(cache=True, nogil=True)
def _rate(u, k, r):
    """``r = u² / (1 + k Σu²)`` on flat views; returns ``Σu²`` (non-finite once diverged)."""
    s2 = 0.0
    for j in range(u.shape[0]):
        s2 += u[j] * u[j]
    norm = 1.0 / (1.0 + k * s2)
    for j in range(u.shape[0]):
        r[j] = u[j] * u[j] * norm
    return s2


@njit(cache=True, nogil=True)
def _recurrent_1d(r, basis, weight, peak, coef, out):
    """``out = peak · Bᵀ diag(weight) B r``: the circulant product in its Fourier basis."""
    modes, num = basis.shape
    for q in range(modes):
        acc = 0.0
        for j in range(num):
            acc += basis[q, j] * r[j]
        coef[q] = acc * weight[q] * peak
    out[:] = 0.0
    for q in range(modes):
        c = coef[q]
        for j in range(num):
            out[j] += c * basis[q, j]


@njit(cache=True, nogil=True)
def _recurrent_2d(r, basis, weight, peak, yt, t, zt, out):
    """``out = peak · K R K`` with ``K = Bᵀ diag(weight) B`` (the separable 2D kernel)."""
    modes, length = basis.shape
    for q in range(modes):  # Yt = B Rᵀ  (Yt[q, i] = Σ_j B[q, j] R[i, j])
        for i in range(length):
            acc = 0.0
            for j in range(length):
                acc += basis[q, j] * r[i, j]
            yt[q, i] = acc
    for p in range(modes):  # T = B Yᵀ, scaled by the eigenvalues
        for q in range(modes):
            acc = 0.0
            for i in range(length):
                acc += basis[p, i] * yt[q, i]
            t[p, q] = acc * weight[p] * weight[q] * peak
    zt[:, :] = 0.0  # Zt[q, i] = Σ_p T[p, q] B[p, i]
    for p in range(modes):
        for q in range(modes):
            c = t[p, q]
            for i in range(length):
                zt[q, i] += c * basis[p, i]
    out[:, :] = 0.0  # out[i, j] = Σ_q Zt[q, i] B[q, j]
    for i in range(length):
        for q in range(modes):
            c = zt[q, i]
            for j in range(length):
                out[i, j] += c * basis[q, j]


@njit(cache=True, nogil=True)
def _euler(u, v, irec, inp, dt_tau, dt_tau_v, m, sfa):
    """One forward-Euler step of ``u`` (and of ``v`` from the new ``u`` for SFA) on flat views."""
    for j in range(u.shape[0]):
        du = -u[j] + irec[j] + inp[j]
        if sfa:
            du -= v[j]
        u[j] += dt_tau * du
        if sfa:
            v[j] += dt_tau_v * (-v[j] + m * u[j])


@njit(cache=True, nogil=True)
def run_1d(u, v, r, inp, basis, weight, peak, k, dt_tau, dt_tau_v, m, sfa,
           x, a, z_range, stim_pos, stim_amp, noise, step0, rec_every,
           out_u, out_v, out_inp, out_sum, dec_cos, dec_sin, dec_w, z_min, dx):
    """Advance a ring by ``len(stim_pos)`` steps.

    Returns ``(recorded, bad)``: the number of rows written to the outputs and the index (within the
    chunk) of the first step whose state was non-finite, or -1.
    """
    num = u.shape[0]
    coef = np.empty(basis.shape[0])
    irec = np.empty(num)
    prof = np.zeros(num)
    prof_pos = np.nan
    recorded = 0
    for i in range(stim_pos.shape[0]):
        amp = stim_amp[i]
        pos = stim_pos[i]
        if amp != 0.0 and pos != prof_pos:
            _profile_1d(x, pos, a, z_range, prof)
            prof_pos = pos
        for j in range(num):
            inp[j] = amp * prof[j] if amp != 0.0 else 0.0
        if noise.shape[0] > 0:
            for j in range(num):
                inp[j] += noise[i, j]
        s2 = _rate(u, k, r)
        if not math.isfinite(s2):
            return recorded, i
        _recurrent_1d(r, basis, weight, peak, coef, irec)
        _euler(u, v, irec, inp, dt_tau, dt_tau_v, m, sfa)
        if (step0 + i + 1) % rec_every == 0:
            if out_u.shape[0] > 0:
                out_u[recorded] = u
                out_inp[recorded] = inp
                if sfa:
                    out_v[recorded] = v
            rnow = np.empty(num)
            _rate(u, k, rnow)
            summarize_1d(u, rnow, pos if amp != 0.0 else np.nan, dec_cos, dec_sin, dec_w,
                         x, z_min, z_range, dx, out_sum[recorded])
            recorded += 1
    return recorded, -1


@njit(cache=True, nogil=True)
def run_2d(u, v, r, inp, basis, weight, peak, k, dt_tau, dt_tau_v, m, sfa,
           x, a, z_range, stim_pos, stim_amp, noise, step0, rec_every,
           out_u, out_v, out_inp, out_sum, dec_cos, dec_sin, dec_w, z_min, dx):
    """Advance an ``L × L`` sheet by ``len(stim_pos)`` steps; ``stim_pos`` has shape ``(steps, 2)``.

    Neuron ``(i, j)`` sits at ``(x[j], x[i])``; the input is the separable product of two 1D bumps.
    Returns ``(recorded, bad)`` as :func:`run_1d`.
    """
    length = u.shape[0]
    size = length * length
    modes = basis.shape[0]
    yt = np.empty((modes, length))
    t = np.empty((modes, modes))
    zt = np.empty((modes, length))
    irec = np.empty((length, length))
    ex = np.zeros(length)
    ey = np.zeros(length)
    prof_x = np.nan
    prof_y = np.nan
    recorded = 0
    for s in range(stim_pos.shape[0]):
        amp = stim_amp[s]
        px = stim_pos[s, 0]
        py = stim_pos[s, 1]
        if amp != 0.0 and (px != prof_x or py != prof_y):
            _profile_1d(x, px, a, z_range, ex)
            _profile_1d(x, py, a, z_range, ey)
            prof_x = px
            prof_y = py
        for i in range(length):
            for j in range(length):
                inp[i, j] = amp * ey[i] * ex[j] if amp != 0.0 else 0.0
        if noise.shape[0] > 0:
            inp += noise[s]
        s2 = _rate(u.reshape(size), k, r.reshape(size))
        if not math.isfinite(s2):
            return recorded, s
        _recurrent_2d(r, basis, weight, peak, yt, t, zt, irec)
        _euler(u.reshape(size), v.reshape(size), irec.reshape(size), inp.reshape(size),
               dt_tau, dt_tau_v, m, sfa)
        if (step0 + s + 1) % rec_every == 0:
            if out_u.shape[0] > 0:
                out_u[recorded] = u
                out_inp[recorded] = inp
                if sfa:
                    out_v[recorded] = v
            rnow = np.empty((length, length))
            _rate(u.reshape(size), k, rnow.reshape(size))
            off = amp == 0.0
            summarize_2d(u, rnow, np.nan if off else px, np.nan if off else py,
                         dec_cos, dec_sin, dec_w, z_min, z_range, dx, out_sum[recorded])
            recorded += 1
    return recorded, -1
