"""The compiled step loop of the four basic CANNs: arrays and scalars in, state arrays updated in place.

One call of :func:`run` advances a network by a chunk of steps, builds each step's input from the stimulus
position and amplitude, and records every ``rec_every``-th state and its summary. It releases the GIL
(``nogil=True``) so a GUI keeps drawing while a worker thread runs it. A ring is handled as a sheet with
one row (``u`` of shape ``(1, num)``), so one compiled function serves all four models.

Update order (canns, forward Euler): ``r = u² / (1 + k Σu²)`` from the old ``u``; ``Irec = W r``;
``u += dt/τ (−u + Irec + inp [− v])``; for SFA ``v += dt/τ_v (−v + m u)`` with the new ``u``.

How a step is computed (see :mod:`canns_engine.connectivity` for the modal form of ``W``)
-----------------------------------------------------------------------------------------
``W r = c · norm · K u²`` with ``norm = 1 / (1 + k Σu²)``, so the rate is never stored. For each row,
:func:`_sheet_pass`

1. *synthesises* the row's recurrent input from its mode coefficients (cosine and sine part per slot),
2. applies the Euler update to the neuron pair of every slot (``s`` and ``P - s``),
3. folds the new ``u²`` into even and odd parts per slot and *projects* them back on the modes,

so a step is one pass over the state, and the projections of the new state (and ``Σu²``) are ready for
the next step. On a ring the next coefficients are the projections times ``c · norm`` and the eigenvalue
weights. A sheet (``K U² K`` is separable) is stepped by :func:`_sheet_rows`, the same pass with the
roles of the axes swapped: slots run over the *rows* and every inner loop along a whole row (``L`` long,
which vectorises; the slots of a row are only ``L/2`` long). It projects the new ``U²`` on the row modes
for every column; :func:`_sheet_modes` projects those along the columns, scales by both modes' weights
and synthesises them back into per-column coefficients of the row modes. On a sheet of at most
``DENSE_AXIS`` neurons per axis, :func:`_sheet_dense` does that last part with the modal kernel as a dense
matrix instead: more multiplications, but in loops a whole row long (the modal route's are ``L/2`` long
and mostly overhead there; in-process alternation: 8.8 → 7.0 µs per step at ``L = 32``, 13.4 → 12.0 at 48,
slower from 56 on, before the blocks), taken as 4 × 4 blocks of the matrix product (:func:`_add_block`;
a further 1.18× at 32 × 32 on one thread, 1.09× on two). With the blocks it also wins at 64 × 64: 1.07×
for CANN2D-64 on two threads, 1.22–1.24× for the adaptation sheet (each engine copy in its own process).

The recurrent product runs in the precision of the mode table (float32 by default, 8 lanes of AVX;
float64 on request): coefficients, projections and their scratch arrays take the table's dtype, while
``u``, ``v``, the drive, ``Σu²`` and the input stay float64.

Input bumps come from ``exp(-c (d₀ + k Δ)²) = exp(-c d₀²) · f^k · exp(-c k² Δ²)``: the last factor is a
table built once per call and ``f^k`` a product of a short table of powers and a running power, so a
profile costs two multiplications per neuron instead of an ``exp`` (:func:`_profile`).

Modes are taken four at a time (the mode table is padded to a multiple of four rows per part), which
quarters the loads and stores of the running sums and the number of short loops; a ring's projections
take eight at a time (the whole table has a multiple of eight rows).

The mode table starts on a cache line and its rows are padded with zeros to whole cache lines
(:mod:`canns_engine._memory`), so no vector load straddles two lines. Where the slots end more than half
a vector into their last vector, a ring's last block sweeps that padding too (``even``/``odd`` stay zero
there) instead of a long scalar remainder; a short remainder is cheaper than the padded vectors (65 slots
swept to 80: 7 % slower than a remainder of one; 71 slots: 5 % faster). The antipodal slot of an even
period is left out of the sweeps altogether (:func:`_sheet_pass`), so a power-of-two ring sweeps a whole
number of vectors.

Code generation notes: hot loops index with unsigned integers (numba otherwise emits a negative-index
check on every access, which blocks vectorisation); every kernel is compiled with ``fastmath`` limited to
reassociation and fused multiply-add (``FASTMATH``): sums may be reordered, so results differ from the
written order at the 1e-16 level, but NaN and infinity keep their meaning (the divergence check relies on
it); ``error_model="numpy"`` makes a division by zero give inf/NaN instead of raising.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from ._flags import FASTMATH, LOOP
from ._memory import zeroed_block
from ._noalias import mark_unshared
from ._sync import barrier
from ._vectors import prefer_wide_vectors
from .analysis import summarize_1d, summarize_2d, wrap_scalar

kernel = njit(cache=True, nogil=True, **LOOP)
"""The decorator of the compiled entry points (cached, GIL released, no reference counting)."""

part = njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy", inline="always")
"""The decorator of the parts of :func:`run`: inlined into it (numba IR), so each is compiled once, as
part of ``run``, instead of once on its own and once more when linked into ``run``."""

SLOT_BLOCK = 512
"""Slots per block of a row pass: the table columns of a block stay in cache between synthesis and
projection (matters for rings of thousands of neurons)."""

LONG_SWEEP = 128
"""Slots from which a ring's projection takes sixteen modes a sweep (:func:`_project_sixteen`)."""

QUARTER_MIN_PERIOD = 256
"""The shortest period whose ring sweeps a quarter of it (:func:`quarter_wave`): at 128 the quarter's 33
slots gained nothing (0.99–1.01× for both models, with 256- or 512-bit vectors), at 256 1.06× (CANN1D)
and 1.11× (the adaptation model's 40 modes), at 512 1.12× and 1.45× (each engine copy in its own
process, alternating)."""

VECTOR_BYTES = 32
"""Bytes of one AVX vector: where a ring's slots end more than half a vector into their last vector,
its last block sweeps the table's zero padding instead of a scalar remainder."""

BLOCK_SHIFT = 6
POWER_BLOCK = 1 << BLOCK_SHIFT
"""Length of the table of powers in :func:`_profile` (``f^k = fine[k % 64] · (f^64)^(k // 64)``)."""


@kernel
def _rate(u, k, r):
    """``r = u² / (1 + k Σu²)`` on flat views; returns ``Σu²`` (non-finite once diverged)."""
    s2 = 0.0
    for j in range(u.shape[0]):
        s2 += u[j] * u[j]
    norm = 1.0 / (1.0 + k * s2)
    for j in range(u.shape[0]):
        r[j] = u[j] * u[j] * norm
    return s2


