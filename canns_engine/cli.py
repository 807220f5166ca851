"""The headless command line: ``canns-studio run``, ``info`` and ``warm-up`` (no GUI, same engine).

::

    canns-studio run SESSION_OR_PRESET [--steps N | --duration T] [--set k=6.0 --set A=5]
                     [--out result.canns] [--csv table.csv] [--activity-csv u.csv] [--movie out.mp4]
    canns-studio info FILE [--json]
    canns-studio warm-up [MODEL ...] [--jobs N] [--ship]

``run`` rebuilds the experiment from a preset (``.json``) or a session (``.canns``: its live edits are
replayed too), runs it with a progress bar on a terminal, and writes the requested files (atomically).
The exit code is 0 on success and 1 on any error, which is printed as one line naming the file and the
problem. Only ``--movie`` needs Qt (imported then, rendering offscreen without a display). ``warm-up``
compiles the models' kernels into the cache (the app runs it in helper processes on a first start; the
install step of ``make`` runs it with ``--jobs 2``, so a first start finds them compiled; with
``--ship`` it compiles them for every portable CPU level into the engine's folder of shipped kernels,
which a bundle's build does so that the bundle's first start on any machine of those levels is ready).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TextIO

from .errors import CannsEngineError
from .manifest import build_simulation, validate_manifest
from .models import MODELS
from .recording import RECORD_MODES
from .session import LoadedSession, describe, open_experiment, save_session
from .sink import spill_to_disk

DEFAULT_MAX_MEMORY_MB = 1024
"""In-memory recording budget of ``run``; longer runs continue in a temporary HDF5 file."""
RUN_KEYS = frozenset({"dt", "seed", "loop", "name"})


class UsageError(Exception):
    """A bad command line (reported like every other error: one line, exit code 1)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


class TerminalProgress:
    """A one-line progress bar on ``stream`` when it is a terminal (and not ``quiet``); silent otherwise."""

    def __init__(self, stream: TextIO = sys.stderr, *, quiet: bool = False, width: int = 30,
                 unit: str = "steps") -> None:
        self.stream = stream
        self.width = width
        self.unit = unit
        self.enabled = not quiet and stream.isatty()
        self.start = time.perf_counter()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        frac = done / total if total else 1.0
        bar = "#" * int(frac * self.width)
        self.stream.write(f"\r[{bar:<{self.width}}] {frac:6.1%}  {done:,}/{total:,} {self.unit}  "
                          f"{now - self.start:6.1f} s")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def build_parser() -> argparse.ArgumentParser:
    """The ``run``/``info``/``warm-up`` argument parser."""
    parser = _Parser(prog="canns-studio", description="Run CANN Studio experiments headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run a session or preset and write results",
                         description="Rebuild the experiment (replaying a session's live edits), run it "
                                     "and write the requested outputs.")
    run.add_argument("file", type=Path, help="a .canns session or a .json preset")
    length = run.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="steps to run (default: as many as the session ran, "
                                                  "or the whole protocol of a preset)")
    length.add_argument("--duration", type=float, help="simulated time to run")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="change a model parameter (or dt, seed, loop, name) before running; repeatable")
    run.add_argument("--record", choices=RECORD_MODES, help="what to record (default: the manifest's; "
                                                              "'full' when --movie or --activity-csv)")
    run.add_argument("--record-every", type=int, help="keep every n-th step")
    run.add_argument("--threads", type=int, choices=(1, 2), default=1,
                     help="2: step a large network (a ring of ≥ 2047 neurons, a sheet of ≥ 31 × 31) on two "
                          "cores; the numbers are the same as with 1 (default 1)")
    run.add_argument("--max-memory", type=float, default=DEFAULT_MAX_MEMORY_MB, metavar="MB",
                     help="recording memory budget; beyond it rows stream to a temporary file")
    run.add_argument("--out", type=Path, help="write the result as a .canns session")
    run.add_argument("--no-compress", action="store_true",
                     help="store the session's arrays uncompressed (~10x faster to save, ~1.3x larger)")
    run.add_argument("--csv", type=Path, help="write the per-step table (t, stimulus, decoded, ...)")
    run.add_argument("--activity-csv", type=Path, help="write the activity matrix (time × neuron)")
    run.add_argument("--movie", type=Path, help="write a movie of the views (.mp4 or .gif)")
    run.add_argument("--fps", type=int, default=30, help="movie frame rate (default 30)")
    run.add_argument("--size", default="1280x720", help="movie size WIDTHxHEIGHT (default 1280x720)")
    run.add_argument("--movie-duration", type=float, default=10.0, metavar="SECONDS",
                     help="movie length; the run is spread over it (default 10; 0: every recorded step)")
    run.add_argument("--light", action="store_true", help="movie in the light palette")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    info = sub.add_parser("info", help="print a session's or preset's summary")
    info.add_argument("file", type=Path)
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    warm = sub.add_parser("warm-up", help="compile the models' kernels into the cache",
                          description="Compile the kernels of the given models (default: all) into "
                                      "numba's cache, so their first run starts at once.")
    warm.add_argument("models", nargs="*", type=_model_type, metavar="MODEL",
                      help=f"one of {', '.join(MODELS)}, HierarchicalNetwork (default: all)")
    warm.add_argument("--background", action="store_true", help="at low priority")
    warm.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                      help="compile in N helper processes side by side (default 1: in this process)")
    warm.add_argument("--ship", action="store_true",
                      help="compile for every portable CPU level (x86-64-v4, v3) this machine runs, into "
                           "the engine's folder of shipped kernels (what a bundle's build runs)")
    return parser


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if not 1 <= jobs <= 64:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes from 1 to 64, got {text!r}")
    return jobs


