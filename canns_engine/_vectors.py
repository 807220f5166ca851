"""The vector width of the compiled step loop: 512 bits where the CPU runs AVX-512 at full clock.

LLVM keeps to 256-bit vectors on every AVX-512 CPU unless told otherwise, because the first of them
(Skylake-SP to Cooper Lake) lowered the core's clock for 512-bit work. Later ones (Ice Lake, Sapphire
Rapids, Zen 4) do not, and there the step loop gains from twice the lanes. :func:`prefer_wide_vectors`,
called at the top of :func:`canns_engine._kernels.run`, marks that one function for 512-bit vectors (an
LLVM function attribute), so no other numba code in the process changes. Where the CPU lacks AVX-512 the
mark does nothing.

Measured on an Intel Xeon with AVX-512 FP16 (LLVM: ``rocketlake``), each engine copy in its own
process, alternating: adaptation ring of 512 neurons 1.09–1.12× faster, 2 048-neuron ring on two
threads 1.06×, 32 × 32 sheet 1.05×, 64 × 64 sheets on two threads 1.05–1.07×; 128-neuron rings
0.95× (65 slots make one 16-lane loop and a remainder).
"""

from __future__ import annotations

import contextlib

import llvmlite.binding as ll
from numba import types
from numba.core import config
from numba.extending import intrinsic

CLOCK_PENALTY = frozenset({"skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "knl", "knm"})
"""LLVM's names of the AVX-512 CPUs that slow their clock for 512-bit vectors."""

CPU = config.CPU_NAME or ll.get_host_cpu_name()
"""The CPU numba compiles for (``NUMBA_CPU_NAME``, else this machine's)."""

WIDE = CPU not in CLOCK_PENALTY
"""Whether the step loop asks for 512-bit vectors."""

ATTRIBUTE = '"prefer-vector-width"="512"'


@intrinsic
def prefer_wide_vectors(typingctx):
    """Mark the function being compiled for 512-bit vectors (where :data:`WIDE`). llvmlite's attribute
    set accepts only a fixed list of names, without LLVM's key-value attributes, so the mark is added to
    the underlying set directly; should that ever fail, the function keeps LLVM's default."""
    def codegen(context, builder, signature, args):
        if WIDE:
            with contextlib.suppress(Exception):  # a faster loop is not worth a failed compile
                set.add(builder.function.attributes, ATTRIBUTE)
        return context.get_dummy_value()
    return types.void(), codegen
