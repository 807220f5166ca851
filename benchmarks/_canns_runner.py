"""Time canns (the reference library) on the benchmark configurations: runs inside canns' interpreter.

``bench_engine`` starts this script with a Python that has ``canns`` installed (the optional ``bench``
extra, or a separate virtual environment) and sends it one job per line as JSON on stdin; the script
answers each with one JSON line on stdout, so the two engines can be timed alternately in the same run.
It imports neither ``canns_engine`` nor numba, so it runs where only canns and its JAX stack are
installed.

A job names a model (``CANN1D`` … ``CANN2D_SFA``), its size, the grid (``endpoint``), canns'
``accl_mode`` and a smooth-tracking task (``iext``, ``duration``, ``dt``). The input of every step is
built from canns' own ``SmoothTracking*`` position sequence with ``model.get_stimulus_by_pos``. The loop
is ``bm.for_loop`` inside ``bm.jit``, so a second call with the same number of steps reuses the compiled
loop: ``compile_s`` is the first call minus a warm one, and each timed run is warm.

The inputs are built before the loop (one ``jax.vmap`` of ``get_stimulus_by_pos`` over the task's
positions, compiled; canns' own ``task.get_data()`` loops in Python and takes ~0.4–1.2 ms per step) and
are not part of canns' timed steps, while our engine builds every step's input inside its loop. Their
cost per step is reported separately (``inputs_s_per_step``).

Where canns' own set-up cannot run here, the job says so in ``note`` and uses canns' backend classes
with factors computed another way (the per-step work is canns' own):

* ``accl_mode="fft"`` on canns' default endpoint-included grid is not circulant; canns falls back to the
  dense product, so the job is skipped.
* 2D sheets larger than ``DENSE_2D_MAX`` skip canns' ``L⁴`` construction (17 GB in float32 for
  ``L = 256``): the dense matrix is ``c · K ⊗ K`` from the ``L × L`` factor (up to ``DENSE_2D_NORMAL_MAX``),
  the FFT backend gets the FFT of the first row, the low-rank backends the truncated SVD of ``c · K ⊗ K``
  from the SVD of ``K``.
* Above ``SVD_MAX`` neurons the low-rank factors come from subspace iteration on the (symmetric) matrix:
  the same leading singular vectors as canns' full SVD, which would take minutes.

Protocol (one JSON object per line each way), so that the two engines can be timed in alternation:

* ``{"op": "prepare", "key": "...", "model": "CANN1D", "size": 128, "endpoint": true, "mode": "normal",
  "dt": 0.05, "iext": [...], "duration": [...], "steps": 10000, "max_seconds": 3.0,
  "accuracy_steps": 2000, "u_file": "/tmp/u.npy"}`` builds the model, compiles its loop and keeps it
  under ``key``. Answer: ``key``, ``timed_steps``, ``compile_s``, ``rank`` (low-rank modes, -1 if exact),
  ``inputs_s_per_step`` (building the inputs, warm, per step: not part of the timed loop), ``note`` and
  ``ready``. With ``u_file``, ``u`` of the first ``accuracy_steps`` steps (one flattened
  float32 row per step) is saved there with ``numpy.save``.
* ``{"op": "time", "key": "..."}`` runs a prepared loop once. Answer: ``key``, ``steps_per_s``.
* ``{"op": "release"}`` forgets every prepared loop. Answer: ``{"released": n}``.
"""

from __future__ import annotations

import gc
import json
import math
import sys
import time
import warnings

import numpy as np

DENSE_2D_MAX = 64
"""Largest sheet side for which canns builds its own dense ``L⁴`` matrix."""

DENSE_2D_NORMAL_MAX = 128
"""Largest sheet side timed in ``"normal"`` mode (the dense matrix takes 1 GB in float32 at 128)."""

SVD_MAX = 2048
"""Largest matrix for which the low-rank factors come from canns' own SVD."""

PROBE_STEPS = 100
"""Steps of the first, short run that estimates the speed of a mode."""


def _canns():
    """Import canns lazily, so this module can be imported (and linted) without it."""
    import brainpy.math as bm
    import jax
    from canns.models import basic
    from canns.models.basic import accel
    from canns.task import tracking

    return bm, jax, basic, accel, tracking