def _model_type(name: str) -> str:
    from .warmup import WARMABLE

    if name not in WARMABLE:
        raise argparse.ArgumentTypeError(f"unknown model {name!r} (one of {', '.join(WARMABLE)})")
    return name


def parse_settings(items: list[str]) -> dict[str, Any]:
    """``["k=6.0", "seed=3"]`` → ``{"k": 6.0, "seed": 3}`` (values are JSON; bare words are text)."""
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        out[key.strip()] = value
    return out


def apply_settings(manifest: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``manifest`` with ``--set`` values (model parameters, dt, seed, loop, name)."""
    m = {**manifest, "model": {**manifest["model"], "params": dict(manifest["model"]["params"])}}
    for key, value in settings.items():
        if key in RUN_KEYS:
            m[key] = value
        elif key in m["model"]["params"]:
            m["model"]["params"][key] = value
        else:
            known = ", ".join([*m["model"]["params"], *sorted(RUN_KEYS)])
            raise UsageError(f"--set {key}: {m['model']['type']} has no such setting; known: {known}")
    return validate_manifest(m, source="--set")


def _steps(args: argparse.Namespace, loaded: LoadedSession, sim: Any) -> int:
    if args.steps is not None:
        if args.steps < 0:
            raise UsageError(f"--steps must be ≥ 0, got {args.steps}")
        return args.steps
    if args.duration is not None:
        if not args.duration >= 0:
            raise UsageError(f"--duration must be ≥ 0, got {args.duration}")
        return round(args.duration / sim.dt)
    if loaded.steps:
        return loaded.steps
    if sim.total_steps is None:
        raise UsageError(f"{args.file}: the experiment has no finite protocol; give --steps or --duration")
    return sim.total_steps


def _movie_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size must look like 1280x720, got {text!r}") from None
    if not (16 <= width <= 7680 and 16 <= height <= 4320):
        raise UsageError(f"--size must be between 16x16 and 7680x4320, got {text!r}")
    return width, height


def cmd_run(args: argparse.Namespace, out: TextIO) -> None:
    """Run an experiment and write the requested outputs."""
    size = _movie_size(args.size) if args.movie else None
    if args.movie and args.movie_writer is None:
        raise UsageError("--movie needs the app's renderer: use the canns-studio command (app.cli)")
    if args.movie_duration < 0:
        raise UsageError(f"--movie-duration must be ≥ 0, got {args.movie_duration}")
    if args.max_memory <= 0:
        raise UsageError(f"--max-memory must be > 0, got {args.max_memory}")
    loaded = open_experiment(args.file, states=False)
    manifest = apply_settings(loaded.manifest, parse_settings(args.set))
    overrides: dict[str, Any] = {"max_bytes": int(args.max_memory * 2**20), "threads": args.threads}
    if args.record or args.movie or args.activity_csv:
        overrides["record"] = args.record or "full"
    if args.record_every is not None:
        overrides["record_every"] = args.record_every
    sim = build_simulation(manifest, source=str(args.file), **overrides)
    steps = _steps(args, loaded, sim)
    spill_to_disk()
    bar = TerminalProgress(quiet=args.quiet)
    try:
        sim.run(steps, events=loaded.events, progress=bar)
    finally:
        bar.finish()
    segments = [*sim.previous_recordings, *([sim.recording] if sim.recording is not None else [])]
    written = []
    if args.out:
        save_session(args.out, sim, name=manifest["name"], description=manifest["description"],
                     view=manifest["view"], compress=not args.no_compress)
        written.append(args.out)
    if args.csv:
        from .export_csv import write_summary_csv

        written += [args.csv, write_summary_csv(args.csv, segments)]
    if args.activity_csv:
        from .export_csv import write_activity_csv

        written += [args.activity_csv, write_activity_csv(args.activity_csv, segments[-1])]
    if args.movie:
        args.movie_writer(args.movie, sim.recording, manifest, events=loaded.events, fps=args.fps,
                          size=size, duration=args.movie_duration or None, light=args.light,
                          progress=TerminalProgress(quiet=args.quiet, unit="frames"))
        written.append(args.movie)
    if not args.quiet:
        out.write(f"ran {steps:,} steps (t = {sim.t:g}) of {manifest['model']['type']}"
                  f"{'' if sim.task is None else ' / ' + sim.task.task_type}")
        rec = sim.recording
        if rec is not None and len(rec):
            field = "decoded_pos" if "decoded_pos" in rec.fields else "decoded_x"
            out.write(f"; last {field} = {rec.summary[-1, rec.fields.index(field)]:.6g}")
        out.write("\n")
        for path in written:
            out.write(f"wrote {path}\n")


def cmd_info(args: argparse.Namespace, out: TextIO) -> None:
    """Print a session's or preset's summary (or its manifest as JSON)."""
    loaded = open_experiment(args.file, states=False)
    out.write((json.dumps(loaded.manifest, indent=2) if args.json else describe(loaded)) + "\n")


def cmd_warm_up(args: argparse.Namespace, out: TextIO) -> None:
    """Compile the requested models' kernels (all by default) and say how long each took; with
    ``--jobs N`` in helper processes, N at a time (a model already compiled takes no time)."""
    import os

    from .warmup import WARMABLE, KernelCompiler, log_file, ship, slowest_first, warm_up

    if args.background and hasattr(os, "nice"):
        os.nice(10)
    if args.ship:
        def say(line: str) -> None:
            out.write(line + "\n")
            out.flush()

        folder = ship(slowest_first(args.models or WARMABLE), max(args.jobs, 1), say)
        say(f"shipped kernels: {folder}")
        return
    if args.jobs > 1:
        def done(model_type: str, ok: bool, seconds: float) -> None:
            out.write(f"{model_type}: {'ready' if ok else 'FAILED'} in {seconds:.1f} s\n")
            out.flush()

        failed = KernelCompiler().ensure_all(slowest_first(args.models or WARMABLE), args.jobs, done,
                                              background=args.background)
        if failed:
            raise CannsEngineError(f"compiling {', '.join(failed)} failed; the helper's messages are in "
                                   f"{', '.join(str(log_file(t)) for t in failed)}")
        return
    for model_type in args.models or WARMABLE:
        started = time.perf_counter()
        warm_up([model_type])
        out.write(f"{model_type}: ready in {time.perf_counter() - started:.1f} s\n")


def main(argv: list[str] | None = None, *, out: TextIO | None = None,
         movie_writer: Callable[..., Any] | None = None) -> int:
    """Entry point of ``canns-studio run|info``: returns the exit code (0 ok, 1 error).

    ``movie_writer`` renders ``--movie`` (the app passes its offscreen renderer; the engine has no views
    of its own and never imports Qt).
    """
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(argv)
        args.movie_writer = movie_writer
        {"run": cmd_run, "info": cmd_info, "warm-up": cmd_warm_up}[args.command](args, out)
    except (UsageError, CannsEngineError, OSError, ValueError) as exc:
        sys.stderr.write(f"canns-studio: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("canns-studio: interrupted (files being written were discarded)\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
