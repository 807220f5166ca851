"""CANN Studio's benchmarks: ``python -m benchmarks [--quick] [--only NAME …] [--markdown]`` (``make bench``).

Every module ``benchmarks/bench_<name>.py`` with a ``run(quick=False) -> list[dict]`` is one benchmark;
:mod:`benchmarks.__main__` runs them and prints one table per module (columns in the order the rows first
name them). A row may carry a ``"table"`` key to go into a named sub-table of its module (the engine
benchmark uses it for compile times, memory and scaling).

canns, the reference library, is an optional extra (``bench``) and never a runtime dependency: the engine
benchmark times it in canns' own interpreter when this one cannot import it (see
:mod:`benchmarks._canns_runner`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def format_value(value: object) -> str:
    """A table cell: 3 significant digits for floats, thousands separators for integers, ``—`` for None."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.2e}"
        return f"{value:.3g}"
    return str(value)


def format_table(rows: Iterable[dict], *, markdown: bool = False) -> str:
    """Rows of dicts as an aligned text table (or a Markdown table)."""
    rows = list(rows)
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    cells = [[format_value(row.get(col)) for col in columns] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
        lines += ["| " + " | ".join(line) + " |" for line in cells]
        return "\n".join(lines)
    widths = [max(len(col), *(len(line[i]) for line in cells)) for i, col in enumerate(columns)]
    lines = ["  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(lines)