def _kernel_1d(x: np.ndarray, a: float, z_range: float) -> np.ndarray:
    """The unnormalised 1D kernel ``exp(-½ wrap(x_i - x_j)² / a²)`` in float64."""
    d = np.remainder(x[:, None] - x[None, :], z_range)
    d = np.where(d > z_range / 2, d - z_range, d)
    return np.exp(-0.5 * np.square(d / a))


def _top_symmetric(w: np.ndarray, rank: int, iterations: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Leading ``rank`` eigenpairs by magnitude of a symmetric matrix (subspace iteration, float64)."""
    rng = np.random.default_rng(0)
    q = np.linalg.qr(rng.standard_normal((w.shape[0], rank + 6)))[0]
    for _ in range(iterations):
        q = np.linalg.qr(w @ q)[0]
    vals, vecs = np.linalg.eigh(q.T @ (w @ q))
    top = np.argsort(-np.abs(vals))[:rank]
    return vals[top], q @ vecs[:, top]


def _low_rank(accel, jax, vals: np.ndarray, vecs: np.ndarray, mode: str):
    """canns' balanced factors ``U √S``, ``V √S`` of a symmetric matrix from its eigenpairs."""
    scale = np.sqrt(np.abs(vals))
    left = (vecs * scale).astype(np.float32)
    right = (vecs * (scale * np.sign(vals))).astype(np.float32)
    return accel.LowRankIrec(jax.numpy.asarray(left), jax.numpy.asarray(right), k=len(vals), mode=mode)


def _sheet_backend(model, mode: str, accel, jax):
    """The backend of a large sheet, from its separable kernel ``c · K ⊗ K``."""
    x = np.asarray(model.x, dtype=np.float64)
    c = model.J0 / (math.sqrt(2 * math.pi) * model.a)
    kmat = _kernel_1d(x, model.a, float(model.z_range))
    if mode == "normal":
        k32 = kmat.astype(np.float32)
        return accel.DenseIrec(jax.numpy.asarray(np.kron(np.float32(c) * k32, k32)))
    if mode == "fft":
        first = (c * np.outer(kmat[0], kmat[0])).astype(np.float32)  # W's first row as an L × L image
        return accel.CirculantFFTIrec2D(jax.numpy.fft.fft2(jax.numpy.asarray(first)), model.length)
    vals, vecs = np.linalg.eigh(kmat)
    prod = c * np.outer(vals, vals).ravel()
    top = np.argsort(-np.abs(prod), kind="stable")[: accel.ACCL_DEFAULT_K[("CANN2D", mode)]]
    i, j = np.divmod(top, len(vals))
    pairs = zip(i, j, strict=True)
    return _low_rank(accel, jax, prod[top], np.stack([np.kron(vecs[:, p], vecs[:, q]) for p, q in pairs], 1),
                     mode)


def _build(job: dict):
    """The canns model of a job on the requested grid with the requested ``accl_mode``, and a note."""
    bm, jax, basic, accel, _ = _canns()
    cls = getattr(basic, job["model"])
    size, mode = job["size"], job["mode"]
    two_d = job["model"].startswith("CANN2D")
    if two_d and size > DENSE_2D_MAX:  # the same model without canns' L⁴ construction
        light = type(cls.__name__, (cls,), {"make_conn": lambda self: None})
        model = light(size, accl_mode="normal")
        if not job["endpoint"]:
            model.x = bm.linspace(model.z_min, model.z_max, size, endpoint=False)
        model.irec_backend = _sheet_backend(model, mode, accel, jax)
        return model, "factors from the separable kernel (canns' L⁴ construction skipped)"
    model = cls(size, accl_mode="normal")
    if not job["endpoint"]:  # canns' documented recipe for a circulant ring (the backend is rebuilt below)
        model.x = bm.linspace(model.z_min, model.z_max, size, endpoint=False)
        model.conn_mat = model.make_conn()
    neurons = size * size if two_d else size
    if mode in ("normal", "fft") or neurons <= SVD_MAX:
        model.set_accl_mode(mode)
        return model, ""
    family = "CANN2D" if two_d else "CANN1D"
    vals, vecs = _top_symmetric(np.asarray(model.conn_mat, dtype=np.float64),
                                accel.ACCL_DEFAULT_K[(family, mode)])
    model.irec_backend = _low_rank(accel, jax, vals, vecs, mode)
    return model, "low-rank factors by subspace iteration (canns' full SVD skipped)"


def _inputs(model, job: dict) -> tuple:
    """Input of every step (float32, ``(steps, *shape)``) from canns' own task and stimulus, and the
    seconds per step its compiled builder takes when warm."""
    _, jax, _, _, tracking = _canns()
    two_d = job["model"].startswith("CANN2D")
    task_cls = tracking.SmoothTracking2D if two_d else tracking.SmoothTracking1D
    iext = [tuple(p) for p in job["iext"]] if two_d else list(job["iext"])
    task = task_cls(cann_instance=model, Iext=iext, duration=list(job["duration"]), time_step=job["dt"])
    pos = np.asarray(task._make_Iext_sequence(), dtype=np.float32)[: job["steps"]]
    if not two_d:
        pos = pos[:, 0]
    build = jax.jit(jax.vmap(model.get_stimulus_by_pos))
    pos = jax.numpy.asarray(pos)
    build(pos).block_until_ready()  # compiles
    t0 = time.perf_counter()
    data = build(pos).block_until_ready()
    return data, (time.perf_counter() - t0) / len(data)


def _reset(model) -> None:
    bm = _canns()[0]
    for name in ("u", "r", "inp", "v"):
        var = getattr(model, name, None)
        if var is not None:
            var.value = bm.zeros_like(var.value)


def _runner(model, record: bool):
    """A compiled loop over the inputs (returning ``u`` of every step when ``record``)."""
    bm = _canns()[0]

    def step(inp):
        model(inp)
        return model.u.value.reshape(-1) if record else None

    @bm.jit
    def run(data):
        return bm.for_loop(step, data, progress_bar=False)

    return run


def _seconds(run, model, data) -> float:
    jax = _canns()[1]
    _reset(model)
    t0 = time.perf_counter()
    run(data)
    jax.block_until_ready(model.u.value)
    return time.perf_counter() - t0


_prepared: dict[str, tuple] = {}
"""Prepared loops by key: ``(run, model, timed inputs)``."""


def prepare(job: dict) -> dict:
    """Build one configuration in one mode and compile its timed loop (see the module docstring)."""
    bm = _canns()[0]
    bm.set_dt(job["dt"])
    result = {"key": job["key"], "timed_steps": 0, "compile_s": None, "rank": None, "note": "",
              "ready": False}
    two_d = job["model"].startswith("CANN2D")
    if job["mode"] == "fft" and job["endpoint"]:
        result["note"] = "needs endpoint=False (canns falls back to dense)"
        return result
    if job["mode"] == "normal" and two_d and job["size"] > DENSE_2D_NORMAL_MAX:
        result["note"] = f"dense L⁴ matrix ({4 * job['size'] ** 4 / 1e9:.0f} GB float32) not built"
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, result["note"] = _build(job)
    result["rank"] = int(model.irec_backend.k)
    data, result["inputs_s_per_step"] = _inputs(model, job)
    run = _runner(model, record=False)
    probe = data[: min(PROBE_STEPS, len(data))]
    first = _seconds(run, model, probe)
    warm = _seconds(run, model, probe)
    result["compile_s"] = max(first - warm, 0.0)
    steps = int(min(len(data), max(len(probe), len(probe) / warm * job.get("max_seconds", 5.0))))
    timed = data[:steps]
    if steps != len(probe):
        _seconds(run, model, timed)  # compiles the loop for this length
    result["timed_steps"] = steps
    if job.get("u_file"):
        _reset(model)
        us = _runner(model, record=True)(data[: job["accuracy_steps"]])
        np.save(job["u_file"], np.asarray(us, dtype=np.float32))
    _prepared[job["key"]] = (run, model, timed)
    result["ready"] = True
    return result


def time_once(job: dict) -> dict:
    """One timed run of a prepared loop."""
    run, model, timed = _prepared[job["key"]]
    return {"key": job["key"], "steps_per_s": [len(timed) / _seconds(run, model, timed)]}


def handle(job: dict) -> dict:
    op = job.get("op")
    if op == "prepare":
        return prepare(job)
    if op == "time":
        return time_once(job)
    if op == "release":
        count = len(_prepared)
        _prepared.clear()
        gc.collect()
        return {"released": count}
    raise ValueError(f"unknown op {op!r}: expected 'prepare', 'time' or 'release'")


def main() -> int:
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        try:
            result = handle(job)
        except Exception as exc:  # report and go on with the next job
            result = {"key": job.get("key"), "steps_per_s": [], "timed_steps": 0, "compile_s": None,
                      "rank": None, "ready": False, "note": f"failed: {type(exc).__name__}: {exc}"}
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
