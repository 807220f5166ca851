"""Cutting a network's step into two parts, and running the parts on two threads.

The compiled step (:func:`canns_engine._kernels.run`) works through the *slots* of the mode tables (a
ring's neuron pairs, a sheet's row pairs). A large network is cut into two parts of about equal work; the
parts' projections and ``Σ u²`` are added up in a fixed order, so the numbers depend on the cut (on the
network's size) but never on how many threads run it. With ``threads=2`` a second thread runs the second
part while the calling thread runs the first, meeting at a barrier once per step (twice on a sheet, whose
mode step the two threads also share: :mod:`canns_engine._sync`). What a second thread gave in the
engine benchmark's three runs of 2026-11-29 09:27–10:27 (Intel machine, medians over alternating rounds;
2026-11-28's AMD machine in brackets):

==========================  ======================  =========================================
network                     one step, one thread    two threads
==========================  ======================  =========================================
ring of 2 048               3.9–4.5 µs [8.7]        1.33–1.42× faster [1.37×]
ring of 8 192               15.4–15.9 µs [28–30]    1.35–1.48× [1.50–1.56×]
sheet 32 × 32 / 64 × 64     4.8–5.2 / 12.7–14.6 µs  1.06–1.08× / 1.13–1.30× [0.87–1.46×]
sheet 128 × 128             29.6–38.1 µs [58–63]    1.27–1.39× [1.48×]
sheet 256 × 256             105–124 µs              1.43–1.58×
adaptation sheet 64 × 64    23.3–26.5 µs [33–50]    1.19–1.36× [1.10–1.60×]
==========================  ======================  =========================================

The sheets' gain swings with the load on the machine's other core: a second thread helps when the
machine is slow and may cost a little when it is fast. Cutting costs one thread nothing measurable at
these sizes (a sheet's parts follow the groups of four row slots its step works in; a ring's halves are
whole blocks of slots). Smaller rings stay in one part: a cut ring of 1 024 neurons took 16 % longer on
one thread and gained only 8 % on two, a cut ring of 512 took 30 % longer on one. Two threads only help
when two cores are free: the app's engine runs on one thread (its GUI needs the other core); headless
runs choose with ``threads``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _kernels, _sync

RING_MIN_SLOTS = 1024
"""A ring is cut in two from this many slots (``num ≥ 2 047`` on canns' grid)."""

SHEET_MIN_SLOTS = 16
"""A sheet is cut in two from this many row slots (``L ≥ 31``)."""

PAD = 16
"""Spare rows after each part's results (64 bytes or more)."""

_helper: ThreadPoolExecutor | None = None


def slot_bounds(slots: int, sheet: bool, swept: int | None = None) -> np.ndarray:
    """Where a network of ``slots`` slots is cut: ``[0, swept]`` (one part) or ``[0, cut, swept]`` (two),
    where ``swept`` are the slots its mode sweeps take (all of them, or a quarter-wave ring's quarter,
    :func:`canns_engine._kernels.quarter_wave`)."""
    swept = slots if swept is None else swept
    if slots < (SHEET_MIN_SLOTS if sheet else RING_MIN_SLOTS):
        return np.array([0, swept], dtype=np.int64)
    align = 4 if sheet else 8  # a sheet projects four slots at a time; a ring's loops run 8 lanes wide
    return np.array([0, swept // 2 // align * align, swept], dtype=np.int64)


def _second_thread() -> ThreadPoolExecutor:
    global _helper
    if _helper is None:
        _helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="canns-engine-part")
    return _helper


def run(args: tuple, bounds: np.ndarray, width: int, rows: int, dtype, work: Sequence[_kernels.Workspace],
        threads: int) -> tuple[int, int]:
    """Call :func:`_kernels.run` with ``args`` (its arguments up to ``wide``) on the parts at
    ``bounds``, with a second thread for the second part when ``threads ≥ 2``. ``work`` holds each
    thread's scratch arrays (:func:`_kernels.workspace`; a sheet's threads share their coefficients).
    Returns its ``(recorded, bad)``."""
    parts = len(bounds) - 1
    # each part's results on cache lines of their own (PAD): two threads writing into one line slow
    # each other down (measured: 1.3× instead of 1.6× on a ring of 8 192 neurons)
    proj_parts = np.empty((2, parts, width + PAD, rows), dtype=dtype)
    s2_parts = np.empty((2, parts, PAD))
    sync = _sync.new_counters()
    if not (threads >= 2 and parts >= 2):
        return _kernels.run(*args, bounds, -1, sync, proj_parts, s2_parts, work[0])

    def second() -> tuple[int, int]:
        try:
            return _kernels.run(*args, bounds, 1, sync, proj_parts, s2_parts, work[1])
        except BaseException:
            _sync.abort(sync)
            raise

    future = _second_thread().submit(second)
    try:
        result = _kernels.run(*args, bounds, 0, sync, proj_parts, s2_parts, work[0])
    except BaseException:
        _sync.abort(sync)
        raise
    finally:
        other = future.result()  # re-raises the second thread's error
    if result[1] == -2 or other[1] == -2:
        raise RuntimeError("the second engine thread stopped before the step was done")
    return result