@part
def _profile(pos, z_min, z_range, period, c, gauss, fine, out):
    """Unit input bump ``exp(-c · wrap(x_j - pos)²)`` on the grid ``x_j = z_min + j z_range / period``.

    The neuron nearest to ``pos`` is ``centre`` (offset ``d₀``, ``|d₀| ≤ Δ/2``); the ``left`` neurons
    before it and the ``period - left`` from it on are those within half a period (canns' wrap into
    ``(-z_range/2, z_range/2]``). Neuron ``centre + k`` gets ``exp(-c (d₀ + kΔ)²) = exp(-c d₀²) · f^k ·
    gauss[period + k]`` with ``f = exp(-2c d₀ Δ)`` and the symmetric table ``gauss[period + k] =
    exp(-c k² Δ²)``. With ``k = 64 b + t`` (``0 ≤ t < 64``, ``b < 0`` left of the centre), ``f^k`` is
    ``fine[t] = f^t`` (built by doubling) times the block's ``f^(64 b)`` (kept after the powers, in
    ``fine[64 - b_lo + b]``, multiplied out from the centre both ways so that the error grows away from
    the peak). So the bump is one sweep from the leftmost neuron, cut into runs at the blocks and the end
    of the grid only, with one table of powers where each side took one: 90 → 66 ns for 128 neurons,
    147 → 124 ns for 512. Where a power could overflow (an extremely narrow bump on a coarse grid) the
    exponentials are evaluated directly. ``out`` may be one longer than the period (the duplicate end
    neuron of canns' grid), which gets the first neuron's value.
    """
    spacing = z_range / period
    centre = round((pos - z_min) / spacing)
    if centre >= period:  # centre % period, without an integer division (~10 ns) within a period of the grid
        centre = centre - period if centre < 2 * period else centre % period
    elif centre < 0:
        centre = centre + period if centre >= -period else centre % period
    d0 = wrap_scalar(z_min + centre * spacing - pos, z_range)
    left = period - 1 - min(max(math.floor((0.5 * z_range - d0) / spacing), 0), period - 1)
    if c * spacing * spacing * (period + 2 * POWER_BLOCK) > 600.0:
        for j in range(period):
            x = wrap_scalar(z_min + j * spacing - pos, z_range)
            out[j] = math.exp(-c * x * x)
    else:
        power = math.exp(-2.0 * c * d0 * spacing)
        fine[0] = 1.0
        size = 1
        while size < POWER_BLOCK:  # fine[t] = f^t by doubling; power becomes f^64
            for t in range(np.uint64(size)):
                fine[size + t] = fine[t] * power
            size *= 2
            power *= power
        b_lo = -left >> BLOCK_SHIFT  # the blocks of k = -left … period - 1 - left
        b_hi = (period - 1 - left) >> BLOCK_SHIFT
        zero = POWER_BLOCK - b_lo  # fine[zero + b] = exp(-c d₀²) f^(64 b)
        fine[zero] = math.exp(-c * d0 * d0)
        for b in range(1, b_hi + 1):
            fine[zero + b] = fine[zero + b - 1] * power
        inverse = 1.0 / power
        for b in range(1, 1 - b_lo):
            fine[zero - b] = fine[zero - b + 1] * inverse
        k = -left
        j = centre - left if centre >= left else centre - left + period
        while k < period - left:
            t0 = k & (POWER_BLOCK - 1)
            n = min(period - left - k, POWER_BLOCK - t0, period - j)
            scale = fine[zero + (k >> BLOCK_SHIFT)]
            ju = np.uint64(j)
            gu = np.uint64(period + k)
            tu = np.uint64(t0)
            for t in range(np.uint64(n)):
                out[ju + t] = scale * fine[tu + t] * gauss[gu + t]
            k += n
            j += n
            if j == period:
                j = 0
    if out.shape[0] > period:
        out[period] = out[0]


@part
def _sheet_pass(u, v, coef, table, n_cos, period, row_amp, prof, noise, has_noise,
                dt_tau, dt_tau_v, m, sfa, s_lo, s_hi, cy, sy, ext, even, odd, proj, zero):
    """One step of the neurons in slots ``s_lo … s_hi - 1`` of every row of ``u`` (a ring is one row),
    given the rows' mode coefficients.

    ``table`` holds the cosine rows, then the sine rows. Row ``i``'s recurrent input is
    ``Σ_q coef[q, i] φ_q``. Writes the projections of those neurons' new ``u²`` of each row to
    ``proj[:, i]`` and returns their ``Σ u²``. The external input of neuron ``(i, j)`` is
    ``row_amp[i] · prof[j] + noise[i, j]``.

    Slots are done a block at a time in short, simple loops (each vectorises): synthesise the cosine
    and sine parts per slot; step the neurons ``s`` (input cos + sin), then their partners
    ``period - s`` (cos - sin), each partner folding its new ``u²`` and that of neuron ``s`` into the
    slot's even and odd parts as it goes; project those on the modes. Building the input, stepping and
    folding in one loop per side (the stores of each run forwards, so it vectorises) saves two passes
    over the state: 5–10 % of a whole step at 512–8 192 neurons (in-process alternation; no change at
    128 or for the adaptation model, whose 40 modes dominate). Neuron ``s`` leaves its ``u²`` in the
    slot's even part, where its partner picks it up: one array fewer in both loops, and each array is
    more run-time overlap checks in front of a vectorised loop (0–4 % of a step).

    The antipodal slot ``period / 2`` of an even period (the ring grid of every power-of-two ring) holds
    one neuron and is the odd one out of ``period / 2 + 1`` slots: in every mode sweep it would be a
    scalar remainder after the vectorised loop (ten of them per step for the adaptation model). So the
    sweeps stop before it (a whole number of vectors: 64 slots at 128 neurons); its cosines are
    ``(-1)^q`` and its sines vanish, so its input and its projections are one short loop over the modes
    each (:func:`_antipode_input`, :func:`_add_antipode`); and it is stepped as its own partner, with the
    partners (its sines vanish, so ``cos - sin`` is its input too), which makes each side of the Euler
    step ``period / 2`` neurons long. The adaptation ring of 128 neurons takes 0.59 instead of 0.64 µs a
    step, CANN1D-128 0.44 instead of 0.48, the adaptation ring of 512 neurons 1.54 instead of 1.62
    (each engine copy in its own process, alternating).

    Noise is added to a copy of the input profile (``ext``) before the Euler loop, never inside it:
    LLVM guards a vectorised loop with run-time checks that its arrays do not overlap, and those would
    also test the empty noise array of a noiseless run, whose address is arbitrary. Now and then the
    check failed and the scalar copy of the loop ran, which adds up ``Σ u²`` in another order: a replay
    then differed from the recording in the last bit.
    """
    rows = u.shape[0]
    width = table.shape[0]
    n_slots = period // 2 + 1  # the table's columns from here on are zero padding
    lanes = VECTOR_BYTES // table.itemsize  # slots per vector
    anti = period // 2 if period % 2 == 0 else -1  # the antipodal slot of an even period (one neuron)
    total = 0.0
    for i in range(rows):
        row_inp, amp = _row_input(i, row_amp[i], prof, noise, has_noise, ext, proj)
        for s0 in range(s_lo, s_hi, SLOT_BLOCK):
            s1 = min(s0 + SLOT_BLOCK, s_hi)
            lo = np.uint64(s0)
            has_anti = s0 <= anti < s1
            end = anti if has_anti else s1  # the sweeps stop before the antipode
            hi = np.uint64(end)  # the mode sweeps' slots
            apart = has_anti  # the antipode's modes are done apart from the sweeps
            if s1 == n_slots and end % lanes > lanes // 2:  # rather than a long scalar tail, the last
                hi = np.uint64(table.shape[1])                # block sweeps the zero padding
                apart = False
            q = 0
            while q < width:  # synthesis: the cosine part in cy, the sine part in sy
                out = cy if q < n_cos else sy
                first = q == 0 or q == n_cos  # a part's first sweep sets its sums
                if q + 8 <= (n_cos if q < n_cos else width):  # eight modes a sweep, else four
                    weights = (coef[q, i], coef[q + 1, i], coef[q + 2, i], coef[q + 3, i],
                               coef[q + 4, i], coef[q + 5, i], coef[q + 6, i], coef[q + 7, i])
                    _synthesise(table[q:q + 8], weights, lo, hi, out, first)
                    q += 8
                else:
                    _synthesise(table[q:q + 4], (coef[q, i], coef[q + 1, i], coef[q + 2, i], coef[q + 3, i]),
                                lo, hi, out, first)
                    q += 4
            if apart:
                _antipode_input(coef, n_cos, i, anti, cy, sy, zero)
            total = _step_slots(u, v, cy, sy, even, odd, row_inp, amp, i, s0, s1, period, dt_tau, dt_tau_v,
                                m, sfa, zero, total)
            q = 0
            while q < width:  # projection: the even part on the cosines, the odd on the sines
                x = even if q < n_cos else odd
                if q + 16 <= (n_cos if q < n_cos else width) and hi - lo >= LONG_SWEEP:
                    _project_sixteen(table, q, lo, hi, x, proj, i, zero)
                    q += 16
                else:
                    y = even if q + 4 < n_cos else odd
                    _project_eight(table, q, lo, hi, x, x, y, y, proj, i, zero)
                    q += 8
            if apart:
                _add_antipode(even[anti], n_cos, i, proj)
    return total


