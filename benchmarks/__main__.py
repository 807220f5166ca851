"""Run the benchmarks and print one table per module: ``python -m benchmarks [--quick] [--only NAME …]``.

``--only engine`` runs ``bench_engine`` alone (the name may be repeated); ``--markdown`` prints Markdown
tables; ``--json PATH`` also saves every row. A module that cannot be imported (a missing optional
dependency, a module still being written) is reported and skipped, so the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

from . import format_table


def _modules() -> list[str]:
    """Names of the benchmark modules (``bench_<name>.py`` next to this file), sorted."""
    folder = Path(__file__).resolve().parent
    return sorted(path.stem.removeprefix("bench_") for path in folder.glob("bench_*.py"))


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d %H:%M')}, load average {load}")


def main(argv: list[str] | None = None) -> int:
    names = _modules()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer configurations and shorter runs")
    parser.add_argument("--only", action="append", choices=names, help="run only this benchmark")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--json", type=Path, help="also write all rows to this JSON file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, when run from elsewhere
    print(f"# {_machine()}\n")
    results: dict[str, list[dict]] = {}
    failed = False
    for name in args.only or names:
        print(f"## {name}\n", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
        except Exception as exc:  # an optional dependency or a module in progress: skip it
            print(f"(skipped: cannot import bench_{name}: {type(exc).__name__}: {exc})\n")
            continue
        if not callable(getattr(module, "run", None)):
            print(f"(skipped: bench_{name} has no run(quick) function)\n")
            continue
        try:
            rows = module.run(quick=args.quick)
        except Exception:
            traceback.print_exc()
            failed = True
            continue
        results[name] = rows
        tables: dict[str | None, list[dict]] = {}
        for row in rows:
            row = dict(row)
            tables.setdefault(row.pop("table", None), []).append(row)
        for title, table in tables.items():
            if title:
                print(f"### {title}\n")
            print(format_table(table, markdown=args.markdown) + "\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": _machine(), "results": results}, indent=1, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
