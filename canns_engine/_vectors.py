"""The vector width of the compiled step loop: 512 bits where the CPU runs AVX-512 at full clock.

LLVM keeps to 256-bit vectors on every AVX-512 CPU unless told otherwise, because the first of them
(Skylake-SP to Cooper Lake) lowered the core's clock for 512-bit work. Later ones (Ice Lake, Sapphire
Rapids, Zen 4) do not, and there the step loop gains from twice the lanes. :func:`prefer_wide_vectors`,
called at the top of :func:`canns_engine._kernels.run`, marks that one function for 512-bit vectors (an
LLVM function attribute), so no other numba code in the process changes. Where the CPU lacks AVX-512 the
mark does nothing.

Measured on an Intel Xeon with AVX-512 FP16 (LLVM: ``rocketlake``), each engine copy in its own
process, alternating: adaptation rings of 256 and 512 neurons 1.08× and 1.09–1.12× faster, 2 048-neuron
ring on two threads 1.06×, 32 × 32 sheet 1.05×, 64 × 64 sheets on two threads 1.05–1.07×; CANN1D-256
unchanged. 128-neuron rings were 0.95× at first (0.82–0.92× in a whole benchmark run): their mode sweeps
ended in a scalar remainder and took four horizontal sums at a time. Since their sweeps cover 64 slots
exactly (the antipode apart) and the projections take eight modes a sweep, they gain too: the adaptation
ring of 128 neurons 1.05–1.07×, CANN1D-128 1.01–1.05×. A 64-neuron ring (33 slots) loses (0.89×), so
rings of fewer than :data:`WIDE_MIN_SLOTS` slots keep 256-bit vectors: ``run`` is compiled in a wide and a
narrow version (:func:`wide`), and the install step compiles both.
"""

from __future__ import annotations

import contextlib

from numba import types
from numba.extending import intrinsic

from ._target import HOST

CLOCK_PENALTY = frozenset({"skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "knl", "knm"})
"""LLVM's names of the AVX-512 CPUs that slow their clock for 512-bit vectors."""

WIDE = HOST not in CLOCK_PENALTY
"""Whether the step loop asks for 512-bit vectors: this machine's CPU decides (its clock), not the
portable level the kernels are compiled for (:mod:`canns_engine._target`), whose code serves both kinds
of CPU; both versions of the loop are compiled and cached."""

ATTRIBUTE = '"prefer-vector-width"="512"'

WIDE_MIN_SLOTS = 64
"""Rings of at least this many slots (``num ≥ 127``; every sheet) get 512-bit vectors where :data:`WIDE`."""


def wide(slots: int, sheet: bool) -> bool | None:
    """The ``wide`` argument of :func:`canns_engine._kernels.run`: ``True`` (512-bit vectors) or ``None``
    (LLVM's default), two types, so numba compiles one version of the loop for each."""
    return True if WIDE and (sheet or slots >= WIDE_MIN_SLOTS) else None


@intrinsic
def prefer_wide_vectors(typingctx, wide):
    """Mark the function being compiled for 512-bit vectors if ``wide`` is ``True`` (not ``None``; see
    :func:`wide`). llvmlite's attribute set accepts only a fixed list of names, without LLVM's key-value
    attributes, so the mark is added to the underlying set directly; should that ever fail, the function
    keeps LLVM's default."""
    def codegen(context, builder, signature, args):
        if not isinstance(signature.args[0], types.NoneType):
            with contextlib.suppress(Exception):  # a faster loop is not worth a failed compile
                set.add(builder.function.attributes, ATTRIBUTE)
        return context.get_dummy_value()
    return types.void(wide), codegen
