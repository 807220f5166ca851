"""Compile the models' kernels before they are needed, in this process or in helper processes.

numba compiles a model's kernels on its first run: 10–19 s per geometry and precision on a first-ever
start (the ring and the sheet, in float32 for CANN1D/CANN2D and float64 for the SFA models), holding
the GIL all along. :func:`warm_up` does it in this process, by running each model briefly.
:class:`KernelCompiler` does it in helper processes (``canns-studio warm-up MODEL``) that fill numba's
on-disk cache: they never take this process's GIL (a GUI stays fluid), several run side by side, they
can be stopped at once, and afterwards :func:`warm_up` here only loads the compiled code (0.1–0.5 s a
model).

A model whose kernels are cached has a stamp file in the cache folder (which is per engine build, see
:mod:`canns_engine._cache`), so a warm start spawns nothing. A stamp can be wrong (numba's files deleted,
another CPU with the same home folder): then :func:`warm_up` compiles in this process, as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from . import _cache, _kernels, _target, _vectors
from .errors import CannsEngineError
from .models import MODELS, make_model
from .simulation import Simulation
from .tasks import make_task

log = logging.getLogger(__name__)


def _stamp(model_type: str) -> Path:
    """The stamp of ``model_type`` (named after the interpreter, numba and the CPU compiled for, whose
    caches differ: a folder of shipped kernels holds several CPU levels)."""
    import numba

    tag = f"py{sys.version_info[0]}{sys.version_info[1]}-numba{numba.__version__}-{_target.TARGET}"
    return _cache.CACHE_DIR / f"warm-{model_type}-{tag}.stamp"


def log_file(model_type: str) -> Path:
    """Where a helper process compiling ``model_type`` writes its messages."""
    return _cache.CACHE_DIR / f"warm-{model_type}.log"


def is_cached(model_type: str) -> bool:
    """Whether ``model_type``'s kernels were compiled into the cache (by any process)."""
    return _stamp(model_type).exists()


NAVIGATION = "HierarchicalNetwork"
"""The path-integration network (:mod:`canns_engine.hierarchical`): its first build and run compile for
half a minute."""
WARMABLE = (*MODELS, NAVIGATION)
"""Everything :func:`warm_up` can prepare, in the order the app prefetches it."""


def slowest_first(model_types: Iterable[str]) -> list[str]:
    """``model_types`` from the slowest to compile to the quickest (path integration ~30 s, a sheet ~20 s, a
    ring ~13 s on this project's two-core machine; the adaptive variant first within a geometry): the
    order in which ``canns-studio warm-up --jobs N`` starts them, for the shortest total."""
    def cost(model_type: str) -> tuple:
        if model_type == NAVIGATION:
            return (0,)
        cls = MODELS[model_type]
        return (1, -cls.ndim, not cls.sfa)

    return sorted(dict.fromkeys(model_types), key=cost)


def _run_navigation_briefly() -> None:
    """What the app calls on a path-integration experiment: build, anchor, frames in open and closed loop
    (a small network: the compiled kernels do not depend on the sizes)."""
    from .hierarchical import HierarchicalNetwork, OpenLoopNavigationTask
    from .hierarchical.simulation import NavigationSimulation

    net = HierarchicalNetwork(num_module=2, num_place=5)
    sim = NavigationSimulation(net, OpenLoopNavigationTask(duration=1.0))
    frames = sim.frames(2)
    next(frames)
    frames.send({"velocity": (0.1, 0.0)})
    net.run(np.zeros((2, 2)), np.full((2, 2), 2.5), 0.0, decode=True)
    _ = net.decoded_pos


def _run_model_briefly(model_type: str) -> None:
    """What a live session calls on a basic CANN: steps with a moving stimulus, snapshots, a grid change."""
    cls = MODELS[model_type]
    size = 12 if cls.ndim == 1 else 6
    model = make_model(model_type, {cls.size_param: size})
    positions = [0.0, 1.0] if cls.ndim == 1 else [[0.0, 0.0], [1.0, 1.0]]
    task = make_task(model, {"type": f"SmoothTracking{cls.ndim}D", "Iext": positions,
                             "duration": [0.2], "time_step": 0.05})
    sim = Simulation(model, task, record="summary")
    sim.step(2)
    sim.snapshot()
    sim.apply({cls.size_param: size + 2})  # the resampling path of a grid change
    sim.step(1)
    sim.snapshot()
    if cls.ndim == 1 and _vectors.wide(_vectors.WIDE_MIN_SLOTS, sheet=False):  # the large rings' version
        sim.apply({cls.size_param: 2 * _vectors.WIDE_MIN_SLOTS})  # of the loop (wide vectors)
        sim.step(1)
    if cls.ndim == 1:  # the quarter-wave rings' version (canns' grid of period 256)
        sim.apply({cls.size_param: _kernels.QUARTER_MIN_PERIOD + 1})
        sim.step(1)


