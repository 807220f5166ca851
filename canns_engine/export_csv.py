"""CSV export of a recording: a tidy per-step table and the full activity matrix.

Both files are plain comma-separated text with one header line of simple names, so pandas
(``pd.read_csv``), MATLAB (``readtable``/``readmatrix``), numpy (``np.genfromtxt(..., names=True,
delimiter=",")``) and spreadsheets read them without options. Missing values (no stimulus on) are
``NaN``. Numbers are written exactly: reading them back gives the recorded float64 values bit for
bit. Units and descriptions go to a sidecar ``<name>.units.csv`` (``column,unit,description``).

Files are written a block of rows at a time (bounded memory, also for recordings streamed to disk)
and atomically (:func:`canns_engine.atomic.atomic_output`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .atomic import atomic_output
from .recording import Recording
from .sink import UNITS, rows

BLOCK_ROWS = 2048
"""Rows formatted per write of the activity matrix (fewer when rows are wide)."""
SUMMARY_BLOCK_ROWS = 16384
DESCRIPTIONS = {
    "step": "index of the recorded step (the state after it)",
    "t": "simulated time, (step + 1) * dt",
    "stim_pos": "stimulus position (NaN: no stimulus)",
    "decoded_pos": "bump position, population-vector decoder",
    "decoded_com": "bump position, centre of mass",
    "stim_x": "stimulus x (NaN: no stimulus)",
    "stim_y": "stimulus y (NaN: no stimulus)",
    "decoded_x": "bump x, population-vector decoder",
    "decoded_y": "bump y, population-vector decoder",
    "error": "wrapped distance decoded - stimulus (NaN: no stimulus)",
    "bump_height": "peak of u",
    "bump_width": "extent above 10 % of the peak",
    "total_activity": "summed firing rate",
}
ACTIVITY_VARIABLES = ("u", "r", "inp", "v")
Progress = Callable[[int, int], None]


def _shortest(block: np.ndarray) -> list[str]:
    """Rows as text with the shortest exact representation (``repr``), formatted in C."""
    if not len(block):
        return []
    return str(block.tolist())[2:-2].replace("], [", "\n").replace(", ", ",").split("\n")


def _exact17(block: np.ndarray) -> list[str]:
    """Rows as text with 17 significant digits: exact too, and about twice as fast as ``repr``."""
    fmt = ",".join(["%.17g"] * block.shape[1])
    return [fmt % tuple(row) for row in block.tolist()]


def _write_lines(f, lines: list[str]) -> None:
    if lines:
        text = "\n".join(lines) + "\n"
        f.write(text.replace("nan", "NaN").replace("inf", "Inf"))


def _write_units(path: Path, columns: list[tuple[str, str, str]]) -> Path:
    sidecar = path.with_name(f"{path.stem}.units.csv")
    with atomic_output(sidecar) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write("column,unit,description\n")
        for name, unit, text in columns:
            f.write(f"{name},{unit},\"{text}\"\n")
    return sidecar


def write_summary_csv(path: str | os.PathLike[str], segments: Recording | Sequence[Recording], *,
                      progress: Progress | None = None) -> Path:
    """Write the tidy per-step table ``step, t, <summary fields>`` of one or more segments.

    Segments after a grid change continue the same table (their columns are the same).
    Returns the path of the units sidecar.
    """
    path = Path(path)
    segments = [segments] if isinstance(segments, Recording) else list(segments)
    if not segments:
        raise ValueError("nothing to export: the experiment has no recording")
    fields = segments[0].fields
    total, done = sum(len(s) for s in segments), 0
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(["step", "t", *fields]) + "\n")
        for rec in segments:
            for start in range(0, len(rec), SUMMARY_BLOCK_ROWS):
                stop = min(len(rec), start + SUMMARY_BLOCK_ROWS)
                step = rows(rec, "step", start, stop)
                block = np.column_stack([(step + 1) * rec.dt, rows(rec, "summary", start, stop)])
                _write_lines(f, [f"{s},{line}" for s, line in zip(step.tolist(), _shortest(block),
                                                                  strict=True)])
                done += stop - start
                if progress is not None:
                    progress(done, total)
    columns = [(c, UNITS[c], DESCRIPTIONS[c]) for c in ("step", "t", *fields)]
    return _write_units(path, columns)


def activity_columns(rec: Recording) -> list[str]:
    """Column names of the activity matrix: ``n<j>`` (1D) or ``n<i>_<j>`` (row i = y, column j = x)."""
    n = len(rec.x)
    if rec.ndim == 1:
        return [f"n{j}" for j in range(n)]
    return [f"n{i}_{j}" for i in range(n) for j in range(n)]


def write_activity_csv(path: str | os.PathLike[str], rec: Recording, *, variable: str = "u",
                       progress: Progress | None = None) -> Path:
    """Write the full activity matrix: one row per recorded step, ``t`` then one column per neuron.

    ``variable`` is ``u`` (synaptic input, the state), ``r`` (firing rate, computed with the
    recording's ``k``), ``inp`` (external input) or ``v`` (adaptation). 2D states are flattened row by
    row; the sidecar gives each column's grid position. Returns the path of the units sidecar.
    """
    if variable not in ACTIVITY_VARIABLES:
        raise ValueError(f"variable must be one of {', '.join(ACTIVITY_VARIABLES)}, got {variable!r}")
    if not rec.full or (variable == "v" and not rec.sfa):
        raise ValueError(f"no {variable} in this recording (record={rec.record!r}, model "
                         f"{rec.model_type}): record full states to export the activity matrix")
    path = Path(path)
    names = activity_columns(rec)
    n = len(rec)
    block = max(1, min(BLOCK_ROWS, (8 << 20) // (8 * len(names))))
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(["t", *names]) + "\n")
        for start in range(0, n, block):
            stop = min(n, start + block)
            states = rows(rec, "u" if variable == "r" else variable, start, stop).reshape(stop - start, -1)
            if variable == "r":
                sq = states**2
                states = sq / (1.0 + rec.params["k"] * sq.sum(axis=1, keepdims=True))
            t = (rows(rec, "step", start, stop) + 1) * rec.dt
            _write_lines(f, _exact17(np.column_stack([t, states])))
            if progress is not None:
                progress(stop, n)
    x = np.asarray(rec.x).tolist()
    where = ([f"x = {x[j]!r}" for j in range(len(x))] if rec.ndim == 1 else
             [f"x = {x[j]!r}, y = {x[i]!r}" for i in range(len(x)) for j in range(len(x))])
    unit = "firing rate r" if variable == "r" else UNITS[variable]
    columns = [("t", UNITS["t"], DESCRIPTIONS["t"])]
    columns += [(c, unit, f"neuron at {w}") for c, w in zip(names, where, strict=True)]
    return _write_units(path, columns)


__all__ = ["ACTIVITY_VARIABLES", "activity_columns", "write_activity_csv", "write_summary_csv"]
