"""Benchmark of the desktop app: display rate, engine throughput under the GUI, and event-loop stalls.

Run ``python -m benchmarks.bench_app [--quick]`` from the repository root (headless: offscreen Qt). For
CANN1D-512 and CANN2D-64 it opens the real main window (1400 × 900, default layout, every visible view
drawing at the 60 Hz display rate), runs the network as fast as it goes, and reports:

* display FPS: frames drawn per second;
* engine steps/s with the GUI running, headless steps/s of the same model (``Simulation.run`` on the
  same thread count, no Qt), and their ratio;
* worst event-loop stall: the largest delay of a 10 ms QTimer probe beyond its period during the run;
* GUI thread CPU time per drawn frame (ingesting every engine frame, drawing, painting, the probe);
* the 1-minute load average at the end of the run (other processes share the cores);
* draw cost: GUI thread CPU time per drawn frame (median and 90th percentile) with the engine stepped on
  the GUI thread between draws instead of running in a worker, so no other thread competes. This is the
  number to compare when changing drawing code: on this shared machine the live figures above move by
  ±20 % from run to run, the draw cost by a few per cent;
* chunk alone / contended: wall time of one worker chunk (the steps of ~``CHUNK_SECONDS`` of compute,
  then a snapshot, as the app's worker does) on its own and next to a thread running Python with the
  run's switch interval. The difference is time spent winning the GIL back: once after the compiled
  kernel (unavoidable), and after every numpy operation on a long array, which releases it — the worker's
  glue must not have any.

The headless rate is measured just before and just after the GUI run and averaged, so a load that
drifts during the run biases the ratio less. The display clock runs at 60 Hz, so 60 FPS is its maximum:
the FPS target means that every display tick had a new frame and drew it.

Targets: ≥ 60 FPS, ratio ≥ 0.8, worst stall < 50 ms. Wall-clock numbers on a shared machine vary by
±20–50 %; each GUI row is one run of ``seconds``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Iterator

CASES = (("CANN1D", 512), ("CANN2D", 64))
TARGETS = {"display_fps": 60.0, "ratio": 0.8, "worst_stall_ms": 50.0}


def _simulation(model_type: str, size: int):
    """The benchmark's experiment as the app runs it (summaries recorded every step), compiled and warm."""
    from app.panels.protocols import default_manifest
    from canns_engine.manifest import build_simulation

    sim = build_simulation(_manifest(default_manifest, model_type, size), record="summary")
    sim.run(steps=200)
    return sim


def _headless_steps_per_s(model_type: str, size: int, seconds: float) -> float:
    sim = _simulation(model_type, size)
    start, steps0 = time.perf_counter(), sim.step_index
    while time.perf_counter() - start < seconds:
        sim.run(steps=2000 if model_type.startswith("CANN1D") else 200)
    return (sim.step_index - steps0) / (time.perf_counter() - start)


def _manifest(default_manifest, model_type: str, size: int) -> dict:
    manifest = default_manifest(model_type)
    size_param = "num" if model_type.startswith("CANN1D") else "length"
    manifest["model"]["params"][size_param] = size
    manifest["name"] = f"{model_type}-{size} benchmark"
    return manifest


