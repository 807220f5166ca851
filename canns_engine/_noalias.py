"""Tell LLVM which arrays of the step loop no other pointer touches while it runs (``noalias``).

Before LLVM vectorises a loop that writes one array and reads others, it emits run-time checks that their
memory does not overlap, and falls back to the scalar loop if it does. numba cannot say that two arrays
are distinct, so every short loop of a step starts with such checks (compares, branches, and the address
arithmetic for them: a tenth of a 128-neuron ring's step when sampled). numba's own ``noalias`` flag marks
*every* pointer argument, which would be wrong for :func:`canns_engine._kernels.run`: two threads write
``u``, ``v`` and the part results of one network, a sheet's threads share their coefficients, and the
workspace holds its projections twice (``proj`` and the flat view ``proj_flat``).

:func:`mark_unshared`, called at the top of ``run``, adds LLVM's ``noalias`` attribute to the data
pointer of every other array argument: arrays only one thread writes (its workspace, the rate, the input
and the recording, which only the lead thread touches) and arrays nobody writes during a call (the mode
table, the task's positions and amplitudes, the noise, the decoder's tables), which LLVM allows to be
shared. The caller keeps the promise: :class:`canns_engine.simulation.Simulation` hands ``run`` state
arrays that share no memory with each other or with the input (copying one where they would). One pair
of arrays is left to run-time checks in the Euler loops (``u`` and ``v``).

Measured with each engine copy in its own process, alternating: 128-neuron adaptation ring 1.08–1.10×,
CANN1D-128 1.08×, CANN1D-512 1.03×, 32 × 32 sheet (two threads) 1.17×, adaptation sheet 64 × 64 (two
threads) 1.14×, CANN1D-2048 (two threads) unchanged; bit-identical results.
"""

from __future__ import annotations

import contextlib
import re

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

SHARED = frozenset({"u", "v", "proj_parts", "s2_parts", "sync"})
"""Arguments of ``run`` that both threads of a cut network write (parts of each)."""

SHARED_WORK = frozenset({"proj", "proj_flat", "coef"})
"""Fields of the workspace (``run``'s ``work``) that are not marked: ``proj`` and ``proj_flat`` are one
array, and a sheet's two threads share ``coef``."""

WORK = "work"

_ARRAY_DATA = re.compile(r"arg\.(\w+)((?:\.\d+)*)\.(\d+)$")
"""numba's name of a flattened argument member: ``arg.<name>[.<field>].<member>``."""


def _unshared(name: str, fields: str, member: int, data: int, work_fields: tuple[str, ...]) -> bool:
    """Whether the LLVM argument ``arg.<name><fields>.<member>`` is the data pointer of an unshared array."""
    if member != data or name in SHARED:
        return False
    if name != WORK:
        return fields == ""
    index = fields.lstrip(".")
    return index.isdigit() and work_fields[int(index)] not in SHARED_WORK


@intrinsic
def mark_unshared(typingctx):
    """Mark the data pointers of ``run``'s unshared array arguments ``noalias`` (see the module). Should
    that ever fail, the function keeps LLVM's run-time checks."""
    def codegen(context, builder, signature, args):
        from ._kernels import Workspace  # (a cycle at import time; the loop is compiled later)

        data = context.data_model_manager.lookup(types.float64[:, ::1]).get_field_position("data")
        with contextlib.suppress(Exception):  # a faster loop is not worth a failed compile
            for arg in builder.function.args:
                found = _ARRAY_DATA.match(arg.name)
                if (isinstance(arg.type, ir.PointerType) and found
                        and _unshared(found[1], found[2], int(found[3]), data, Workspace._fields)):
                    arg.add_attribute("noalias")
        return context.get_dummy_value()
    return types.void(), codegen
