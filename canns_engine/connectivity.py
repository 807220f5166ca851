"""Feature space, periodic distance and the Gaussian recurrent connectivity in its compact Fourier form.

The connection strength depends only on the wrapped difference of preferred positions, so ``W`` is
circulant and ``W · r`` is a circular convolution. On canns' grid (``linspace(z_min, z_max, num)``,
endpoints included) the first and last neuron sit at the same angle: the matrix is circulant with period
``P = num - 1`` in the neuron index (the last neuron is a copy of the first). On the ``endpoint=False``
ring (canns' recipe for its ``"fft"`` mode) the period is ``P = num``.

:class:`ModalKernel` diagonalises that circulant exactly in a real Fourier basis (``cos mθ``,
``sin mθ`` with ``θ_j = 2π j / P``): the eigenvalues are the real FFT of one kernel row, computed once.
A Gaussian's eigenvalues fall like ``exp(-m² a² / 2)``, so only the modes ``m ≤ M`` with
``|eigenvalue| ≥ MODE_RTOL · max`` are kept: ``M = 12`` for ``a = 0.5`` and ``21`` for ``a = 0.3``,
whatever ``num``. The cost of ``W · r`` becomes ``2 (2M + 1) · num`` instead of ``num²`` — linear in
the number of neurons — and the two symmetries of the basis on the grid (``θ_{P-j} = -θ_j``: the cosines
are even, the sines odd) halve it again: the compiled kernels work on *slots* ``s = 0 … P // 2``, each
holding the neuron pair ``(s, P - s)``, with tables of ``cos mθ_s`` and ``sin mθ_s``.

What the truncation costs: canns' kernel is the *wrapped* Gaussian, whose periodic extension has a tiny
kink at the antipode (of relative size ``exp(-π² / 2a²)``, 3e-9 for ``a = 0.5``); its spectrum therefore
has a tail of order 1e-10 that no small set of modes captures. The largest error of a single weight,
relative to the peak weight, is ~2e-9 for ``a = 0.5`` (1e-10 for ``a = 0.3``); for the smooth activity
profiles the network produces, the error of ``W · r`` is ~1e-13 relative, and a whole tracking run
agrees with the dense float64 product to ~1e-12 (see ``docs/performance.md``). When ``M`` would reach
``P // 2`` every mode is kept and the form is the exact DFT of the circulant.

In 2D the kernel is separable per axis (``W = c · K ⊗ K`` with ``c`` the peak weight), so
``W · r = c · K R K`` with the same 1D tables on both axes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ._memory import CACHE_LINE, cache_aligned

MODE_RTOL = 1e-9
"""Fourier modes above the last one with ``|eigenvalue| ≥ MODE_RTOL · max|eigenvalue|`` are dropped."""

PRECISIONS = {"float32": (np.float32, 1e-7), "float64": (np.float64, MODE_RTOL)}
"""Precision of the recurrent product: the table's dtype and the mode cut-off that goes with it. float32
stops at 1e-7 of the largest eigenvalue (smaller modes are below float32's resolution of the sum); float64
keeps the modes down to ``MODE_RTOL``. The state ``u``/``v`` is float64 in both."""

DEFAULT_PRECISION = "float32"
"""float32 runs within ~3e-9 (a = 0.5) to ~3e-8 (a = 0.3) of the float64 dense product over whole tracking
runs, far inside the 1e-6 the engine promises, at up to twice the speed; ``"float64"`` agrees to ~1e-14.
The adaptation models default to float64 (``BaseCANN.precision`` says why)."""

ROW_BLOCK = 4
"""The cosine and sine parts of the mode table are padded to a multiple of this many rows, and the sine
part further, if need be, so that the whole table has a multiple of twice as many (a ring's projections
take eight rows at a time)."""

DENSE_AXIS = 64
"""Axes of at most this many neurons also get :attr:`ModalKernel.dense`: a sheet that small applies the
kernel along its columns as a dense matrix (faster there than the modal route, see ``_kernels``)."""


def feature_space(num: int, z_min: float, z_max: float, *, endpoint: bool = True) -> np.ndarray:
    """Preferred positions of ``num`` neurons: ``linspace(z_min, z_max, num, endpoint=endpoint)``.

    canns' default includes both ends (the first and last neuron coincide on the ring); ``endpoint=False``
    spaces ``num`` distinct neurons evenly around it.
    """
    return np.linspace(z_min, z_max, num, endpoint=endpoint)


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
    """The 1D circulant kernel ``K[i, j] = exp(-½ wrap(x_i - x_j)² / a²)`` in its real Fourier basis.

    ``(K r)_j = Σ_m w_m C_m cos(m θ_j) + Σ_m w'_m S_m sin(m θ_j)`` (``weight`` holds ``w``, then ``w'``)
    with the projections ``C_m = Σ_j r_j cos(m θ_j)`` and ``S_m = Σ_j r_j sin(m θ_j)``,
    ``θ_j = 2π j / period`` (the duplicate last neuron of an endpoint-included grid has ``θ = 0`` like the
    first).

    Attributes
    ----------
    table : ndarray, shape (rows, columns)
        ``cos(m θ_s)`` for ``m = 0 … M``, then ``sin(m θ_s)`` for ``m = 1 … M``, on the slots
        ``s = 0 … period // 2`` (slot ``s`` stands for the neurons ``s`` and ``period - s``). A sine row
        that vanishes on the grid (``m = period / 2``) is left out. Each part is padded with zero rows
        (of zero weight) to a multiple of ``ROW_BLOCK``, so the kernels can take modes four at a time (the
        sine part to a whole table of a multiple of ``2 · ROW_BLOCK`` rows: eight at a time),
        and every row with zero columns after the last slot to a whole number of cache lines; the table
        starts on a cache line, so every row does (:mod:`canns_engine._memory`).
    dense : ndarray, shape (rows, num) or (0, 0)
        :meth:`matrix` in the table's dtype when ``num ≤ DENSE_AXIS``, else empty; its rows are padded
        with zeros to a multiple of ``ROW_BLOCK`` (the kernels take four rows at a time).
    n_cos : int
        Number of cosine rows, padding included.
    weight : ndarray, shape (rows,)
        Weight of each row of ``table``: the eigenvalue divided by the squared norm of the basis vector
        (``eig / period`` for the self-conjugate modes ``m = 0`` and ``m = period / 2``, else
        ``2 eig / period``; 0 for padding).
    period : int
        ``num - 1`` on the endpoint-included grid, ``num`` without the endpoint.
    endpoint : bool
        Whether the grid includes the end point (a last neuron duplicating the first).
    num : int
        Number of neurons along the axis.
    """

    table: np.ndarray
    dense: np.ndarray
    n_cos: int
    weight: np.ndarray
    period: int
    endpoint: bool
    num: int

    @classmethod
    def build(cls, num: int, a: float, z_range: float, *, endpoint: bool = True,
              rtol: float = MODE_RTOL, dtype: type = np.float64) -> ModalKernel:
        """Diagonalise the kernel of ``num`` neurons spaced over ``z_range`` (width ``a``), keeping the
        modes down to ``rtol`` of the largest eigenvalue; ``table`` is stored as ``dtype``."""
        period = num - 1 if endpoint else num
        row = gaussian(wrap(np.arange(period) * (z_range / period), z_range), a)
        eig = np.fft.rfft(row).real  # real: the kernel row is symmetric
        top = int(np.flatnonzero(np.abs(eig) >= rtol * np.abs(eig).max())[-1])
        slots = np.arange(period // 2 + 1)
        modes = np.arange(top + 1)
        # m·s reduced modulo the period first, so every angle is in [0, 2π) and accurate to an ulp.
        angle = 2.0 * np.pi * (np.outer(modes, slots) % period) / period
        self_conjugate = (modes == 0) | (2 * modes == period)
        w_cos = np.where(self_conjugate, 1.0, 2.0) * eig[modes] / period
        sin = np.sin(angle[~self_conjugate])
        if period % 2 == 0:
            sin[:, -1] = 0.0  # sin(m π) exactly
        w_sin = w_cos[~self_conjugate]
        n_cos = len(w_cos) + -len(w_cos) % ROW_BLOCK  # a multiple of four rows, and the whole table of eight
        n_rows = n_cos + len(w_sin) + -(n_cos + len(w_sin)) % (2 * ROW_BLOCK)
        parts = [(np.pad(rows, ((0, size - len(w)), (0, 0))), np.pad(w, (0, size - len(w))))
                 for rows, w, size in ((np.cos(angle), w_cos, n_cos), (sin, w_sin, n_rows - n_cos))]
        table = np.concatenate([rows for rows, _ in parts]).astype(dtype)
        table = cache_aligned(np.pad(table, ((0, 0), (0, -len(slots) % (CACHE_LINE // table.itemsize)))))
        kernel = cls(table=table, dense=np.empty((0, 0), dtype), n_cos=len(parts[0][1]),
                     weight=np.concatenate([w for _, w in parts]), period=period, endpoint=endpoint, num=num)
        if num > DENSE_AXIS:
            return kernel
        dense = np.pad(kernel.matrix(), ((0, -num % ROW_BLOCK), (0, 0)))
        return replace(kernel, dense=cache_aligned(dense.astype(dtype)))

    @property
    def slots(self) -> int:
        """Number of slots (``period // 2 + 1``); the table's columns after them are zero padding."""
        return self.period // 2 + 1

    @property
    def modes(self) -> int:
        """Number of basis vectors kept (cosines and sines, padding excluded)."""
        return int(np.count_nonzero(self.weight))

    @property
    def quarter_symmetric(self) -> bool:
        """Whether the period is a multiple of four and every mode is below ``period / 2``: then slot
        ``period / 2 - s`` holds ``(-1)^m`` times mode ``m``'s cosine at slot ``s`` (``-(-1)^m`` its sine),
        and the table's rows are modes ``0, 1, 2 …`` (cosines), ``1, 2, 3 …`` (sines), none left out."""
        return self.period % 4 == 0 and np.count_nonzero(self.weight[: self.n_cos]) <= self.period // 2

    def basis(self) -> np.ndarray:
        """The basis vectors (rows of ``table``) on all ``num`` neurons, shape ``(modes, num)``."""
        j = np.arange(self.num) % self.period
        s = np.minimum(j, self.period - j)  # the slot of each neuron
        sign = np.where(j > self.period // 2, -1.0, 1.0)  # sines are odd: neuron P - s has -sin(m θ_s)
        basis = self.table[:, s]
        basis[self.n_cos:] *= sign
        return basis

    def matrix(self) -> np.ndarray:
        """The ``num × num`` matrix the modal form applies (compare with the dense kernel)."""
        b = self.basis()
        return (b.T * self.weight) @ b
