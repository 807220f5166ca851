"""Connectivity of the hierarchical network, built once in NumPy with canns' exact formulas.

The step kernels never see a dense recurrent matrix. They get:

* for the band rings, the eigenvalues of the three circulant operators (recurrent, left→band, right→band) on
  the lowest Fourier modes, with the cos/sin tables that project a ring onto them and back;
* for the grid sheet, the 2-D spectrum of its block-circulant recurrence with the real DFT tables, plus a
  sparse correction for the half-torus offsets where canns' matrix is not exactly circulant (see
  :func:`grid_operator`);
* for the place cells, the dense grid→place readout of all modules side by side.

Each builder first constructs what canns constructs (same wraps, same Gaussian) and derives the compact form
from it, so the two agree to rounding.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

TWO_PI = 2.0 * math.pi
# The ring operators keep Fourier modes 0..K with exp(-a²K²/2) below this: a Gaussian-smoothed bump has no
# energy left above K, so the dropped part of the operator (the ~1e-7 tail that the wrap kink of the truncated
# Gaussian leaves at high modes) multiplies coefficients that are already ~1e-15.
RING_MODE_TOL = 1e-17


def wrap_r(d: np.ndarray) -> np.ndarray:
    """canns' 1-D ring distance ``dist``: floor-mod 2π, then shift (π, 2π) down; range (−π, π]."""
    d = np.mod(d, TWO_PI)
    return np.where(d > math.pi, d - TWO_PI, d)


def map2pi(a: np.ndarray) -> np.ndarray:
    """canns' ``map2pi``: a single shift into [−π, π]; exact for |a| ≤ 3π, which covers every use here."""
    b = np.where(a > math.pi, a - TWO_PI, a)
    return np.where(b < -math.pi, b + TWO_PI, b)


def pos_to_phase(pos: np.ndarray, proj_k: np.ndarray) -> np.ndarray:
    """canns' ``Postophase``: (pos·k mod 2π) − π, range [−π, π). Note the −π offset."""
    return np.mod(pos @ proj_k, TWO_PI) - math.pi


def gaussian(d: np.ndarray, a: float) -> np.ndarray:
    """Normalised Gaussian exp(−d²/2a²)/(√(2π)a), written as canns writes it."""
    return np.exp(-0.5 * np.square(d / a)) / (math.sqrt(TWO_PI) * a)


def hexdist(d: np.ndarray) -> np.ndarray:
    """Hex-metric length of phase differences ``d[..., 2]`` after a per-component ``map2pi``."""
    d = map2pi(d)
    dx = d[..., 0]
    dy = (d[..., 1] - 0.5 * d[..., 0]) * 2.0 / math.sqrt(3.0)
    return np.sqrt(dx * dx + dy * dy)


def ring_lattice(size: int) -> np.ndarray:
    """Preferred phases of a ring (or one axis of the grid sheet): linspace(−π, π, size, endpoint=False)."""
    return np.linspace(-math.pi, math.pi, size, endpoint=False)


def proj_k(angle: float, spacing: float) -> np.ndarray:
    """Band wave vector (cos(θ − π/2), sin(θ − π/2))·2π/s, as canns' ``BandCell.proj_k``."""
    return np.array([math.cos(angle - math.pi / 2), math.sin(angle - math.pi / 2)]) * TWO_PI / spacing


class RingOperator(NamedTuple):
    """The band rings' circulant operators on Fourier modes 0..K (identical for every band of a network).

    ``cos_mx``/``sin_mx`` (K+1, N) synthesise a ring from mode coefficients; ``cos_xm``/``sin_xm`` (N, K+1)
    are their transposes, used to project a ring onto raw sums Σ_j f_j·cos(m·x_j), Σ_j f_j·sin(m·x_j).
    ``lam_*`` (2, K+1) are the real and imaginary eigenvalues of each operator, already scaled by the
    inverse-transform weight (1/N for m = 0 and Nyquist, 2/N otherwise), so that an operator acts on raw sums.
    """

    cos_mx: np.ndarray
    sin_mx: np.ndarray
    cos_xm: np.ndarray
    sin_xm: np.ndarray
    lam_rec: np.ndarray
    lam_left: np.ndarray
    lam_right: np.ndarray


