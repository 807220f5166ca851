""""Copy as Python": the source of a short script that reproduces an experiment headless.

The script uses the public ``canns_engine`` API the way a canns user writes it — a model, a task, a
:class:`~canns_engine.Simulation` — with every parameter spelled out (defaults included, so it means
the same thing under a later version), the live edits as an ``events`` list, and ``sim.run``. Running it
gives the same recording as the app, bit for bit on the same machine and versions.
"""

from __future__ import annotations

import pprint
import textwrap
from typing import Any

from .manifest import manifest_of, validate_manifest
from .models import MODELS
from .simulation import Simulation

WIDTH = 100


def _call(name: str, args: list[str]) -> str:
    """``name(arg, arg, ...)`` wrapped to :data:`WIDTH` with hanging indentation."""
    one_line = f"{name}({', '.join(args)})"
    if len(one_line) <= WIDTH:
        return one_line
    body = textwrap.fill(", ".join(args), width=WIDTH - 4, initial_indent="    ",
                         subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)
    return f"{name}(\n{body},\n)"


def experiment_script(manifest: dict[str, Any], events: list[dict[str, Any]] | None = None,
                      steps: int | None = None) -> str:
    """Python source that rebuilds ``manifest``, replays ``events`` and runs ``steps`` steps.

    ``steps=None`` runs the protocol to its end (the manifest must have a finite task then).
    """
    m = validate_manifest(manifest)
    events = list(events or [])
    model_type = m["model"]["type"]
    cls = MODELS[model_type]
    params = dict(m["model"]["params"])
    size = params.pop(cls.size_param)
    imports = [model_type, "Simulation"]
    lines = [f"model = {_call(model_type, [repr(size), *(f'{k}={v!r}' for k, v in params.items())])}"]
    if m["task"] is not None:
        spec = {k: v for k, v in m["task"].items() if k not in ("type", "time_step")}
        imports.insert(1, m["task"]["type"])
        args = ["model", *(f"{k}={v!r}" for k, v in spec.items()), f"time_step={m['dt']!r}"]
        lines.append(f"task = {_call(m['task']['type'], args)}")
    else:
        lines.append(f"model.dt = {m['dt']!r}")
    rec = m["recording"]
    sim_args = ["model", "task" if m["task"] is not None else "None", f"seed={m['seed']!r}",
                f"record={rec['record']!r}", f"record_every={rec['record_every']!r}"]
    if m["loop"]:
        sim_args.append("loop=True")
    lines.append(f"sim = {_call('Simulation', sim_args)}")
    if events:
        lines.append("# Live edits made in CANN Studio, each applied at its step:")
        lines.append(f"events = {pprint.pformat(events, width=WIDTH - 9, sort_dicts=False)}")
    run_args = [*([] if steps is None else [str(steps)]), *(["events=events"] if events else [])]
    lines.append(f"recording = sim.run({', '.join(run_args)})")
    if rec["record"] != "none":
        decoded = "decoded_pos" if cls.ndim == 1 else "decoded_x"
        lines.append(f"print(len(recording), 'recorded steps; last decoded position:', "
                     f"recording.{decoded}[-1])")
    header = [f"# CANN Studio experiment {m['name']!r} (CANN Studio {m['versions'].get('app', '?')}).",
              "# Runs headless and reproduces the app's recording.",
              f"from canns_engine import {', '.join(imports)}", ""]
    return "\n".join([*header, *lines]) + "\n"


def script_of(sim: Simulation, *, name: str = "Untitled experiment") -> str:
    """The script that reproduces ``sim`` from its start, with its events, up to its current step."""
    manifest = manifest_of(sim, name=name, at_start=True)
    return experiment_script(manifest, list(sim.events), sim.step_index)


__all__ = ["experiment_script", "script_of"]