def warm_up(model_types: Iterable[str] = WARMABLE) -> None:
    """Run each of ``model_types`` (names from :data:`WARMABLE`) briefly in this process, so numba compiles
    its kernels (or loads them from the cache), and stamp each one as cached."""
    for model_type in model_types:
        if model_type == NAVIGATION:
            _run_navigation_briefly()
        else:
            _run_model_briefly(model_type)
        with contextlib.suppress(OSError):  # a read-only cache only costs the next start a compile
            _stamp(model_type).touch()


HELPER_CWD = Path(__file__).resolve().parent.parent
"""Where helper processes start: this engine's parent folder, so ``-m canns_engine.cli`` imports this very
engine when it is not installed."""


def ship(model_types: Iterable[str], jobs: int = 2, out: Callable[[str], None] = print) -> Path:
    """Compile ``model_types``' kernels for every portable CPU level this machine runs (x86-64-v4, then
    v3) into :data:`canns_engine._cache.SHIPPED_DIR`, for an installation to carry (a bundle's build does
    this), and return the folder. One ``warm-up`` process per level, each with ``jobs`` helpers; their
    messages go to ``out``. :class:`CannsEngineError` if this CPU runs no portable level or a level
    fails."""
    levels = _target.runnable_levels(_target.host_features()) if _target.is_x86_64() else []
    if not levels:
        raise CannsEngineError("shipping compiled kernels needs an x86-64 CPU with AVX2 and FMA (x86-64-v3) "
                               f"or better; this one is {_target.HOST}")
    if not _cache._writable(_cache.SHIPPED_DIR):
        raise CannsEngineError(f"cannot write the shipped kernels: {_cache.SHIPPED_DIR} is not writable")
    models = list(model_types)
    for level in levels:
        env = dict(os.environ, NUMBA_CACHE_DIR=str(_cache.SHIPPED_DIR), NUMBA_CPU_NAME=level,
                   NUMBA_CPU_FEATURES="")
        out(f"compiling for {level} into {_cache.SHIPPED_DIR}")
        done = subprocess.run([*command(models), "--jobs", str(jobs)], env=env, capture_output=True,
                              text=True, cwd=HELPER_CWD)
        for line in done.stdout.splitlines():
            out(f"  {level}: {line}")
        if done.returncode != 0:
            raise CannsEngineError(f"compiling the shipped kernels for {level} failed: "
                                   f"{done.stderr.strip()[-2000:]}")
    return _cache.SHIPPED_DIR / _cache.CACHE_DIR.name


