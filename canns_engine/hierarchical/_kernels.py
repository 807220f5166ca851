"""Numba step kernels of the hierarchical network: arrays and scalars in, state mutated in place.

Every step kernel is ``@njit(cache=True, nogil=True)`` so that a worker thread can run it while the GUI
thread keeps the GIL; the per-state :func:`readout` keeps the GIL instead (a worker that releases it must
win it back from a busy GUI thread, which takes longer than the read-out). The heavy loops are AXPYs
over contiguous memory, which LLVM vectorises without ``fastmath`` (only the readout's dot product allows
reassociation, in an order fixed per build); results are reproducible bit for bit on a given machine,
whatever the chunking of a run.

Notation follows canns (HIERARCHICAL.md): a network has M modules; module m owns bands b = 3m, 3m + 1 and
3m + 2 (directions θ, θ + 60°, θ + 120°) and one grid sheet of n × n neurons.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

TWO_PI = 2.0 * math.pi
HEX_Y = 2.0 / math.sqrt(3.0)


class RingConsts(NamedTuple):
    """Constants of all band rings (B = 3M rings of N neurons, Fourier modes 0..K; nm = K + 1).

    ``proj`` (N, 2nm) projects a ring onto raw sums [Σ f cos(m x) | Σ f sin(m x)]; ``synth`` (2nm, N)
    synthesises a ring from weighted coefficients; ``lam_*`` (2, nm) are operator eigenvalues (real,
    imaginary) pre-multiplied by the synthesis weights.
    """

    x: np.ndarray
    proj: np.ndarray
    synth: np.ndarray
    lam_rec: np.ndarray
    lam_left: np.ndarray
    lam_right: np.ndarray
    proj_k: np.ndarray  # (B, 2) wave vector of each band
    dt_tau: float  # dt / gauss_tau
    dt_tau_s: float  # dt / nonrec_tau
    k: float  # gauss_k
    a: float  # gauss_a
    w_L2S: float
    gain: float
    noise: float  # band_noise σ


class RingState(NamedTuple):
    """Band-ring state: u and r (B, N); raw Fourier sums of r and of the shifters' u (B, 2nm); Σu² (B);
    decoded band phase ``centre`` (B)."""

    u: np.ndarray
    r: np.ndarray
    r_sum: np.ndarray
    s_sum: np.ndarray
    usq: np.ndarray
    centre: np.ndarray


class SheetConsts(NamedTuple):
    """Constants of the grid sheets (n × n neurons; H = n//2 + 1 column frequencies).

    The DFT matrices are those of ``_connectivity.GridOperator``; the transform runs on all modules at once.
    """

    px: np.ndarray  # (n²,) phase components of each neuron
    py: np.ndarray
    cos_px: np.ndarray
    sin_px: np.ndarray
    cos_py: np.ndarray
    sin_py: np.ndarray
    col_fwd: np.ndarray  # (2H, n)
    row_fwd: np.ndarray  # (2, 2n, 2n): two sparse factors
    spectrum: np.ndarray  # (2, n, H)
    row_inv: np.ndarray  # (2, 2n, 2n)
    col_inv: np.ndarray  # (n, 2H)
    fix_row: np.ndarray
    fix_col: np.ndarray
    fix_val: np.ndarray
    n: int
    decay_u: float  # 1 − exp(−dt/tau)
    decay_v: float  # 1 − exp(−dt/tau_v)
    m: float  # mbar·tau/tau_v
    k: float  # grid_k
    a_in: float  # width of the band→grid input (gauss_a, as in canns)
    amp_in: float  # 5000·grid_A/(√(2π)·gauss_a): peak of the band→grid input
    h: float  # lattice spacing 2π/n
    input_table: np.ndarray  # (2o + 1, 2o + 1) exp(−γh²(m² − ml + l²)), or (0, 0): see _sheet_input


class SheetState(NamedTuple):
    """Grid-sheet state: u, v, r (M, n²) and the thresholded bump centre (M, 2)."""

    u: np.ndarray
    v: np.ndarray
    r: np.ndarray
    centre: np.ndarray


class Readout(NamedTuple):
    """Grid→place readout: canns' Wg2p of all modules side by side, ``w`` (P, M·n²), and its transpose in
    float32, ``w_t32`` (for the bounding pass); ``w_max`` is its largest weight; ``centres`` (P, 2)."""

    w: np.ndarray
    w_t32: np.ndarray
    w_max: float
    centres: np.ndarray


# Grid rates below this fraction of their module's peak enter the readout's first, bounding pass only
# through their total (see ``readout``).
READOUT_CORE = 0.1


@njit(cache=True, nogil=True)
def wrap_r(d):
    """canns' ring distance: floor-mod 2π, then (π, 2π) → (−π, 0]."""
    d = d % TWO_PI
    return d - TWO_PI if d > math.pi else d


@njit(cache=True, nogil=True)
def map2pi(a):
    """canns' single-shift wrap into [−π, π]."""
    if a > math.pi:
        a -= TWO_PI
    if a < -math.pi:
        a += TWO_PI
    return a


@njit(cache=True, nogil=True)
def _project(f, proj, out, scale):
    """out += scale·(raw Fourier sums of f)."""
    for j in range(f.shape[0]):
        fj = scale * f[j]
        for q in range(out.shape[0]):
            out[q] += fj * proj[j, q]


@njit(cache=True, nogil=True)
def _apply_spectrum(lam, f_sum, out):
    """out (weighted coefficients) += operator with eigenvalues lam applied to raw sums f_sum."""
    nm = lam.shape[1]
    for q in range(nm):
        fa = f_sum[q]
        fb = f_sum[nm + q]
        out[q] += lam[0, q] * fa + lam[1, q] * fb
        out[nm + q] += lam[0, q] * fb - lam[1, q] * fa


@njit(cache=True, nogil=True)
def _ring_step(b, rc, rs, v_phi, loc_phase, strength, xi, work):
    """One step of band b (canns ``BandCell.update``), in the Fourier form of its circulant operators.

    The left and right shifters receive the same input w_L2S·r_b and start at u = 0, so their u is one
    state, kept as raw Fourier sums ``s_sum``; with dt ≤ nonrec_tau it stays ≥ 0 and relu is the identity.
    Their rates are the old u (plus σξ when ``xi`` is not empty), scaled by gain ± v_φ.
    """
    nm2 = rs.r_sum.shape[1]
    n = rs.u.shape[1]
    lsum, rsum, coef, drive = work[0, :nm2], work[1, :nm2], work[2, :nm2], work[3, :n]
    g_left = rc.gain + v_phi
    g_right = rc.gain - v_phi
    for q in range(nm2):
        s_old = rs.s_sum[b, q]
        lsum[q] = g_left * s_old
        rsum[q] = g_right * s_old
        rs.s_sum[b, q] = s_old + (-s_old + rc.w_L2S * rs.r_sum[b, q]) * rc.dt_tau_s
        rs.r_sum[b, q] = 0.0
        coef[q] = 0.0
    if xi.shape[0] > 0:
        _project(xi[0], rc.proj, lsum, g_left * rc.noise)
        _project(xi[1], rc.proj, rsum, g_right * rc.noise)
    # GaussRecUnits: the rate comes from the old u; Σu² was accumulated by the previous update.
    denom = 1.0 + rc.k * rs.usq[b]
    for j in range(n):
        rs.r[b, j] = rs.u[b, j] * rs.u[b, j] / denom
    _project(rs.r[b], rc.proj, rs.r_sum[b], 1.0)
    _apply_spectrum(rc.lam_rec, rs.r_sum[b], coef)
    _apply_spectrum(rc.lam_left, lsum, coef)
    _apply_spectrum(rc.lam_right, rsum, coef)
    drive[:] = 0.0
    for q in range(nm2):
        c = coef[q]
        for j in range(n):
            drive[j] += c * rc.synth[q, j]
    if strength != 0.0:
        for j in range(n):
            d = wrap_r(loc_phase - rc.x[j]) / rc.a
            drive[j] += strength * math.exp(-0.25 * d * d)
    usq = 0.0
    for j in range(n):
        u = rs.u[b, j] + (-rs.u[b, j] + drive[j]) * rc.dt_tau
        rs.u[b, j] = u
        usq += u * u
    rs.usq[b] = usq
    rs.centre[b] = math.atan2(rs.r_sum[b, nm2 // 2 + 1], rs.r_sum[b, 1])


@njit(cache=True, nogil=True)
def _matmul(a, b, out):
    """out = a·b, looping over out's contiguous rows innermost; zero entries of a are skipped."""
    out[:] = 0.0
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            aik = a[i, k]
            if aik != 0.0:
                for j in range(b.shape[1]):
                    out[i, j] += aik * b[k, j]


def sheet_work(n_mod, n):
    """Scratch arrays for :func:`sheet_recurrence` (plain Python: called once per run)."""
    h = n // 2 + 1
    return (np.empty((n, n_mod * n)), np.empty((2 * h, n_mod * n)), np.empty((2 * n, h * n_mod)),
            np.empty((2 * n, h * n_mod)), np.empty((2 * n, h * n_mod)))


@njit(cache=True, nogil=True)
def sheet_recurrence(sc, r, out, work):
    """out[m] = W_g·r[m] for every module m, on the n × n torus.

    A real 2-D DFT batched over modules (columns, then rows), multiplication by the kernel spectrum, the
    inverse transform, and the sparse half-torus correction. Between the matrix products the data are
    permuted so that every product's inner loop runs over all modules at once.
    """
    xc, p1, q1, z, tmp = work
    n_mod = r.shape[0]
    n = sc.n
    h = sc.spectrum.shape[2]
    for m in range(n_mod):
        for row in range(n):
            for col in range(n):
                xc[col, m * n + row] = r[m, row * n + col]
    _matmul(sc.col_fwd, xc, p1)  # [A; B] (2H, M·n): column sums with cos and sin
    for part in range(2):
        for q in range(h):
            for m in range(n_mod):
                for row in range(n):
                    q1[part * n + row, q * n_mod + m] = p1[part * h + q, m * n + row]
    _matmul(sc.row_fwd[0], q1, tmp)
    _matmul(sc.row_fwd[1], tmp, z)  # [Re; Im] (2n, H·M) of the 2-D spectrum
    for kr in range(n):
        for q in range(h):
            k_re = sc.spectrum[0, kr, q]
            k_im = sc.spectrum[1, kr, q]
            for m in range(n_mod):
                j = q * n_mod + m
                z_re = z[kr, j]
                z_im = z[n + kr, j]
                z[kr, j] = k_re * z_re - k_im * z_im
                z[n + kr, j] = k_re * z_im + k_im * z_re
    _matmul(sc.row_inv[0], z, tmp)
    _matmul(sc.row_inv[1], tmp, q1)
    for part in range(2):
        for row in range(n):
            for q in range(h):
                for m in range(n_mod):
                    p1[part * h + q, m * n + row] = q1[part * n + row, q * n_mod + m]
    _matmul(sc.col_inv, p1, xc)  # (n, M·n), indexed [col, m·n + row]
    for m in range(n_mod):
        for row in range(n):
            for col in range(n):
                out[m, row * n + col] = xc[col, m * n + row]
        for i in range(sc.fix_val.shape[0]):
            out[m, sc.fix_row[i]] += sc.fix_val[i] * r[m, sc.fix_col[i]]


@njit(cache=True, nogil=True)
def _sheet_input(sc, phi_x, phi_y, out, work, index):
    """Band→grid input: 5000·grid_A·g(hexdist((φx, φy), p_i); gauss_a) for every neuron i.

    hexdist² = (4/3)·Q(d0, d1) with Q = d0² − d0·d1 + d1², d0 = map2pi(φx − x[col]), d1 = map2pi(φy − x[row]).
    On the lattice d0 = e0 + h·m and d1 = e1 + h·l (integers m, l; |e| ≤ h/2), so
    exp(−γQ) = exp(−γQ(e0, e1))·exp(−γh(2e0 − e1)m)·exp(−γh(2e1 − e0)l)·table[l, m], γ = 2/(3a²):
    2n + 1 exponentials instead of n² (equal to rounding). Without a table (a kernel so narrow that the
    factors could overflow) every element is evaluated directly. ``work`` (4, n) and ``index`` (2, n) are
    scratch.
    """
    n = sc.n
    inv_a2 = 1.0 / (sc.a_in * sc.a_in)
    if sc.input_table.shape[0] == 0:
        for i in range(out.shape[0]):
            d0 = map2pi(phi_x - sc.px[i])
            dy = (map2pi(phi_y - sc.py[i]) - 0.5 * d0) * HEX_Y
            out[i] = sc.amp_in * math.exp(-0.5 * (d0 * d0 + dy * dy) * inv_a2)
        return
    d0, d1, f0, f1 = work[0], work[1], work[2], work[3]
    m_col, l_row = index[0], index[1]
    for j in range(n):
        d0[j] = map2pi(phi_x - sc.px[j])  # column j: phase x[j]
        d1[j] = map2pi(phi_y - sc.py[j * n])  # row j: phase x[j]
    e0 = d0[0] - sc.h * round(d0[0] / sc.h)
    e1 = d1[0] - sc.h * round(d1[0] / sc.h)
    gamma = 2.0 / 3.0 * inv_a2
    offset = sc.input_table.shape[0] // 2
    for j in range(n):
        m_col[j] = round((d0[j] - e0) / sc.h)
        l_row[j] = round((d1[j] - e1) / sc.h)
        f0[j] = math.exp(-gamma * sc.h * (2.0 * e0 - e1) * m_col[j])
        f1[j] = math.exp(-gamma * sc.h * (2.0 * e1 - e0) * l_row[j])
    base = sc.amp_in * math.exp(-gamma * (e0 * e0 - e0 * e1 + e1 * e1))
    for row in range(n):
        row_base = base * f1[row]
        table_row = sc.input_table[l_row[row] + offset]
        for col in range(n):
            out[row * n + col] = row_base * f0[col] * table_row[m_col[col] + offset]


@njit(cache=True, nogil=True)
def _sheet_step(mod, sc, ss, phi_x, phi_y, irec, inp, work, index):
    """One step of grid sheet ``mod`` (canns ``GridCell.update``) given its recurrent input W_g·r_old.

    The input is driven by band phases (φx, φy); exponential Euler of u and v from their old values, u
    rectified, r from the new u, centre of the rates above 0.1 of their peak. ``inp``, ``work`` and
    ``index`` are scratch.
    Returns Σu².
    """
    u = ss.u[mod]
    v = ss.v[mod]
    r = ss.r[mod]
    _sheet_input(sc, phi_x, phi_y, inp, work, index)
    usq = 0.0
    for i in range(u.shape[0]):
        u_old = u[i]
        u_new = max(u_old + sc.decay_u * (-u_old + irec[i] + inp[i] - v[i]), 0.0)
        v[i] += sc.decay_v * (-v[i] + sc.m * u_old)
        u[i] = u_new
        usq += u_new * u_new
    denom = 1.0 + sc.k * usq
    for i in range(u.shape[0]):
        r[i] = u[i] * u[i] / denom
    r_cut = 0.1 * np.max(r)
    cx = sx = cy = sy = 0.0
    for i in range(u.shape[0]):
        if r[i] > r_cut:
            cx += sc.cos_px[i] * r[i]
            sx += sc.sin_px[i] * r[i]
            cy += sc.cos_py[i] * r[i]
            sy += sc.sin_py[i] * r[i]
    ss.centre[mod, 0] = math.atan2(sx, cx)
    ss.centre[mod, 1] = math.atan2(sy, cy)
    return usq


@njit(cache=True, nogil=True, fastmath={"reassoc"})
def _dot(a, b):
    """Σ a·b, vectorised (the summation order is fixed for a given build, so results are reproducible)."""
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


@njit(cache=True)  # keeps the GIL: a per-state read-out, cheaper than winning the GIL back after a release
def readout(ro, grid_r, g, cand, decoded, place):
    """Place layer (canns ``HierarchicalNetwork.update`` steps 2–5) from the grid rates, exactly.

    G = Σ_modules Wg2p·r, U = G − max(G)/2 where G > max(G)/2 (else 0), decoded = Σ c·U / (1e-5 + Σ U), place
    rates U²/(1 + Σ U²). Only the few places above half-maximum matter, so G is first bounded: the rates
    of each module's bump core (≥ READOUT_CORE of its peak) give G̃ ≤ G, and the rest adds at most
    w_max·(their sum) =: ε to any place. Places with G̃ + ε below max(G̃)/2 ≤ max(G)/2 have U = 0; G is
    computed exactly, in float64, for the others (which include the maximum). G̃ uses float32 weights (half
    the memory traffic); their relative error ≤ 2⁻²⁴ widens both bounds by 2⁻²² to stay rigorous.
    ``g`` (P,) and ``cand`` (P,) are scratch; ``place`` may be empty to skip the place rates.
    """
    n_mod, n2 = grid_r.shape
    r = grid_r.reshape(-1)
    g[:] = 0.0
    rest = 0.0
    for m in range(n_mod):
        cut = READOUT_CORE * np.max(grid_r[m])
        for q in range(m * n2, (m + 1) * n2):
            rq = r[q]
            if rq > cut:
                for p in range(g.shape[0]):
                    g[p] += ro.w_t32[q, p] * rq
            else:
                rest += rq
    widen = 2.0**-22
    g_low = 0.5 * np.max(g) * (1.0 - widen)  # ≤ max(G)/2
    slack = ro.w_max * rest * (1.0 + widen)
    n_cand = 0
    exact_max = 0.0
    for p in range(g.shape[0]):
        if g[p] * (1.0 + widen) + slack >= g_low:
            g[p] = _dot(ro.w[p], r)
            exact_max = max(exact_max, g[p])
            cand[n_cand] = p
            n_cand += 1
    half = exact_max / 2.0
    sx = sy = su = su2 = 0.0
    for c in range(n_cand):
        p = cand[c]
        up = g[p] - half if g[p] > half else 0.0
        g[p] = up
        sx += ro.centres[p, 0] * up
        sy += ro.centres[p, 1] * up
        su += up
        su2 += up * up
    decoded[0] = sx / (1e-5 + su)
    decoded[1] = sy / (1e-5 + su)
    if place.shape[0] > 0:
        place[:] = 0.0
        for c in range(n_cand):
            p = cand[c]
            place[p] = g[p] * g[p] / (1.0 + su2)


class Network(NamedTuple):
    """Everything a run touches: constants, state and scratch of rings, sheets and readout."""

    rc: RingConsts
    rs: RingState
    sc: SheetConsts
    ss: SheetState
    sheet_work: tuple
    ro: Readout


class Record(NamedTuple):
    """Output rows of a run: band phases (R, B), grid centres (R, M, 2), decoded positions (R or 0, 2) and
    place rates (R or 0, P); empty arrays switch the readout (or just the place rates) off."""

    phase: np.ndarray
    centre: np.ndarray
    decoded: np.ndarray
    place: np.ndarray


@njit(cache=True, nogil=True)
def run(net, vel, loc, strength, noise, record_every, rec):
    """Advance the network len(vel) steps; return the index of the first non-finite step, or −1.

    Step t uses vel[t], loc[t] and strength[t] (canns ``HierarchicalNetwork.update``); ``noise`` is
    (T, B, 2, N) standard normals for the left/right shifters, or empty when band_noise is 0. Every
    ``record_every``-th step (t + 1 divisible) fills the next row of ``rec``.
    """
    rc, rs, sc, ss, ro = net.rc, net.rs, net.sc, net.ss, net.ro
    n_mod = ss.u.shape[0]
    n_band = rs.u.shape[0]
    ring_work = np.empty((4, max(rs.r_sum.shape[1], rs.u.shape[1])))
    irec = np.empty_like(ss.r)
    inp = np.empty(ss.r.shape[1])
    inp_work = np.empty((4, sc.n))
    inp_index = np.empty((2, sc.n), dtype=np.int64)
    g = np.empty(ro.centres.shape[0])
    cand = np.empty(ro.centres.shape[0], dtype=np.int64)
    no_xi = np.empty((0, rs.u.shape[1]))
    no_place = np.empty(0)
    row = 0
    for t in range(vel.shape[0]):
        finite = True
        for b in range(n_band):
            kx = rc.proj_k[b, 0]
            ky = rc.proj_k[b, 1]
            loc_phase = (loc[t, 0] * kx + loc[t, 1] * ky) % TWO_PI - math.pi
            xi = noise[t, b] if noise.shape[0] > 0 else no_xi
            _ring_step(b, rc, rs, vel[t, 0] * kx + vel[t, 1] * ky, loc_phase, strength[t], xi, ring_work)
            finite &= math.isfinite(rs.usq[b])
        sheet_recurrence(sc, ss.r, irec, net.sheet_work)
        for mod in range(n_mod):
            phi_x, phi_y = rs.centre[3 * mod], rs.centre[3 * mod + 1]
            usq = _sheet_step(mod, sc, ss, phi_x, phi_y, irec[mod], inp, inp_work, inp_index)
            finite &= math.isfinite(usq) and math.isfinite(ss.v[mod, 0])
        if not finite:
            return t
        if (t + 1) % record_every == 0:
            rec.phase[row] = rs.centre
            rec.centre[row] = ss.centre
            if rec.decoded.shape[0] > 0:
                place = rec.place[row] if rec.place.shape[0] > 0 else no_place
                readout(ro, ss.r, g, cand, rec.decoded[row], place)
            row += 1
    return -1