def _wait(ms: int) -> None:
    """Run the event loop for ``ms`` milliseconds."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


@contextlib.contextmanager
def _main_window(model_type: str, size: int) -> Iterator:
    """The real main window (default layout) with the benchmark experiment open; closed afterwards."""
    from app.main_window import MainWindow
    from app.panels.protocols import default_manifest

    window = MainWindow()
    window.show()
    while window.controller.is_warming_up:
        _wait(50)
    window._load_experiment(_manifest(default_manifest, model_type, size), None)
    try:
        yield window
    finally:
        window.controller.stop(wait=True)
        window.controller.shutdown()
        window.close()
        window.deleteLater()
        _wait(50)


def _gui_run(model_type: str, size: int, seconds: float) -> dict:
    from PySide6.QtCore import Qt, QTimer

    with _main_window(model_type, size) as window:
        window.controller.set_speed(None)
        drawn = []
        window.controller.frame_ready.connect(lambda frame: drawn.append(time.perf_counter()))
        ticks = []
        probe = QTimer()
        probe.setTimerType(Qt.TimerType.PreciseTimer)
        probe.setInterval(10)
        probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
        window.controller.start()
        _wait(1000)  # settle: first chunks, chunk-size estimate
        step0, t0 = window.controller.latest_frame.step, time.perf_counter()
        drawn.clear()
        cpu0 = time.thread_time()  # this is the GUI thread
        probe.start()
        _wait(round(seconds * 1000))
        probe.stop()
        step1, t1 = window.controller.latest_frame.step, time.perf_counter()
        cpu = time.thread_time() - cpu0
        frames = len(drawn)
        views = sum(v.drawing_enabled and v.isVisible() for v in window.views.values())
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        return {"display_fps": frames / (t1 - t0), "engine_steps_per_s": (step1 - step0) / (t1 - t0),
                "worst_stall_ms": max(0.0, (max(gaps) - 0.010) * 1000) if gaps else float("nan"),
                "views": views, "gui_cpu_ms_per_frame": 1000 * cpu / max(frames, 1),
                "load_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")}


def _draw_cost(model_type: str, size: int, frames: int) -> dict:
    """GUI CPU time per drawn frame, engine stepped on this thread (see the module docstring).

    Between two draws the network advances by about what it does between two display ticks at full
    speed, in three snapshots: two only ingested (histories), the last drawn, as the live app does.
    """
    from PySide6.QtWidgets import QApplication

    with _main_window(model_type, size) as window:
        sim, views = window.controller.simulation, window.view_set
        steps = 2400 if model_type.startswith("CANN1D") else 300
        costs = []
        for i in range(frames + 20):
            snapshots = []
            for _ in range(3):
                sim.step(steps // 3)
                snapshots.append(sim.snapshot())
            cpu0 = time.thread_time()
            for frame in snapshots[:-1]:
                views.ingest(frame)
            views.show_frame(snapshots[-1])
            QApplication.processEvents()
            if i >= 20:  # the first frames fill the histories
                costs.append(time.thread_time() - cpu0)
        costs.sort()
        return {"draw_ms_p50": 1000 * costs[len(costs) // 2],
                "draw_ms_p90": 1000 * costs[int(0.9 * len(costs))]}


def _chunk_contention(model_type: str, size: int, chunks: int) -> dict:
    """Wall time of one worker chunk (steps sized like the app's, then a snapshot) alone and next to a
    thread running Python (see the module docstring)."""
    import threading

    from app.controller import CHUNK_SECONDS
    from app.run_loop import SwitchInterval

    sim = _simulation(model_type, size)
    probe = 2000 if model_type.startswith("CANN1D") else 200
    sim.run(steps=probe)
    start = time.perf_counter()
    sim.step(probe)
    steps = max(1, int(probe / (time.perf_counter() - start) * CHUNK_SECONDS))

    def chunk_ms() -> float:
        start = time.perf_counter()
        for _ in range(chunks):
            sim.step(steps)
            sim.snapshot()
        return 1000 * (time.perf_counter() - start) / chunks

    stop = threading.Event()

    def python_loop() -> None:
        count = 0
        while not stop.is_set():
            count += 1

    alone = chunk_ms()
    SwitchInterval.hold()  # the run's switch interval, as in the app
    thread = threading.Thread(target=python_loop)
    thread.start()
    try:
        contended = chunk_ms()
    finally:
        stop.set()
        thread.join()
        SwitchInterval.release()
    alone = (alone + chunk_ms()) / 2
    return {"chunk_ms": alone, "chunk_ms_contended": contended}


def run(quick: bool = False) -> list[dict]:
    """Measure every case; returns one row (dict) per case."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    from app.controller import compile_kernels
    from canns_engine.warmup import WARMABLE

    # every kernel the window might prefetch, so that no helper process compiles during a measurement
    # (after an engine change the window's background prefetch of path integration took ~30 s of CPU
    # and cut the first case's FPS and ratio: 54 FPS, a 0.7 s stall)
    compile_kernels(WARMABLE)
    seconds = 3.0 if quick else 8.0
    rows = []
    for model_type, size in CASES:
        before = _headless_steps_per_s(model_type, size, seconds / 4)
        gui = _gui_run(model_type, size, seconds)
        headless = (before + _headless_steps_per_s(model_type, size, seconds / 4)) / 2
        rows.append({"case": f"{model_type}-{size}", **gui, "headless_steps_per_s": headless,
                     "ratio": gui["engine_steps_per_s"] / headless,
                     **_draw_cost(model_type, size, 100 if quick else 300),
                     **_chunk_contention(model_type, size, 20 if quick else 60)})
    app.processEvents()
    return rows


def _print_table(rows: list[dict]) -> None:
    header = (f"{'case':<12} {'display FPS':>11} {'steps/s (GUI)':>14} {'steps/s (headless)':>19} "
              f"{'ratio':>6} {'worst stall':>12} {'views':>6} {'GUI CPU/frame':>14} {'load':>5} "
              f"{'draw cost p50/p90':>18} {'chunk alone/contended':>22}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['case']:<12} {r['display_fps']:>11.1f} {r['engine_steps_per_s']:>14,.0f} "
              f"{r['headless_steps_per_s']:>19,.0f} {r['ratio']:>6.2f} {r['worst_stall_ms']:>9.1f} ms "
              f"{r['views']:>6} {r['gui_cpu_ms_per_frame']:>11.1f} ms {r['load_1min']:>5.2f} "
              f"{r['draw_ms_p50']:>9.1f}/{r['draw_ms_p90']:.1f} ms "
              f"{r['chunk_ms']:>13.1f}/{r['chunk_ms_contended']:.1f} ms")
    print(f"targets: ≥ {TARGETS['display_fps']:g} FPS, ratio ≥ {TARGETS['ratio']:g}, "
          f"worst stall < {TARGETS['worst_stall_ms']:g} ms")


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    _print_table(run(quick="--quick" in sys.argv))
