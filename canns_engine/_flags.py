"""The compile flags of the step loop (:func:`canns_engine._kernels.run`), in one place.

A function the loop calls and Python calls too (the per-state summaries in :mod:`canns_engine.analysis`)
must be compiled with exactly these flags: numba compiles such a function once per signature, by
whichever caller comes first, and from inside the loop it takes the loop's flags. With flags of its own,
a summary came out one bit apart depending on whether a process took a snapshot before its first step.
"""

from __future__ import annotations

FASTMATH = {"reassoc", "contract"}
"""fastmath flags of every kernel: reorder sums, fuse multiply-adds; never assume finite values."""

NO_NRT = {"_nrt": False}
"""Compile without numba's reference counting (its runtime, NRT). With it, every array handed to an
inlined part, every view (``u[i]``, ``table[:n_cos, s]``) and every array chosen by a condition costs an
atomic increment and decrement of a shared counter in the step loop; numba's pruning pass removed none of
them in ``run`` (read from the compiled code, and counted with a debugger: 14 pairs a step on a ring,
65 increments and 97 decrements on a 32 × 32 sheet, 181 and 245 on a 64 × 64 adaptation sheet, where two
threads contend for the same counters). A function compiled so cannot allocate: the caller passes every
scratch array in (:func:`canns_engine._kernels.workspace`). ``_nrt`` is a private option of numba, which
numba uses itself (its string functions and merge sort); a test recompiles the step loop and fails if
reference counting is back. Removing it: 1.18× faster on a 128-neuron adaptation ring, 1.04–1.06× on a
32 × 32 sheet, 1.26× on that sheet with two threads (in-process alternation with the new copy imported
second, so lower bounds; the numbers are bit-identical)."""

LOOP = {"fastmath": FASTMATH, "error_model": "numpy", **NO_NRT}
"""The step loop's flags: ``njit(cache=True, **LOOP)`` (``error_model="numpy"``: a division by zero gives
inf/NaN instead of raising)."""