def ring_mode_count(size: int, a: float) -> int:
    """Highest Fourier mode K kept for a ring of ``size`` neurons with Gaussian width ``a`` (≤ size // 2)."""
    k = math.ceil(math.sqrt(2.0 * math.log(1.0 / RING_MODE_TOL)) / a)
    return min(k, size // 2)


def band_matrices(size: int, a: float, J0: float, k: float, w_S2L: float) -> tuple[np.ndarray, ...]:
    """canns' dense band matrices (W_rec, W_L, W_R), for building the spectra and for tests."""
    x = ring_lattice(size)
    rho = size / TWO_PI
    J = J0 * math.sqrt(8.0 * math.sqrt(TWO_PI) * k * a / rho)
    diff = x[:, None] - x[None, :]
    shift = math.pi / 9.0 * 0.76  # PEN→EPG connection shift, 7.6 neurons at N = 180
    w_rec = J * gaussian(wrap_r(diff), a)
    w_left = w_S2L * gaussian(wrap_r(diff + shift), a)
    w_right = w_S2L * gaussian(wrap_r(diff - shift), a)
    return w_rec, w_left, w_right


def ring_operator(size: int, a: float, J0: float, k: float, w_S2L: float) -> RingOperator:
    """Spectral form of the band rings: W_rec·r, and the row-vector products l·W_L and r·W_R."""
    w_rec, w_left, w_right = band_matrices(size, a, J0, k, w_S2L)
    n_modes = ring_mode_count(size, a) + 1
    m = np.arange(n_modes)
    x = ring_lattice(size)
    weight = np.where((m == 0) | (2 * m == size), 1.0 / size, 2.0 / size)

    def spectrum(kernel: np.ndarray) -> np.ndarray:
        # Operator (A f)[j] = Σ_i kernel[(j − i) mod N]·f_i has eigenvalue fft(kernel)[m] on e^{imx}.
        lam = np.fft.fft(kernel)[:n_modes] * weight
        return np.ascontiguousarray(np.stack([lam.real, lam.imag]))

    cos_mx = np.cos(np.outer(m, x))
    sin_mx = np.sin(np.outer(m, x))
    return RingOperator(
        cos_mx=cos_mx,
        sin_mx=sin_mx,
        cos_xm=np.ascontiguousarray(cos_mx.T),
        sin_xm=np.ascontiguousarray(sin_mx.T),
        lam_rec=spectrum(w_rec[:, 0]),  # (W_rec r)[j] = Σ_i W_rec[j, i] r_i
        lam_left=spectrum(w_left[0, :]),  # (l W_L)[j] = Σ_i W_L[i, j] l_i
        lam_right=spectrum(w_right[0, :]),
    )


def grid_phases(num: int) -> np.ndarray:
    """Preferred phases (n², 2) of the grid sheet: neuron i = row·n + col has phase (x[col], x[row])."""
    x = ring_lattice(num)
    gx, gy = np.meshgrid(x, x)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def grid_matrix(num: int, a: float, J0: float) -> np.ndarray:
    """canns' dense grid recurrence W_g[i, j] = J0·g(hexdist(p_i − p_j); a), shape (n², n²)."""
    p = grid_phases(num)
    return J0 * gaussian(hexdist(p[:, None, :] - p[None, :, :]), a)


class GridOperator(NamedTuple):
    """The grid sheet's recurrence W_g·r as a 2-D real DFT convolution plus a sparse correction.

    Real matrices carry the transform (n = grid_num, H = n//2 + 1 column frequencies): ``col_fwd``
    (2H, n) gives [A; B] = [Σ x cos; Σ x sin] along columns; ``row_fwd`` (2, 2n, 2n) takes those, over rows,
    to the real and imaginary 2-D spectrum as a product of two sparse factors (Cooley–Tukey, applied
    ``row_fwd[1] @ (row_fwd[0] @ ·)``); ``row_inv`` (2, 2n, 2n) likewise undoes the row transform; ``col_inv``
    (n, 2H) undoes the column transform with the Hermitian weights and 1/n². ``spectrum`` (2, n, H) is the
    kernel's DFT (real, imaginary). ``fix_row``, ``fix_col`` and ``fix_val`` list the
    entries where canns' matrix differs from the circulant kernel by more than rounding.
    """

    col_fwd: np.ndarray
    row_fwd: np.ndarray
    spectrum: np.ndarray
    row_inv: np.ndarray
    col_inv: np.ndarray
    fix_row: np.ndarray
    fix_col: np.ndarray
    fix_val: np.ndarray


def realify(c: np.ndarray) -> np.ndarray:
    """The real (2n, 2n) matrix acting on [re; im] as the complex matrix c acts on re + i·im."""
    return np.block([[c.real, -c.imag], [c.imag, c.real]])


def dft_factors(num: int) -> tuple[np.ndarray, np.ndarray]:
    """Complex DFT matrix F (F[k, j] = e^{−2πi kj/n}) as outer @ inner, one Cooley–Tukey step.

    With n = n1·n2 (n1 the largest divisor ≤ √n), ``inner`` computes n1 DFTs of size n2 over the rows
    j1 + n1·j2, and ``outer`` applies the twiddles and n1-point DFTs, writing k = k2 + n2·k1. Applied to
    dense data they cost n·(n1 + n2) instead of n² complex multiply-adds; for prime n, inner = F, outer = I.
    """
    n1 = max(d for d in range(1, math.isqrt(num) + 1) if num % d == 0)
    n2 = num // n1
    inner = np.zeros((num, num), dtype=complex)
    outer = np.zeros((num, num), dtype=complex)
    for j1 in range(n1):
        for k2 in range(n2):
            for j2 in range(n2):
                inner[j1 * n2 + k2, j1 + n1 * j2] = np.exp(-2j * math.pi * (j2 * k2 % n2) / n2)
            for k1 in range(n1):
                outer[k2 + n2 * k1, j1 * n2 + k2] = np.exp(-2j * math.pi * (j1 * (k2 + n2 * k1) % num) / num)
    return inner, outer


def grid_operator(num: int, a: float, J0: float) -> GridOperator:
    """Spectral form of the grid recurrence, exact to rounding.

    W_g depends on the lattice offset (Δrow, Δcol) mod n, except for offsets of exactly half the torus (even
    n): there ``map2pi`` leaves a difference of ±π unwrapped, and the sign, which depends on the pair and on
    floating-point rounding, enters the hex metric's cross term. The first column of W_g is taken as the
    circulant kernel, and every half-torus entry that differs from it by more than one ulp of the largest
    weight is kept as a correction (the dropped ones are below what float64 resolves next to the bump's own
    terms). With canns' defaults (a = π/9) half-torus weights are ≤ 3e-18 of the peak and the list is empty;
    for wide kernels (e.g. a = 1) it holds a few thousand entries.
    """
    w = grid_matrix(num, a, J0)
    n2 = num * num
    kernel = w[:, 0].reshape(num, num)  # kernel[d_row, d_col] = W_g[(d_row, d_col), (0, 0)]
    idx = np.arange(n2)
    d_row = (idx[:, None] // num - idx[None, :] // num) % num
    d_col = (idx[:, None] % num - idx[None, :] % num) % num
    diff = w - kernel[d_row, d_col]
    half_torus = (2 * d_row == num) | (2 * d_col == num)  # elsewhere diff is rounding noise (~1e-16)
    keep = half_torus & (np.abs(diff) > np.abs(w).max() * np.finfo(float).eps)
    fix_row, fix_col = np.nonzero(keep)

    h = num // 2 + 1
    theta_col = TWO_PI * np.outer(np.arange(h), np.arange(num)) / num  # (H, n)
    fwd_inner, fwd_outer = dft_factors(num)
    flip = np.diag(np.r_[np.ones(num), -np.ones(num)])  # the column stage delivers A − iB as [A; B]
    m = np.arange(h)
    inv_weight = np.where((m == 0) | (2 * m == num), 1.0, 2.0) / n2
    spec = np.fft.fft2(kernel)[:, :h]
    return GridOperator(
        col_fwd=np.vstack([np.cos(theta_col), np.sin(theta_col)]),
        row_fwd=np.stack([realify(fwd_inner) @ flip, realify(fwd_outer)]),
        spectrum=np.ascontiguousarray(np.stack([spec.real, spec.imag])),
        row_inv=np.stack([realify(fwd_inner.conj()), realify(fwd_outer.conj())]),
        # x = Σ_q w_q (Re·cos − Im·sin) / n².
        col_inv=np.hstack([np.cos(theta_col).T * inv_weight, -np.sin(theta_col).T * inv_weight]),
        fix_row=fix_row.astype(np.int64),
        fix_col=fix_col.astype(np.int64),
        fix_val=diff[fix_row, fix_col],
    )


def hex_input_table(num: int, a: float) -> np.ndarray:
    """exp(−γh²(m² − m·l + l²)) for |m|, |l| ≤ n//2 + 1 (γ = 2/(3a²), h = 2π/n), indexed [l + o, m + o].

    Empty when the lattice factorisation of the band→grid input could overflow: its per-axis factors reach
    exp(±1.5γh²(n/2 + 1)), so it is used only while 3γh²(n/2 + 1) < 300.
    """
    gamma = 2.0 / (3.0 * a * a)
    h = TWO_PI / num
    half = num // 2 + 1
    if 3.0 * gamma * h * h * half >= 300.0:
        return np.zeros((0, 0))
    k = np.arange(-half, half + 1)
    m_col, l_row = np.meshgrid(k, k)
    return np.exp(-gamma * h * h * (m_col * m_col - m_col * l_row + l_row * l_row))


def place_centres(num_place: int, width: float, height: float) -> np.ndarray:
    """Place-cell centres (num_place², 2) on a regular grid; p = ix + iy·num_place ↦ (X[ix], Y[iy])."""
    gx, gy = np.meshgrid(np.linspace(0.0, width, num_place), np.linspace(0.0, height, num_place))
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def grid_to_place(
    centres: np.ndarray, proj_kx: np.ndarray, proj_ky: np.ndarray, num: int, a: float
) -> np.ndarray:
    """canns' Wg2p (P, n²) of one module: g(hexdist(φ_p − p_i); gauss_a), with φ_p the place's band phases."""
    phase = np.stack([pos_to_phase(centres, proj_kx), pos_to_phase(centres, proj_ky)], axis=1)
    return gaussian(hexdist(phase[:, None, :] - grid_phases(num)[None, :, :]), a)