@part
def _row_input(i, amp, prof, noise, has_noise, ext, proj):
    """Start row ``i`` of a ring's pass: zero its projections ``proj[:, i]`` and return its external input
    as ``(row_inp, amp)``, which is ``amp · row_inp``: the profile, or with noise a copy of the input
    built before the Euler loop (:func:`_sheet_pass`)."""
    for q in range(proj.shape[0]):
        proj[q, i] = 0.0
    if not has_noise:
        return prof, amp
    for j in range(np.uint64(prof.shape[0])):
        ext[j] = amp * prof[j] + noise[i, j]
    return ext, 1.0


@part
def _quarter_pass(u, v, coef, table, n_cos, period, row_amp, prof, noise, has_noise, dt_tau, dt_tau_v, m,
                  sfa, s_lo, s_hi, cy, sy, ext, even, odd, proj, zero, cos_even, cos_odd, sin_even, sin_odd):
    """:func:`_sheet_pass` for a ring whose mode sweeps take only the slots ``0 … period / 4`` of a
    period that is a multiple of four (:func:`quarter_wave`); ``s_lo … s_hi - 1`` are slots of that quarter.

    Slot ``period / 2 - s`` sits at ``π - θ_s``, where mode ``m`` is ``(-1)^m`` times its cosine at
    ``θ_s`` (``-(-1)^m`` its sine). The synthesis adds the even and the odd modes apart (``cos_even`` …
    ``sin_odd``) and unfolds them onto both slots (``cy[s] = even + odd``, ``cy[P/2 - s] = even - odd``,
    :func:`_quarter_synthesis`); the Euler step runs on a block's slots and on their mirrors; then the
    even and odd parts of ``u²`` of slot and mirror are folded together for the even and for the odd modes
    and projected (:func:`_quarter_projection`). Half the multiply-adds of both sweeps and half the table
    in cache, for two short passes over the quarter; the antipode is slot 0's mirror, so it needs nothing
    apart. It is a function of its own, chosen in :func:`run` by the type of ``quarter``, so the other
    rings' loop does not compile it."""
    total = 0.0
    for i in range(u.shape[0]):
        row_inp, amp = _row_input(i, row_amp[i], prof, noise, has_noise, ext, proj)
        for s0 in range(s_lo, s_hi, SLOT_BLOCK):
            s1 = min(s0 + SLOT_BLOCK, s_hi)
            _quarter_synthesis(coef, table, n_cos, i, s0, s1, period, cy, sy, cos_even, cos_odd, sin_even,
                               sin_odd)
            total = _step_slots(u, v, cy, sy, even, odd, row_inp, amp, i, s0, s1, period, dt_tau, dt_tau_v,
                                m, sfa, zero, total)
            mirror_lo = max(period // 2 - s1 + 1, period // 4 + 1)  # the mirrors of slots s0 … s1 - 1
            if mirror_lo <= period // 2 - s0:                     # below period / 4
                total = _step_slots(u, v, cy, sy, even, odd, row_inp, amp, i, mirror_lo, period // 2 - s0 + 1,
                                    period, dt_tau, dt_tau_v, m, sfa, zero, total)
            _quarter_projection(table, n_cos, i, s0, s1, period, even, odd, cos_even, cos_odd, sin_even,
                                sin_odd, proj, zero)
    return total


@part
def _step_slots(u, v, cy, sy, even, odd, row_inp, amp, i, s0, s1, period, dt_tau, dt_tau_v, m, sfa, zero,
                total):
    """Euler step of row ``i``'s neurons in slots ``s0 … s1 - 1`` (:func:`_sheet_pass`): the neurons
    ``s``, then their partners ``period - s``; each partner folds its new ``u²`` and that of neuron ``s``
    into the slot's even and odd parts. Returns ``total`` plus their ``Σ u²``."""
    num = u.shape[1]
    pairs_end = (period + 1) // 2  # slots 1 … pairs_end - 1 hold two distinct neurons
    dup = num > period  # canns' grid: neuron `period` duplicates neuron 0
    back = np.uint64(period)
    anti = period // 2 if period % 2 == 0 else -1
    has_anti = s0 <= anti < s1
    end = anti if has_anti else s1  # neurons s0 … end - 1 are stepped first, the others as partners
    p_lo = max(s0, 1)
    p_hi = max(min(s1, pairs_end), p_lo)
    # the partners j = period - s of the pair slots, ascending, from the antipode if the range has it and
    # up to the duplicate end neuron if there is one
    b_lo = period - p_hi + (0 if has_anti else 1)
    b_hi = period - p_lo + 1 + (1 if s0 == 0 and dup else 0)
    if has_anti:  # the antipode is stepped as its own partner: it folds its u² onto zero
        even[anti] = zero
    for side in range(2):
        first = np.uint64(s0 if side == 0 else b_lo)
        last = np.uint64(end if side == 0 else b_hi)
        sign = 1.0 if side == 0 else -1.0  # the partner's sines change sign
        for j in range(first, last):
            s = j if side == 0 else back - j  # the neuron's slot
            du = cy[s] + sign * sy[s] + amp * row_inp[j] - u[i, j]
            if sfa:
                du -= v[i, j]
            un = u[i, j] + dt_tau * du
            u[i, j] = un
            if sfa:
                v[i, j] += dt_tau_v * (-v[i, j] + m * un)
            sq = un * un
            total += sq
            if side == 0:  # slot 0 (without a partner on the ring grid) keeps u² as its even
                even[s] = sq  # part and its odd part stays 0 (never written)
            else:  # fold the partner's u² in: even and odd parts of the slot
                own = even[s]
                even[s] = own + sq
                odd[s] = own - sq
    if s0 == 0:  # the duplicate end neuron shares slot 0, where every sine vanishes
        odd[0] = 0.0
    return total


@part
def _antipode_input(coef, n_cos, i, anti, cy, sy, zero):
    """The cosine and sine parts of row ``i``'s recurrent input at the antipodal slot ``anti`` (an even
    period): ``Σ_q (-1)^q coef[q, i]`` over the cosine modes (``cos(q π)``, exactly ±1 in the table), and
    0 (``sin(q π)``). One loop over the modes, which vectorises as a sum."""
    acc = zero
    for q in range(np.uint64(n_cos)):
        acc += coef[q, i] if q % 2 == 0 else -coef[q, i]
    cy[anti] = acc
    sy[anti] = zero


@part
def _add_antipode(x, n_cos, i, proj):
    """Add the antipodal neuron's ``u²`` (``x``) to row ``i``'s projections on the cosine modes: ``(-1)^q
    x`` (its sines vanish)."""
    for q in range(np.uint64(n_cos)):
        proj[q, i] += x if q % 2 == 0 else -x


@part
def _quarter_synthesis(coef, table, n_cos, i, s0, s1, period, cy, sy, cos_even, cos_odd, sin_even, sin_odd):
    """Row ``i``'s cosine and sine parts ``cy``, ``sy`` on the slots ``s0 … s1 - 1`` of the quarter
    ``0 … period / 4`` and on their mirrors ``period / 2 - s`` (:func:`_quarter_pass`).

    Rows alternate between even and odd modes: cosine row ``q`` is mode ``q``, sine row ``n_cos + q`` mode
    ``q + 1`` (:meth:`canns_engine.connectivity.ModalKernel.quarter_symmetric`), so of a sweep's four rows
    the first and third go to one sum and the others to the other."""
    lo, hi = np.uint64(s0), np.uint64(s1)
    for q in range(0, table.shape[0], 4):
        c0, c1, c2, c3 = coef[q, i], coef[q + 1, i], coef[q + 2, i], coef[q + 3, i]
        x = cos_even if q < n_cos else sin_odd  # rows q and q + 2
        y = cos_odd if q < n_cos else sin_even  # rows q + 1 and q + 3
        t0, t1, t2, t3 = table[q], table[q + 1], table[q + 2], table[q + 3]
        if q == 0 or q == n_cos:  # a part's first sweep sets its sums
            for s in range(lo, hi):
                x[s] = c0 * t0[s] + c2 * t2[s]
                y[s] = c1 * t1[s] + c3 * t3[s]
        else:
            for s in range(lo, hi):
                x[s] += c0 * t0[s] + c2 * t2[s]
                y[s] += c1 * t1[s] + c3 * t3[s]
    for s in range(lo, hi):
        cy[s] = cos_even[s] + cos_odd[s]
        sy[s] = sin_even[s] + sin_odd[s]
    half = np.uint64(period // 2)  # slot 0's mirror is the antipode; slot period / 4 is its own
    for s in range(lo, np.uint64(min(s1, period // 4))):  # the sines change sign on the mirror
        cy[half - s] = cos_even[s] - cos_odd[s]
        sy[half - s] = sin_odd[s] - sin_even[s]


@part
def _quarter_projection(table, n_cos, i, s0, s1, period, even, odd, cos_even, cos_odd, sin_even, sin_odd,
                        proj, zero):
    """Add to ``proj[:, i]`` the projections of the even and odd parts of ``u²`` on the slots ``s0 … s1 -
    1`` of the quarter and on their mirrors (:func:`_quarter_pass`).

    Slot ``s`` and its mirror ``period / 2 - s`` are folded for each kind of mode: ``even[s] ± even[P/2 -
    s]`` for the even and odd cosines, ``odd[s] ∓ odd[P/2 - s]`` for the even and odd sines; slot
    ``period / 4`` is its own mirror. Eight modes a sweep (:func:`_project_eight`)."""
    lo, hi = np.uint64(s0), np.uint64(s1)
    half = np.uint64(period // 2)
    for s in range(lo, np.uint64(min(s1, period // 4))):
        e, e_mirror, o, o_mirror = even[s], even[half - s], odd[s], odd[half - s]
        cos_even[s] = e + e_mirror
        cos_odd[s] = e - e_mirror
        sin_even[s] = o - o_mirror
        sin_odd[s] = o + o_mirror
    own = period // 4
    if s0 <= own < s1:
        cos_even[own] = cos_odd[own] = even[own]
        sin_even[own] = sin_odd[own] = odd[own]
    for q in range(0, table.shape[0], 8):
        _project_eight(table, q, lo, hi,
                       cos_even if q < n_cos else sin_odd, cos_odd if q < n_cos else sin_even,
                       cos_even if q + 4 < n_cos else sin_odd, cos_odd if q + 4 < n_cos else sin_even,
                       proj, i, zero)


@part
def _project_eight(table, q, lo, hi, x0, x1, y0, y1, proj, i, zero):
    """Add to ``proj[q … q + 7, i]`` the projections of the slots ``lo … hi - 1`` on table rows ``q … q +
    7``: of ``x0`` on rows ``q`` and ``q + 2``, ``x1`` on ``q + 1`` and ``q + 3``, ``y0`` and ``y1`` on
    the next four (the same arrays where the rows' parities do not matter, :func:`_sheet_pass`; the
    even and odd modes' folds in :func:`_quarter_projection`). A sweep may take the last four cosines and
    the first four sines. Eight modes a sweep: LLVM keeps eight sums two vectors wide, which take fewer
    adds to reduce than four sums four vectors wide, in half the sweeps and loads of ``x`` (1.02–1.05× a
    ring step, each engine copy in its own process)."""
    t = table[q:q + 8]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = zero
    for s in range(lo, hi):
        a0 += x0[s] * t[0, s]
        a1 += x1[s] * t[1, s]
        a2 += x0[s] * t[2, s]
        a3 += x1[s] * t[3, s]
        a4 += y0[s] * t[4, s]
        a5 += y1[s] * t[5, s]
        a6 += y0[s] * t[6, s]
        a7 += y1[s] * t[7, s]
    for r, acc in enumerate((a0, a1, a2, a3, a4, a5, a6, a7)):
        proj[q + r, i] += acc


@part
def _project_sixteen(table, q, lo, hi, x, proj, i, zero):
    """Add to ``proj[q … q + 15, i]`` the projections of ``x``'s slots ``lo … hi - 1`` on the table rows
    ``q … q + 15`` (all of one part). Sixteen sums, one vector each, take half the sweeps, loads of ``x``
    and horizontal sums of :func:`_project_eight`, which pays on long sweeps only (:data:`LONG_SWEEP`):
    the adaptation ring of 512 neurons on canns' grid (256 slots, 40 rows) 1.35 → 1.30 µs a step, the
    one of 128 neurons (64 slots) 0.45 → 0.47 µs (each engine copy in its own process, alternating)."""
    t = table[q:q + 16]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = zero
    b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = zero
    for s in range(lo, hi):
        xs = x[s]
        a0 += xs * t[0, s]
        a1 += xs * t[1, s]
        a2 += xs * t[2, s]
        a3 += xs * t[3, s]
        a4 += xs * t[4, s]
        a5 += xs * t[5, s]
        a6 += xs * t[6, s]
        a7 += xs * t[7, s]
        b0 += xs * t[8, s]
        b1 += xs * t[9, s]
        b2 += xs * t[10, s]
        b3 += xs * t[11, s]
        b4 += xs * t[12, s]
        b5 += xs * t[13, s]
        b6 += xs * t[14, s]
        b7 += xs * t[15, s]
    for r, acc in enumerate((a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7)):
        proj[q + r, i] += acc


@part
def _synthesise(t, c, lo, hi, out, first):
    """Set (``first``) or add to ``out[s]`` the sum ``Σ_r c[r] · t[r, s]`` for the slots ``lo … hi - 1``:
    the rows of the table slice ``t`` weighted by the tuple ``c`` (four or eight long, a constant to
    numba, so the sum is unrolled). Each sweep reads and writes ``out`` once, so eight rows a sweep halve
    that traffic against four."""
    for s in range(lo, hi):
        acc = c[0] * t[0, s]
        for r in range(1, len(c)):
            acc += c[r] * t[r, s]
        out[s] = acc if first else out[s] + acc


@part
def _combine(weights, mat, out):
    """``out = Σ_k weights[k] · mat[k]``: a weighted sum of the rows of ``mat``, four rows a sweep (each
    sweep is one long vectorised loop over the row)."""
    n = np.uint64(out.shape[0])
    count = weights.shape[0]
    for j in range(n):
        out[j] = 0.0
    k = 0
    while k < count:
        if k + 4 <= count:
            w0, w1, w2, w3 = weights[k], weights[k + 1], weights[k + 2], weights[k + 3]
            m0, m1, m2, m3 = mat[k], mat[k + 1], mat[k + 2], mat[k + 3]
            for j in range(n):
                out[j] += w0 * m0[j] + w1 * m1[j] + w2 * m2[j] + w3 * m3[j]
            k += 4
        else:
            w0 = weights[k]
            m0 = mat[k]
            for j in range(n):
                out[j] += w0 * m0[j]
            k += 1


@part
def _sheet_rows(u, v, coef, table, n_cos, period, row_amp, prof, noise, has_noise, dt_tau, dt_tau_v,
                m, sfa, s_lo, s_hi, c_row, s_row, drive, drive2, ev, od, proj, zero):
    """One step of the rows in the slots ``s_lo … s_hi - 1`` of a sheet (``s_lo`` a multiple of four),
    with the row modes on the outside: every inner loop runs along a whole row.

    ``coef[q, j]`` holds the recurrent input in row mode ``q`` for column ``j`` (``Σ_q φ_q(i) coef[q, j]``
    is the input of neuron ``(i, j)``). For every slot ``s`` of the rows: synthesise the cosine and sine
    parts of rows ``s`` and ``period - s`` (``c_row``, ``s_row``), step those rows (and the duplicate
    last row) and fold their new ``u²`` into even and odd parts (``ev[k]``, ``od[k]`` for the ``k``-th
    slot of a group of four); once a group is complete, add it to the row-mode projections ``proj[q, j]``
    of every mode, four slots a sweep (one load and store of a projection row per four multiply-adds,
    where a slot at a time stores it after each one: −10 to −15 % a step on 32–128 sheets). Returns
    ``Σ u²``. Same arithmetic as :func:`_sheet_pass` on the transposed problem; here the loops are ``L``
    long instead of ``L/2`` (short loops do not vectorise well).
    """
    rows, num = u.shape
    width = table.shape[0]
    pairs_end = (period + 1) // 2
    dup = rows > period
    n = np.uint64(num)
    total = 0.0
    for q in range(width):
        for j in range(n):
            proj[q, j] = zero
    for s in range(s_lo, s_hi):
        _combine(table[:n_cos, s], coef[:n_cos], c_row)  # synthesis: cosine part, then sine part
        _combine(table[n_cos:, s], coef[n_cos:], s_row)
        partner = period - s if 1 <= s < pairs_end else (period if s == 0 and dup else -1)
        for which in range(2 if partner >= 0 else 1):  # row s (cos + sin), its partner (cos - sin)
            i = s if which == 0 else partner
            sign = 1.0 if which == 0 else (-1.0 if s > 0 else 0.0)
            sq = drive if which == 0 else drive2
            amp = row_amp[i]
            ui = u[i]
            for j in range(n):
                sq[j] = c_row[j] + sign * s_row[j] + amp * prof[j]
            if has_noise:
                ni = noise[i]
                for j in range(n):
                    sq[j] += ni[j]
            if sfa:
                vi = v[i]
                for j in range(n):
                    un = ui[j] + dt_tau * (sq[j] - ui[j] - vi[j])
                    ui[j] = un
                    vi[j] += dt_tau_v * (m * un - vi[j])
                    sq[j] = un * un
                    total += un * un
            else:
                for j in range(n):
                    un = ui[j] + dt_tau * (sq[j] - ui[j])
                    ui[j] = un
                    sq[j] = un * un
                    total += un * un
        k = s % 4  # the slot's place in its group of four
        evk = ev[k]
        odk = od[k]
        if partner >= 0:
            for j in range(n):
                evk[j] = drive[j] + drive2[j]
                odk[j] = drive[j] - drive2[j]
        else:  # the antipodal row of an even period: no partner, and its sines vanish
            for j in range(n):
                evk[j] = drive[j]
                odk[j] = zero
        if k == 3 or s == s_hi - 1:  # projection of the group: four slots a sweep, every mode
            g0 = s - k
            for rest in range(k + 1, 4):  # a short last group: its missing rows count zero
                for j in range(n):
                    ev[rest, j] = zero
                    od[rest, j] = zero
            for part in range(2):
                x = ev if part == 0 else od
                x0, x1, x2, x3 = x[0], x[1], x[2], x[3]
                for q in range(0 if part == 0 else n_cos, n_cos if part == 0 else width):
                    t0 = table[q, g0]
                    t1 = table[q, g0 + 1] if k >= 1 else zero
                    t2 = table[q, g0 + 2] if k >= 2 else zero
                    t3 = table[q, g0 + 3] if k >= 3 else zero
                    pq = proj[q]
                    for j in range(n):
                        pq[j] += t0 * x0[j] + t1 * x1[j] + t2 * x2[j] + t3 * x3[j]
    return total


@part
def _fold(x, period, even, odd):
    """Even and odd parts per slot of a row ``x``: ``even[s] = x[s] + x[period - s]``, ``odd[s] = x[s] -
    x[period - s]``; slot 0 takes the duplicate end element if there is one, and the antipodal slot of an
    even period holds one element."""
    even[0] = x[0] + (x[period] if x.shape[0] > period else 0.0)
    odd[0] = 0.0
    back = np.uint64(period)
    for s in range(np.uint64(1), np.uint64((period + 1) // 2)):
        even[s] = x[s] + x[back - s]
        odd[s] = x[s] - x[back - s]
    if period % 2 == 0:
        even[period // 2] = x[period // 2]
        odd[period // 2] = 0.0


@part
def _sheet_modes(proj, coef, table, n_cos, weight, gain, period, q_lo, q_hi, even, odd, cy, sy, col, zero):
    """Per-row coefficients of ``gain · K U² K`` from the per-row projections of ``U²`` (a sheet), for
    the column modes ``q_lo … q_hi - 1``.

    ``proj[q, i]`` is row ``i``'s projection on column mode ``q`` and ``weight`` the mode weights. For
    every column mode: fold the row pairs, project along the rows with the same table, scale by both
    modes' weights, synthesise back and unfold into ``coef[q, i]``.
    """
    width = table.shape[0]
    slots = period // 2 + 1
    rows = proj.shape[1]
    back = np.uint64(period)
    for q in range(q_lo, q_hi):
        _fold(proj[q], period, even, odd)
        for p in range(0, width, 4):  # project along the rows, four modes a sweep
            x = even if p < n_cos else odd
            a0 = a1 = a2 = a3 = zero
            for s in range(np.uint64(slots)):
                a0 += x[s] * table[p, s]
                a1 += x[s] * table[p + 1, s]
                a2 += x[s] * table[p + 2, s]
                a3 += x[s] * table[p + 3, s]
            scale = gain * weight[q]
            col[p] = a0 * scale * weight[p]
            col[p + 1] = a1 * scale * weight[p + 1]
            col[p + 2] = a2 * scale * weight[p + 2]
            col[p + 3] = a3 * scale * weight[p + 3]
        for s in range(np.uint64(slots)):
            cy[s] = 0.0
            sy[s] = 0.0
        for p in range(0, width, 4):  # and synthesise back
            c0, c1, c2, c3 = col[p], col[p + 1], col[p + 2], col[p + 3]
            out = cy if p < n_cos else sy
            for s in range(np.uint64(slots)):
                out[s] += (c0 * table[p, s] + c1 * table[p + 1, s] + c2 * table[p + 2, s]
                           + c3 * table[p + 3, s])
        for i in range(0, rows, period):  # row 0 and its duplicate
            coef[q, i] = cy[0]
        for s in range(np.uint64(1), np.uint64((period + 1) // 2)):
            coef[q, s] = cy[s] + sy[s]
            coef[q, back - s] = cy[s] - sy[s]
        if period % 2 == 0:
            coef[q, period // 2] = cy[period // 2]


@part
def _add_block(a, ra, ka, b, kb, out, ro, n):
    """``out[ro + r, :n] += Σ_k a[ra + r, ka + k] · b[kb + k, :n]`` for ``r, k < 4``: a 4 × 4 block of a
    matrix product, vectorised along the rows.

    Each row of ``b`` loaded serves four rows of ``out``: a load per multiply-add, where one row of
    ``out`` at a time (four rows of ``b`` a sweep, :func:`_combine`) needs 1.25, and a quarter of the
    loops (in isolation, the product of a 32 × 32 sheet with 24 modes: 1.96 → 1.24 µs; 4 × 8, 8 × 4,
    2 × 4 and 4 × 2 blocks were 4–20 % slower).
    """
    w00, w01, w02, w03 = a[ra, ka], a[ra, ka + 1], a[ra, ka + 2], a[ra, ka + 3]
    w10, w11, w12, w13 = a[ra + 1, ka], a[ra + 1, ka + 1], a[ra + 1, ka + 2], a[ra + 1, ka + 3]
    w20, w21, w22, w23 = a[ra + 2, ka], a[ra + 2, ka + 1], a[ra + 2, ka + 2], a[ra + 2, ka + 3]
    w30, w31, w32, w33 = a[ra + 3, ka], a[ra + 3, ka + 1], a[ra + 3, ka + 2], a[ra + 3, ka + 3]
    b0, b1, b2, b3 = b[kb], b[kb + 1], b[kb + 2], b[kb + 3]
    o0, o1, o2, o3 = out[ro], out[ro + 1], out[ro + 2], out[ro + 3]
    for j in range(np.uint64(n)):
        x0, x1, x2, x3 = b0[j], b1[j], b2[j], b3[j]
        o0[j] += w00 * x0 + w01 * x1 + w02 * x2 + w03 * x3
        o1[j] += w10 * x0 + w11 * x1 + w12 * x2 + w13 * x3
        o2[j] += w20 * x0 + w21 * x1 + w22 * x2 + w23 * x3
        o3[j] += w30 * x0 + w31 * x1 + w32 * x2 + w33 * x3


@part
def _sheet_dense(proj, coef, dense, weight, gain, q_lo, q_hi, scaled, zero):
    """Per-row coefficients of ``gain · K U² K`` from the per-row projections of ``U²``, for a small sheet.

    The same map as :func:`_sheet_modes`, applied as the dense matrix ``dense`` of the modal kernel along
    the rows: ``coef[q, :] = gain · weight[q] · dense · proj[q, :]`` (``dense`` is symmetric; its rows,
    and those of the scaled projections, are padded with zeros to a multiple of four) for the column
    modes ``q_lo … q_hi - 1`` (a multiple of four apart), four modes by four rows of ``dense`` at a time
    (:func:`_add_block`). On a sheet of a few dozen neurons per axis this costs more multiplications
    than the modal route but runs in long, vectorised loops, where the modal route is mostly loop
    overhead (its loops are ``L/2`` long).
    """
    num = proj.shape[1]
    n = np.uint64(num)
    for q in range(q_lo, q_hi):
        scale = gain * weight[q]
        for k in range(n):  # in the product's precision, so the loops below stay in it
            scaled[q, k] = proj[q, k] * scale
        for j in range(n):
            coef[q, j] = zero
    for q0 in range(q_lo, q_hi, 4):
        for k0 in range(0, dense.shape[0], 4):
            _add_block(scaled, q0, k0, dense, k0, coef, q0, num)


@part
def _fill_input(inp, row_amp, prof, noise, has_noise):
    """The external input of the current step as an array (kept as model state and recorded)."""
    for i in range(inp.shape[0]):
        for j in range(np.uint64(inp.shape[1])):
            inp[i, j] = row_amp[i] * prof[j] + (noise[i, j] if has_noise else 0.0)


@part
def _copy(src, dst):
    """``dst[:] = src`` for two arrays of one shape (a loop: cheaper to compile than slice assignment)."""
    for i in range(src.shape[0]):
        for j in range(np.uint64(src.shape[1])):
            dst[i, j] = src[i, j]


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def state_copies(u, v, inp, x, k, sfa):
    """Copies of the flat state ``u``, ``inp``, ``x`` (and ``v``; empty unless ``sfa``), the rate
    ``r = u² / (1 + k Σu²)`` of the current state and its total ``Σ r``: the arrays of a snapshot.

    One compiled call that keeps the GIL (no ``nogil``): done with numpy, this is half a dozen
    operations that each release the GIL on arrays of more than a few hundred elements, and a worker
    thread must then win it back from the GUI thread every time (0.1 ms alone, ~1 ms next to a thread
    running Python, for a 512-neuron ring).
    """
    n = u.shape[0]
    u_out = np.empty(n)
    r = np.empty(n)
    inp_out = np.empty(n)
    v_out = np.empty(n if sfa else 0)
    s2 = 0.0
    for j in range(n):
        u_out[j] = u[j]
        inp_out[j] = inp[j]
        s2 += u[j] * u[j]
    norm = 1.0 / (1.0 + k * s2)
    for j in range(n):
        r[j] = u[j] * u[j] * norm
    if sfa:
        for j in range(n):
            v_out[j] = v[j]
    return u_out, r, inp_out, v_out, x.copy(), s2 * norm


class Workspace(NamedTuple):
    """The scratch arrays of one thread's :func:`run`, which cannot allocate
    (:data:`canns_engine._flags.NO_NRT`).

    ``tab`` marks the table's precision (the recurrent product), the rest is float64. A ring is one row
    of ``num`` neurons; the sheet-only arrays are empty there.
    """

    proj: np.ndarray  # tab (width, rows): projections of the rows' u² on the modes, all parts added
    proj_flat: np.ndarray  # the same memory, flat (added up in one loop)
    coef: np.ndarray  # tab (width, rows): each row's recurrent input in the modes
    zero: np.floating  # tab: the start of a sum in the table's precision
    no_noise: np.ndarray  # (0, 0): the noise argument of the parts when there is none (never read)
    row: np.ndarray  # (fields,): a recorded step's summary, before it is stored as float32
    col: np.ndarray  # tab (width,): a sheet's column-mode coefficients (modal route)
    cy: np.ndarray  # tab (table columns,): cosine part of a row's input per slot (sheet: per column mode)
    sy: np.ndarray  # tab: sine part
    even: np.ndarray  # tab, zeros: even part of u² per slot; zero in the padding columns (never written)
    odd: np.ndarray  # tab, zeros: odd part
    ext: np.ndarray  # (num,) on a ring with noise: a row's whole input
    drive: np.ndarray  # (num,) on a sheet: a row's new u²
    drive2: np.ndarray  # (num,) on a sheet: its partner row's new u²
    c_row: np.ndarray  # tab (num,) on a sheet: a row's cosine part
    s_row: np.ndarray  # tab (num,) on a sheet: its sine part
    ev: np.ndarray  # tab (4, num) on a sheet: four slots' folded u², even part
    od: np.ndarray  # tab (4, num) on a sheet: odd part
    scaled: np.ndarray  # tab (width, rows of dense) on a small sheet: the scaled projections (zero-padded)
    fine: np.ndarray  # (POWER_BLOCK + blocks,): powers of an input bump's factor (:func:`_profile`)
    gauss: np.ndarray  # (2 period + 1,): exp(-c (k Δ)²) at k + period, the fixed factor of every input bump
    prof_x: np.ndarray  # (num,): the input profile along x
    prof_y: np.ndarray  # (rows,): along y (a ring's single row: 1)
    row_amp: np.ndarray  # (rows,): each row's input amplitude this step
    seen: np.ndarray  # (2,): the stimulus positions the profiles were built for
    marginals: np.ndarray  # (2, num) on a sheet: scratch of summarize_2d
    cos_even: np.ndarray  # tab (table columns,) on a ring: the even modes' cosine part, or their folded u²
    cos_odd: np.ndarray  # tab: the odd modes' (a quarter-wave ring's sweeps, _sheet_pass)
    sin_even: np.ndarray  # tab: the same for the sines
    sin_odd: np.ndarray  # tab


def workspace(table: np.ndarray, dense_rows: int, rows: int, num: int, period: int, *, noise: bool,
              fields: int, coef: np.ndarray | None = None) -> Workspace:
    """A :class:`Workspace` for :func:`run` on ``rows × num`` neurons with the mode table ``table`` (and a
    dense kernel of ``dense_rows`` rows on a small sheet, else 0).

    ``coef`` shares another thread's coefficients: the two threads of a sheet compute half of them each
    (a ring's threads each compute all of theirs, so it is ignored there)."""
    tab = table.dtype
    width, columns = table.shape
    sheet = rows > 1
    on_sheet = num if sheet else 0
    f64 = np.dtype(np.float64)
    shapes = {  # (every array zeroed: even and odd must be zero in the table's padding columns)
        "proj": ((width, rows), tab), "coef": ((width, rows), tab), "no_noise": ((0, 0), f64),
        "row": ((fields,), f64), "col": ((width,), tab), "cy": ((columns,), tab), "sy": ((columns,), tab),
        "even": ((columns,), tab), "odd": ((columns,), tab),
        "ext": ((num if noise and not sheet else 0,), f64),
        "drive": ((on_sheet,), f64), "drive2": ((on_sheet,), f64), "c_row": ((on_sheet,), tab),
        "s_row": ((on_sheet,), tab), "ev": ((4, on_sheet), tab), "od": ((4, on_sheet), tab),
        "scaled": ((width, dense_rows), tab),
        "fine": ((POWER_BLOCK + period // POWER_BLOCK + 3,), f64), "gauss": ((2 * period + 1,), f64),
        "prof_x": ((num,), f64), "prof_y": ((rows,), f64), "row_amp": ((rows,), f64), "seen": ((2,), f64),
        "marginals": ((2, on_sheet), f64),
        **dict.fromkeys(("cos_even", "cos_odd", "sin_even", "sin_odd"), ((0 if sheet else columns,), tab)),
    }
    arrays = dict(zip(shapes, zeroed_block(list(shapes.values())), strict=True))
    if coef is not None and sheet:
        arrays["coef"] = coef
    return Workspace(**arrays, proj_flat=arrays["proj"].reshape(-1), zero=tab.type(0))


def passes(kernel, sheet: bool) -> tuple[bool | None, bool | None, bool | None]:
    """The ``half``, ``quarter`` and ``sheet`` arguments of :func:`run` for a network with the modal
    kernel ``kernel``: a ring's half-wave pass (:func:`_sheet_pass`), its quarter-wave pass
    (:func:`_quarter_pass`, :func:`quarter_wave`) or a sheet's (:func:`_sheet_rows`)."""
    if sheet:
        return None, None, True
    quarter = quarter_wave(kernel)
    return (None if quarter else True), quarter, None


def swept_slots(kernel, quarter: bool | None) -> int:
    """The slots a ring's mode sweeps take, which its parts cut (:func:`canns_engine.parts.slot_bounds`):
    all of them, or with ``quarter`` the quarter ``0 … period / 4`` (:func:`_quarter_pass`)."""
    return kernel.period // 4 + 1 if quarter else kernel.slots


def quarter_wave(kernel) -> bool | None:
    """The ``quarter`` argument of :func:`run` for a ring with the modal kernel ``kernel``: ``True`` where
    its mode sweeps take a quarter of the period (:func:`_sheet_pass`), that is where the kernel has that
    symmetry (:meth:`~canns_engine.connectivity.ModalKernel.quarter_symmetric`) and the period is at
    least :data:`QUARTER_MIN_PERIOD`; ``None`` otherwise. Two types, so numba compiles one version of the
    loop for each."""
    return True if kernel.quarter_symmetric and kernel.period >= QUARTER_MIN_PERIOD else None


@kernel
def run(u, v, r, inp, table, dense, n_cos, weight, period, gain, k, dt_tau, dt_tau_v, m, sfa,
        z_min, z_range, a, stim_pos, stim_amp, noise, step0, rec_every,
        out_u, out_v, out_inp, out_sum, dec_cos, dec_sin, dec_w, x, dx, half, quarter, sheet, wide,
        bounds, me, sync, proj_parts, s2_parts, work):
    """Advance a ring (``u`` of shape ``(1, num)``) or a sheet (``(L, L)``) by ``len(stim_amp)`` steps.

    ``half``, ``quarter`` and ``sheet`` choose the pass (:func:`passes`): one of them is ``True``, the
    others ``None``. numba compiles one version per combination of types and prunes every branch on an
    argument that is ``None`` (only there: a branch on ``True``, or inside an inlined part, is compiled
    whichever way it goes, and so is one on an argument that the function assigns to), so each version
    compiles its own pass only. ``wide`` (``True`` or ``None``,
    :func:`canns_engine._vectors.wide`) chooses the version with 512-bit vectors.

    ``stim_pos`` has one column per dimension; ``noise`` is empty or holds one input array per step
    (added to the stimulus). Neuron ``(i, j)`` of a sheet sits at ``(x[j], x[i])`` and its input is the
    product of two 1D bumps. Returns ``(recorded, bad)``: the number of rows written to the outputs and
    the index (within the chunk) of the first step whose state was non-finite, or -1 (-2: the partner
    thread aborted).

    The slots are cut into *parts* at ``bounds`` (``[0, slots]`` or ``[0, b, slots]``). Each part's
    projections and ``Σ u²`` go to its own row of ``proj_parts`` and ``s2_parts`` (two buffers, used in
    turn from step to step), and are then added up in part order; so a network cut into two parts gives
    the same numbers whether one thread does both parts (``me = -1``) or two threads do one each
    (``me = 0`` and ``me = 1``, sharing ``u``, ``v``, ``proj_parts``, ``s2_parts`` and the barrier
    counters ``sync``). Thread 0 alone writes ``r``, ``inp`` and the recording; barriers keep thread 1
    off the state while thread 0 reads all of it (the rate before the last step, a recorded step). On a
    sheet the two threads also share the coefficients (``work.coef``, see :func:`workspace`): each
    computes half of the column modes, and a second barrier per step waits for both halves.

    ``work`` holds the thread's scratch arrays (:class:`Workspace`): ``run`` is compiled without
    reference counting (:data:`canns_engine._flags.NO_NRT`) and cannot allocate.
    """
    prefer_wide_vectors(wide)  # 512-bit vectors if wide is True (canns_engine._vectors)
    mark_unshared()  # no run-time overlap checks for arrays no other pointer writes (canns_engine._noalias)
    rows, num = u.shape
    width = table.shape[0]
    c_inp = 0.25 / (a * a)
    spacing = z_range / period
    has_noise = noise.shape[0] > 0
    parts = bounds.shape[0] - 1
    threaded = me >= 0
    lead = me <= 0  # the thread that writes r, inp and the recording
    proj, proj_flat, coef, zero = work.proj, work.proj_flat, work.coef, work.zero
    # the column modes this thread takes in a sheet's mode step (all of them on one thread)
    q_cut = width // 8 * 4  # (a multiple of four: the dense route takes modes four at a time)
    q_lo = 0 if me <= 0 else q_cut
    q_hi = width if me < 0 else (q_cut if me == 0 else width)
    # the parts' projections are added up as flat arrays: one loop, where (mode, row) loops ran a ring's
    # single row as `width` one-element loops, each with its set-up (sampled: 9 % of a 128-neuron step);
    # a sheet's thread adds up only the modes of its half of the mode step
    e_lo = np.uint64(q_lo * rows if sheet is not None else 0)
    e_hi = np.uint64(q_hi * rows if sheet is not None else width * rows)
    parts_flat = proj_parts.reshape((2, parts, proj_parts.shape[2] * rows))
    no_noise, row, col, cy, sy = work.no_noise, work.row, work.col, work.cy, work.sy
    even, odd, ext, drive, drive2 = work.even, work.odd, work.ext, work.drive, work.drive2
    c_row, s_row, ev, od, fine, gauss = work.c_row, work.s_row, work.ev, work.od, work.fine, work.gauss
    scaled = work.scaled
    prof_x, prof_y, row_amp, seen = work.prof_x, work.prof_y, work.row_amp, work.seen
    for j in range(period + 1):
        gauss[period + j] = gauss[period - j] = math.exp(-c_inp * (j * spacing) ** 2)
    for j in range(num):
        prof_x[j] = 0.0
    for i in range(rows):
        prof_y[i] = 1.0  # a ring's single row has amplitude 1
    seen[0] = seen[1] = np.nan
    for i in range(rows):
        row_amp[i] = 0.0
    for q in range(width):
        for i in range(rows):
            coef[q, i] = 0.0
    steps = stim_amp.shape[0]
    to_record = (rec_every - (step0 + 1) % rec_every) % rec_every  # steps before the next recorded one
    recorded = 0
    s2 = 0.0
    met = 0  # barriers passed (-1: the other thread aborted)
    for step in range(-1, steps):  # step -1: a pass with dt = 0 leaves the state as it is and gives the
        if step >= 0:              # projections and Σu² of the starting state
            if not math.isfinite(s2):
                return recorded, step
            norm = 1.0 / (1.0 + k * s2)
            if step == steps - 1:  # the model keeps the rate of the state the last step started from
                if lead:
                    for i in range(rows):
                        for j in range(num):
                            r[i, j] = u[i, j] * u[i, j] * norm
                if threaded:  # the other thread may step only once r is taken
                    met = barrier(sync, me, met)
                    if met < 0:
                        return recorded, -2
            amp = stim_amp[step]
            for axis in range(1 if sheet is None else 2):
                pos = stim_pos[step, axis]
                if amp != 0.0 and pos != seen[axis]:
                    target = prof_x if axis == 0 else prof_y
                    _profile(pos, z_min, z_range, period, c_inp, gauss, fine, target)
                    seen[axis] = pos
            for i in range(rows):
                row_amp[i] = amp * prof_y[i] if amp != 0.0 else 0.0
            if sheet is None:
                for q in range(width):
                    coef[q, 0] = proj[q, 0] * gain * norm * weight[q]
            else:  # two threads share the sheet's coefficients and compute half the modes each
                if dense.shape[0] > 0:  # a small sheet
                    _sheet_dense(proj, coef, dense, weight, gain * norm, q_lo, q_hi, scaled, zero)
                else:
                    _sheet_modes(proj, coef, table, n_cos, weight, gain * norm, period, q_lo, q_hi, even,
                                 odd, cy, sy, col, zero)
                if threaded:  # both halves of the coefficients written
                    met = barrier(sync, me, met)
                    if met < 0:
                        return recorded, -2
        live = step >= 0
        buf = (step + 1) % 2  # this step's buffer of part results
        for p in range(0 if not threaded else me, parts if not threaded else me + 1):
            s_lo, s_hi = bounds[p], bounds[p + 1]
            if half is not None:
                s2_parts[buf, p, 0] = _sheet_pass(
                    u, v, coef, table, n_cos, period, row_amp, prof_x,
                    noise[max(step, 0)] if has_noise else no_noise, has_noise, dt_tau if live else 0.0,
                    dt_tau_v if live else 0.0, m, sfa, s_lo, s_hi, cy, sy, ext, even, odd,
                    proj_parts[buf, p], zero)
            if quarter is not None:
                s2_parts[buf, p, 0] = _quarter_pass(
                    u, v, coef, table, n_cos, period, row_amp, prof_x,
                    noise[max(step, 0)] if has_noise else no_noise, has_noise, dt_tau if live else 0.0,
                    dt_tau_v if live else 0.0, m, sfa, s_lo, s_hi, cy, sy, ext, even, odd,
                    proj_parts[buf, p], zero, work.cos_even, work.cos_odd, work.sin_even, work.sin_odd)
            if sheet is not None:
                s2_parts[buf, p, 0] = _sheet_rows(
                    u, v, coef, table, n_cos, period, row_amp, prof_x,
                    noise[max(step, 0)] if has_noise else no_noise, has_noise, dt_tau if live else 0.0,
                    dt_tau_v if live else 0.0, m, sfa, s_lo, s_hi, c_row, s_row, drive, drive2, ev, od,
                    proj_parts[buf, p], zero)
        if threaded:  # both parts done
            met = barrier(sync, me, met)
            if met < 0:
                return recorded, -2
        s2 = s2_parts[buf, 0, 0]
        for e in range(e_lo, e_hi):
            proj_flat[e] = parts_flat[buf, 0, e]
        for p in range(1, parts):
            s2 += s2_parts[buf, p, 0]
            for e in range(e_lo, e_hi):
                proj_flat[e] += parts_flat[buf, p, e]
        if not live:
            continue
        recording = to_record == 0  # (step0 + step + 1) % rec_every == 0, without a division per step
        to_record = rec_every - 1 if recording else to_record - 1
        if lead and (step == steps - 1 or (recording and out_u.shape[0] > 0)):
            _fill_input(inp, row_amp, prof_x, noise[step] if has_noise else no_noise, has_noise)
        if lead and recording:
            if out_u.shape[0] > 0:
                for which in range(3 if sfa else 2):  # u, inp (and v) into the recording
                    _copy(u if which == 0 else (inp if which == 1 else v),
                          (out_u if which == 0 else (out_inp if which == 1 else out_v))[recorded])
            total_r = s2 / (1.0 + k * s2)  # Σ r = Σ u² / (1 + k Σu²), from the pass's Σu²
            px = stim_pos[step, 0] if amp != 0.0 else np.nan
            py = stim_pos[step, stim_pos.shape[1] - 1] if amp != 0.0 else np.nan
            if half is not None or quarter is not None:
                summarize_1d(u[0], total_r, px, dec_cos, dec_sin, dec_w, x, z_min, z_range, dx, row)
            if sheet is not None:
                summarize_2d(u, total_r, px, py, dec_cos, dec_sin, dec_w, z_min, z_range, dx, work.marginals,
                             row)
            for f in range(row.shape[0]):  # into the recording's precision (float32)
                out_sum[recorded, f] = row[f]
            recorded += 1
        if threaded and recording and step < steps - 1:  # thread 1 waited while thread 0 read the state
            met = barrier(sync, me, met)
            if met < 0:
                return recorded, -2
    return recorded, -1

