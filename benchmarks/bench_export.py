"""Benchmark of sessions and exports: save/load of a long recording, CSV throughput, movie frame rate.

Run ``python -m benchmarks.bench_export [--quick]`` from the repository root (headless: the movie renders
offscreen). Rows:

* session save / load of a CANN1D-512 recording with full states (``u`` and ``inp``, float64), 100 000
  steps (10 000 with --quick): seconds, file size and throughput of the raw arrays. Saved compressed
  (gzip level 1 + shuffle) and, for comparison, uncompressed.
* CSV: the per-step table of that run and the activity matrix (time × 512) of 10 000 rows, in MB of CSV
  written per second.
* MP4 (H.264) and GIF of the app's full view panel at 1280 × 720 (GIF at 640 × 360), rendered offscreen
  from recorded states: frames per second, rendering and encoding together.

Wall-clock numbers on a shared machine vary by ±20–50 %; each row is the best of ``repeats`` runs.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from canns_engine import CANN1D, Simulation, SmoothTracking1D
from canns_engine.export_csv import write_activity_csv, write_summary_csv
from canns_engine.manifest import manifest_of
from canns_engine.session import load_session, save_session

NUM = 512
DT = 0.05


def _recorded_run(steps: int) -> tuple[Simulation, dict]:
    model = CANN1D(NUM)
    duration = steps * DT
    task = SmoothTracking1D(model, Iext=(0.0, 3.0, -3.0, 0.0), duration=(duration / 3,) * 3, time_step=DT)
    sim = Simulation(model, task, seed=1)
    manifest = manifest_of(sim, at_start=True)
    sim.run(steps)
    return sim, manifest


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _session_rows(sim: Simulation, folder: Path, repeats: int) -> list[dict]:
    rec = sim.recording
    raw_mb = (rec.u.nbytes + rec.inp.nbytes + rec.summary.nbytes) / 1e6
    what = f"CANN1D-{NUM}, {len(rec):,} steps, full states ({raw_mb:,.0f} MB of arrays)"
    rows = []
    for compress in (True, False):
        path = folder / f"run-{compress}.canns"
        save_s = _best(lambda p=path, c=compress: save_session(p, sim, compress=c), repeats)
        load_s = _best(lambda p=path: load_session(p), repeats)
        size = path.stat().st_size / 1e6
        kind = "gzip-1+shuffle" if compress else "uncompressed"
        rows.append({"benchmark": f"session save ({kind})", "value": save_s, "unit": "s",
                     "detail": f"{what}; file {size:,.0f} MB; {raw_mb / save_s:,.0f} MB/s"})
        rows.append({"benchmark": f"session load ({kind})", "value": load_s, "unit": "s",
                     "detail": f"{raw_mb / load_s:,.0f} MB/s of arrays"})
    return rows


def _csv_rows(sim: Simulation, folder: Path, repeats: int) -> list[dict]:
    rows = []
    table = folder / "table.csv"
    seconds = _best(lambda: write_summary_csv(table, sim.recording), repeats)
    mb = table.stat().st_size / 1e6
    rows.append({"benchmark": "CSV per-step table", "value": mb / seconds, "unit": "MB/s",
                 "detail": f"{len(sim.recording):,} rows × 9 columns, {mb:,.1f} MB in {seconds:.2f} s"})
    short, _ = _recorded_run(10_000)
    matrix = folder / "activity.csv"
    seconds = _best(lambda: write_activity_csv(matrix, short.recording), repeats)
    mb = matrix.stat().st_size / 1e6
    rows.append({"benchmark": "CSV activity matrix", "value": mb / seconds, "unit": "MB/s",
                 "detail": f"10,000 rows × {NUM + 1} columns, {mb:,.0f} MB in {seconds:.1f} s"})
    return rows


def _movie_rows(frames: int, folder: Path) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.export.movie import export_recording_movie

    sim, manifest = _recorded_run(frames)
    rows = []
    for suffix, size in ((".mp4", (1280, 720)), (".gif", (640, 360))):
        path = folder / f"panel{suffix}"
        export_recording_movie(path, sim.recording, manifest, size=size, duration=None)  # warm-up
        t0 = time.perf_counter()
        export_recording_movie(path, sim.recording, manifest, size=size, duration=None)
        seconds = time.perf_counter() - t0
        rows.append({"benchmark": f"{suffix[1:].upper()} full panel {size[0]}×{size[1]}",
                     "value": frames / seconds, "unit": "frames/s",
                     "detail": f"{frames} frames of CANN1D-{NUM} in {seconds:.1f} s, "
                               f"{path.stat().st_size / 1e6:.1f} MB"})
    return rows


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows: ``benchmark``, ``value``, ``unit``, ``detail``."""
    steps, frames, repeats = (10_000, 60, 1) if quick else (100_000, 300, 2)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sim, _ = _recorded_run(steps)
        rows = _session_rows(sim, folder, repeats)
        rows += _csv_rows(sim, folder, repeats)
        del sim
        rows += _movie_rows(frames, folder)
    return rows


def main(argv: list[str] | None = None) -> None:
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    rows = run(quick=quick)
    print(f"{'benchmark':<34} {'value':>9} {'unit':<9} detail")
    for row in rows:
        print(f"{row['benchmark']:<34} {row['value']:>9.2f} {row['unit']:<9} {row['detail']}")


if __name__ == "__main__":
    main()