def command(model_types: Iterable[str]) -> list[str]:
    """The command line of a helper process compiling ``model_types``: the bundle's own executable when
    frozen (it dispatches ``warm-up`` like ``canns-studio``), else this interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "warm-up", *model_types]
    return [sys.executable, "-m", "canns_engine.cli", "warm-up", *model_types]


class KernelCompiler:
    """Compiles models' kernels in helper processes: on demand (:meth:`ensure`, waits) and ahead of time
    (:meth:`prefetch`, one model after another at low priority). Thread-safe; one process per model.

    Parameters
    ----------
    cwd : path, optional
        Working folder of the helper processes (default: :data:`HELPER_CWD`).
    """

    def __init__(self, cwd: str | os.PathLike | None = None) -> None:
        self.cwd = Path(cwd) if cwd is not None else HELPER_CWD
        self._lock = threading.Lock()
        self._processes: dict[str, subprocess.Popen] = {}
        self._stopped = False
        self._prefetcher: threading.Thread | None = None
        self._queue: list[str] = []  # models waiting for the prefetcher

    @property
    def stopped(self) -> bool:
        """:meth:`stop` was called: no new processes start, and waits end."""
        return self._stopped

    def _start(self, model_type: str, background: bool) -> subprocess.Popen | None:
        """The process compiling ``model_type`` (started now if none runs); ``None`` when stopped or the
        process cannot start (logged). Its messages go to ``warm-<model>.log`` in the cache folder."""
        with self._lock:
            process = self._processes.get(model_type)
            if process is not None and process.poll() is None:
                return process
            if self._stopped:
                return None
            options: dict = {}
            if background and sys.platform == "win32":
                options["creationflags"] = subprocess.BELOW_NORMAL_PRIORITY_CLASS
            try:
                with open(log_file(model_type), "wb") as messages:
                    process = subprocess.Popen(
                        command([model_type]) + (["--background"] if background else []), cwd=self.cwd,
                        stdin=subprocess.DEVNULL, stdout=messages, stderr=subprocess.STDOUT, **options)
            except OSError as exc:
                log.warning("cannot start a process to compile %s: %s", model_type, exc)
                return None
            self._processes[model_type] = process
            return process

    def _wait(self, model_type: str, process: subprocess.Popen) -> bool:
        """Wait for ``process`` (several threads may); True if it cached ``model_type``'s kernels."""
        started = time.perf_counter()
        process.wait()
        if self._stopped:
            return False
        if process.returncode != 0:
            try:
                messages = log_file(model_type).read_text(errors="replace").strip()[-2000:]
            except OSError:
                messages = ""
            log.warning("compiling %s in a helper process failed (exit %s): %s", model_type,
                        process.returncode, messages)
            return False
        log.info("%s compiled in a helper process (waited %.1f s)", model_type, time.perf_counter() - started)
        return is_cached(model_type)

    def ensure(self, model_type: str, background: bool = False) -> bool:
        """Block until ``model_type``'s kernels are in the cache, compiling them in a helper process (at low
        priority if ``background``) unless they are (or joining the one that compiles them). False if that
        failed or :meth:`stop` was called: the caller then compiles in its own process, or not at all."""
        if is_cached(model_type):
            return True
        process = self._start(model_type, background)
        return process is not None and self._wait(model_type, process)

    def ensure_all(self, model_types: Iterable[str], jobs: int = 2,
                   on_done: Callable[[str, bool, float], None] | None = None,
                   background: bool = False) -> list[str]:
        """Compile ``model_types`` in up to ``jobs`` helper processes at a time (at low priority if
        ``background``) and return those that failed. ``on_done(model_type, ok, seconds)`` is called as
        each one ends.

        What an installer runs once, so that a first start finds every kernel compiled: on two cores the
        five kernels take about a minute side by side instead of ~1.5 minutes in turn. Start the slowest
        first (:func:`slowest_first`) for the shortest total.
        """
        def timed(model_type: str) -> tuple[str, bool, float]:
            started = time.perf_counter()
            return model_type, self.ensure(model_type, background), time.perf_counter() - started

        failed = []
        with ThreadPoolExecutor(max(1, jobs), thread_name_prefix="kernel-compile") as pool:
            for future in as_completed([pool.submit(timed, t) for t in model_types]):
                model_type, ok, seconds = future.result()
                if not ok:
                    failed.append(model_type)
                if on_done is not None:
                    on_done(model_type, ok, seconds)
        return failed

    def prefetch(self, model_types: Iterable[str]) -> None:
        """Compile the not yet cached of ``model_types`` one after another in low-priority helper
        processes, from a daemon thread (returns at once; later calls add to its queue)."""
        with self._lock:
            if self._stopped:
                return
            self._queue.extend(t for t in model_types if t not in self._queue and not is_cached(t))
            if not self._queue or (self._prefetcher is not None and self._prefetcher.is_alive()):
                return
            self._prefetcher = threading.Thread(target=self._prefetch_queue, name="kernel-prefetch",
                                                daemon=True)
            self._prefetcher.start()

    def _prefetch_queue(self) -> None:
        while True:
            with self._lock:
                if self._stopped or not self._queue:
                    self._prefetcher = None
                    return
                model_type = self._queue.pop(0)
            if not is_cached(model_type):
                process = self._start(model_type, background=True)
                if process is not None:
                    self._wait(model_type, process)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every helper process (their work is lost; numba writes cache files atomically)."""
        with self._lock:
            self._stopped = True
            processes = list(self._processes.values())
        running = [process for process in processes if process.poll() is None]
        for process in running:
            process.terminate()
        if running:
            log.info("stopped %d helper process(es) compiling kernels", len(running))
        for process in running:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
