"""Feature space, periodic distance and the Gaussian recurrent connectivity.

The connection strength depends only on the wrapped difference of preferred positions, so the weight
matrix is circulant. On canns' grid (``linspace(z_min, z_max, num)``, endpoints included) the first and
last neuron sit at the same angle, and the matrix is circulant with period ``P = num - 1`` in the neuron
index (the last neuron is a copy of the first). We diagonalise that circulant exactly with a real Fourier
basis and keep only the modes whose eigenvalue is not negligible (the eigenvalues of a Gaussian fall off
like ``exp(-m² a² / 2)``): ``W · r = Σ_q w_q b_q (b_q · r)``. The cost per step is
``2 · modes · num`` instead of ``num²``. (The wrapped Gaussian has a tiny kink at the antipode, of size
``exp(-π²/2a²)``, so its spectrum has a slow tail far below the peak; the cut-off ``MODE_RTOL`` keeps the
worst-case error, for a single active neuron, near 1e-10 relative and for a bump near 1e-15.) In 2D the kernel is separable per axis (``W = c · K ⊗ K``), so
``W · r = c · K R K`` with the same 1D basis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MODE_RTOL = 1e-11
"""Fourier modes with ``|eigenvalue| < MODE_RTOL · max|eigenvalue|`` are dropped."""


def feature_space(num: int, z_min: float, z_max: float) -> np.ndarray:
    """Preferred positions of ``num`` neurons: ``linspace(z_min, z_max, num)``, endpoints included."""
    return np.linspace(z_min, z_max, num)


def wrap(d: np.ndarray | float, z_range: float) -> np.ndarray:
    """Periodic difference as canns computes it: into ``(-z_range/2, z_range/2]``."""
    d = np.remainder(d, z_range)
    return np.where(d > z_range / 2, d - z_range, d)


def gaussian(d: np.ndarray, a: float) -> np.ndarray:
    """Unnormalised Gaussian ``exp(-d² / (2 a²))``."""
    return np.exp(-0.5 * np.square(d) / (a * a))


def peak_weight(J0: float, a: float) -> float:
    """The largest connection weight ``J0 / (sqrt(2π) a)`` (canns' 1D normalisation, also in 2D)."""
    return J0 / (math.sqrt(2.0 * math.pi) * a)


def conn_mat_1d(x: np.ndarray, J0: float, a: float, z_range: float) -> np.ndarray:
    """Dense ``num × num`` weight matrix ``W[i, j] = J0 · exp(-½ wrap(x_i - x_j)² / a²) / (√(2π) a)``."""
    return peak_weight(J0, a) * gaussian(wrap(x[:, None] - x[None, :], z_range), a)


def conn_mat_2d(x: np.ndarray, J0: float, a: float, z_range: float) -> np.ndarray:
    """Dense ``L² × L²`` weight matrix of the sheet, neurons in row-major order (canns' layout)."""
    k = gaussian(wrap(x[:, None] - x[None, :], z_range), a)
    return peak_weight(J0, a) * np.kron(k, k)


def stimulus_profile(x: np.ndarray, pos: float, a: float, z_range: float) -> np.ndarray:
    """Unit-amplitude input bump ``exp(-¼ wrap(x - pos)² / a²)`` centred at ``pos``."""
    d = wrap(x - pos, z_range)
    return np.exp(-0.25 * np.square(d) / (a * a))


@dataclass(frozen=True)
class ModalKernel:
    """Exact low-rank form of the 1D circulant kernel ``K[i, j] = exp(-½ wrap(x_i - x_j)² / a²)``.

    ``K · r = basis.T @ (weight * (basis @ r))`` for every vector ``r`` on the grid.

    Attributes
    ----------
    basis : ndarray, shape (modes, num)
        Orthogonal real Fourier vectors (constant, cos, sin, and the alternating one), evaluated on the
        neuron indices modulo the period.
    weight : ndarray, shape (modes,)
        Eigenvalue of each basis vector divided by its squared norm.
    """

    basis: np.ndarray
    weight: np.ndarray

    @classmethod
    def build(cls, num: int, a: float, z_range: float, *, endpoint: bool = True) -> ModalKernel:
        """Diagonalise the kernel of ``num`` neurons spaced over ``z_range`` (width ``a``)."""
        period = num - 1 if endpoint else num
        spacing = z_range / period
        row = gaussian(wrap(np.arange(period) * spacing, z_range), a)
        eig = np.fft.rfft(row).real  # real: the kernel row is symmetric
        keep = np.flatnonzero(np.abs(eig) >= MODE_RTOL * np.abs(eig).max())
        idx = np.arange(num) % period
        rows, weights = [], []
        for m in keep:
            phase = 2.0 * np.pi * m * idx / period
            if m == 0 or 2 * m == period:  # self-conjugate modes: one real vector
                rows.append(np.cos(phase))
                weights.append(eig[m] / period)
            else:  # a cos/sin pair carries the mode and its conjugate
                rows += [np.cos(phase), np.sin(phase)]
                weights += [2.0 * eig[m] / period] * 2
        return cls(np.ascontiguousarray(rows), np.asarray(weights))

    @property
    def modes(self) -> int:
        """Number of basis vectors kept."""
        return len(self.weight)
