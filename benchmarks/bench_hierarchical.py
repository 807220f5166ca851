"""Benchmark of the hierarchical path-integration network against canns 1.5.0.

Run ``python -m benchmarks.bench_hierarchical [--quick]`` from the repository root. With an interpreter that
can also ``import canns`` (e.g. a throw-away venv with canns 1.5.0, numba and numpy), canns' jitted chunked
scan (5000 steps per ``bm.jit(bm.for_loop)`` call, HIERARCHICAL.md §12) is timed on the same trajectory;
otherwise its column is None.

Rows: ``HierarchicalNetwork(num_module=5, num_place=30)`` (canns' example) with the place readout on every
step (what canns computes), on every 10th step, and off. Steps/s is the median of 3 runs after anchoring
(canns: the best of 3 chunks);
``compile_s`` is the cold compile time of all kernels, measured in a subprocess with an empty Numba cache
(``first_call_s`` when --quick: the first call in this process, a cache load if the cache is warm). A final
quality run reports the decoding error of a long random walk (100 000 steps; 10 000 with --quick).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from canns_engine.hierarchical import (
    Anchor,
    HierarchicalNetwork,
    OpenLoopNavigationTask,
    simulate_navigation,
)

DT = 0.05
SEED = 2025
CANNS_CHUNK = 5000
COMPILE_SNIPPET = """
import time, numpy as np
t0 = time.perf_counter()
from canns_engine.hierarchical import HierarchicalNetwork, OpenLoopNavigationTask
net = HierarchicalNetwork(2, 5)
net.run(np.zeros((2, 2)), np.zeros((2, 2)), 1.0)
OpenLoopNavigationTask(duration=1.0).get_data()
print(time.perf_counter() - t0)
"""


def _cold_compile_seconds() -> float:
    """Import, compile every kernel and run one step, in a fresh interpreter with an empty Numba cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        out = subprocess.run([sys.executable, "-c", COMPILE_SNIPPET], env=env, check=True,
                             capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def _our_steps_per_s(traj, n_steps: int, *, decode: bool, record_every: int) -> tuple[float, float]:
    """(median steps/s of 3 runs, seconds of the first call in this process)."""
    net = HierarchicalNetwork(num_module=5, num_place=30, dt=DT)
    vel, pos = traj.velocity[:n_steps], traj.position[:n_steps]
    t0 = time.perf_counter()
    net.run(vel[:record_every], pos[:record_every], decode=decode, record_every=record_every)
    first_call = time.perf_counter() - t0
    rates = []
    for _ in range(3):
        net.reset()
        Anchor().run(net, traj.start_pos, traj.position[0])
        t0 = time.perf_counter()
        net.run(vel, pos, decode=decode, record_every=record_every)
        rates.append(n_steps / (time.perf_counter() - t0))
    return statistics.median(rates), first_call


def _canns_steps_per_s(traj, n_steps: int) -> float | None:
    """canns' jitted chunked scan on the same trajectory (readout every step), or None without canns.

    The best of 3 chunks: canns' speed varies several-fold between runs on a shared machine, and the best
    chunk is the fairest estimate of what canns can do.
    """
    try:
        import brainpy.math as bm
        from canns.models.basic.hierarchical_model import HierarchicalNetwork as CannsNetwork
    except ImportError:
        return None
    bm.set_dt(DT)
    net = CannsNetwork(num_module=5, num_place=30)

    def step(v, loc):
        net(velocity=v, loc=loc, loc_input_stre=0.0)
        return net.decoded_pos.value

    @bm.jit
    def chunk(v, loc):
        return bm.for_loop(step, (v, loc), progress_bar=False)

    size = min(CANNS_CHUNK, n_steps)
    np.asarray(chunk(traj.velocity[:size], traj.position[:size]))  # compile
    rates = []
    for i in range(3):
        sl = slice(i * size, (i + 1) * size)
        t0 = time.perf_counter()
        np.asarray(chunk(traj.velocity[sl], traj.position[sl]))
        rates.append(size / (time.perf_counter() - t0))
    return max(rates)


def quality(n_steps: int = 100_000) -> dict[str, float]:
    """Decoding error (m) of a seeded random walk of n_steps in the 5 m box, readout every step."""
    net = HierarchicalNetwork(num_module=5, num_place=30, dt=DT)
    task = OpenLoopNavigationTask(duration=n_steps * DT, dt=DT, rng_seed=SEED)
    t0 = time.perf_counter()
    rec = simulate_navigation(net, task)
    summary = rec.error_summary()
    summary["steps"] = float(len(rec.error))
    summary["seconds"] = time.perf_counter() - t0
    return summary


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows: config, steps_per_s, compile_s, canns_steps_per_s, ratio."""
    n_steps = 2000 if quick else 10_000
    traj = OpenLoopNavigationTask(duration=3 * CANNS_CHUNK * DT, dt=DT, rng_seed=SEED).get_data()
    compile_s = None if quick else _cold_compile_seconds()
    canns = _canns_steps_per_s(traj, 3 * CANNS_CHUNK)
    rows = []
    for label, decode, every in (("readout every step (as canns)", True, 1),
                                 ("readout every 10th step", True, 10),
                                 ("no readout (dynamics only)", False, 1)):
        rate, first_call = _our_steps_per_s(traj, n_steps, decode=decode, record_every=every)
        rows.append({
            "config": f"HierarchicalNetwork(5, 30), {label}",
            "steps_per_s": rate,
            "compile_s": compile_s if compile_s is not None else first_call,
            "canns_steps_per_s": canns,
            "ratio": None if canns is None else rate / canns,
        })
    return rows


def _fmt(value: object, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> None:
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    rows = run(quick=quick)
    print(f"{'config':<62} {'steps/s':>9} {'compile s':>10} {'canns/s':>9} {'ratio':>6}")
    for row in rows:
        print(f"{row['config']:<62} {row['steps_per_s']:>9.0f} {_fmt(row['compile_s'], '.1f'):>10} "
              f"{_fmt(row['canns_steps_per_s'], '.0f'):>9} {_fmt(row['ratio'], '.2f'):>6}")
    q = quality(10_000 if quick else 100_000)
    print(f"quality, {q['steps']:.0f}-step random walk (seed {SEED}): mean {q['mean']:.4f} m, median "
          f"{q['median']:.4f}, p95 {q['p95']:.4f}, max {q['max']:.4f} ({q['seconds']:.1f} s)")


if __name__ == "__main__":
    main()
