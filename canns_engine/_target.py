"""The CPU the engine's kernels are compiled for: a portable x86-64 level, so that compiled kernels can ship.

numba compiles for this machine's CPU model (LLVM's name for it, ``rocketlake``, ``znver3`` …) and files
every cached kernel under that name and the CPU's full feature list. A kernel compiled on one machine
then serves only machines with the very same CPU, so compiled kernels could not be shipped, and every
installation compiled for a minute (a first-ever call: 7–9 s for a ring, 10–11 s for a sheet).

Instead the engine compiles for the highest x86-64 micro-architecture level this CPU supports,
``x86-64-v4`` (AVX-512) or ``x86-64-v3`` (AVX2 and FMA), with the level's own feature list. Kernels
compiled on any machine of a level then serve every machine of that level, and an installation can carry
them (:data:`canns_engine._cache.SHIPPED_DIR`, filled by ``canns-studio warm-up --ship``). Measured on
this project's machine (Intel Xeon, LLVM ``rocketlake``, AVX-512), each target in its own process,
alternating: ``x86-64-v4`` kernels ran at the speed of ``rocketlake`` ones (CANN1D-128, the 512-neuron
adaptation ring, the 32 × 32 sheet: within ±3 %, the noise of the comparison). Other CPUs (ARM,
x86 below v3) keep numba's default, this machine's model.

The choice has to be made before numba builds its CPU target (at the first ``@njit`` of the process),
because that is when numba creates LLVM's target machine. So it is made when ``canns_engine`` is
imported, before any kernel is defined, through numba's own settings ``NUMBA_CPU_NAME`` and
``NUMBA_CPU_FEATURES`` (set in the environment too, so that numba, which re-reads its settings whenever a
``NUMBA_*`` variable changes, keeps them, and the engine's helper processes inherit them). If other code
compiled numba functions before the engine was imported, numba's target already exists: the engine then
leaves it (this machine's CPU), and its kernels are only cached for this machine. A ``NUMBA_CPU_NAME``
set by the user is always respected.
"""

from __future__ import annotations

import os

import llvmlite.binding as ll
from numba.core import config as numba_config

_V3 = frozenset({"cx16", "popcnt", "sahf", "sse3", "sse4.1", "sse4.2", "ssse3",  # x86-64-v2
                 "avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave"})
LEVELS = {
    "x86-64-v4": _V3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"},
    "x86-64-v3": _V3,
}
"""The portable targets, best first, with the LLVM features a CPU needs to run each one's code."""


HOST = ll.get_host_cpu_name()
"""This machine's CPU model, LLVM's name for it (``rocketlake``, ``znver3`` …)."""


def host_features() -> frozenset[str]:
    """The LLVM features this CPU has (``avx2``, ``avx512f`` …)."""
    return frozenset(name for name, present in ll.get_host_cpu_features().items() if present)


def runnable_levels(features: frozenset[str]) -> list[str]:
    """The portable targets (:data:`LEVELS`) a CPU with ``features`` can run, best first."""
    return [name for name, needed in LEVELS.items() if needed <= features]


def is_x86_64() -> bool:
    """Whether this process runs x86-64 code (the portable levels exist only there)."""
    return ll.get_process_triple().split("-")[0] in ("x86_64", "amd64")


def numba_target_exists() -> bool:
    """Whether numba already built its CPU target in this process (then its CPU can no longer change)."""
    from numba.core.registry import cpu_target

    return "_toplevel_target_context" in vars(cpu_target)


def configure() -> str:
    """Make numba compile for the best portable level this CPU runs (unless ``NUMBA_CPU_NAME`` is set or
    numba's target already exists) and return the name of the CPU numba compiles for."""
    if os.environ.get("NUMBA_CPU_NAME"):
        return os.environ["NUMBA_CPU_NAME"]
    levels = runnable_levels(host_features()) if is_x86_64() else []
    if not levels or numba_target_exists():
        return numba_config.CPU_NAME or HOST
    os.environ["NUMBA_CPU_NAME"] = numba_config.CPU_NAME = levels[0]
    os.environ["NUMBA_CPU_FEATURES"] = numba_config.CPU_FEATURES = ""  # the level's own features
    return levels[0]


TARGET = configure()
"""The CPU the engine's kernels are compiled for (a level of :data:`LEVELS`, or a CPU model's name)."""
