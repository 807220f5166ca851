"""The benchmark harnesses run (``make bench`` is not part of CI, so these keep them working)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from benchmarks.bench_engine import (
    Config,
    _comparison_row,
    _interleaved,
    _model,
    _our_accuracy,
    _task,
    reference,
)

RUNNER = Path(__file__).resolve().parent.parent / "benchmarks" / "_canns_runner.py"


def test_engine_benchmark_times_ours_and_checks_accuracy_without_canns(tmp_path):
    cfg = Config("CANN1D", 64, steps=400, ref_steps=50)
    model = _model(cfg, endpoint=True)
    ref = reference(model, _task(model, cfg), cfg.ref_steps)
    rates, canns = _interleaved(None, cfg, True, ref, tmp_path, quick=True)
    assert list(rates) == [1] and rates[1] > 0 and canns is None  # too small to be cut in two
    dev = _our_accuracy(cfg, True, ref)
    assert dev < 1e-6  # the float32 product against the float64 dense reference
    row = _comparison_row(cfg, True, rates, dev, 0.0, rates[1], None)
    assert row["pass"] == "yes"  # without canns only the accuracy targets apply
    assert row["ours threads"] == 1 and row["ours steps/s"] == row["ours 1 thread steps/s"]


def test_engine_benchmark_times_a_large_network_on_one_and_on_two_threads(tmp_path):
    cfg = Config("CANN1D", 2048, steps=300, ref_steps=20)
    model = _model(cfg, endpoint=True)
    ref = reference(model, _task(model, cfg), cfg.ref_steps)
    rates, _ = _interleaved(None, cfg, True, ref, tmp_path, quick=True)
    assert sorted(rates) == [1, 2] and min(rates.values()) > 0
    for faster in (1, 2):  # "ours" is the faster of the two, and the one-thread speed is kept
        timed = {1: 100.0, 2: 150.0} if faster == 2 else {1: 150.0, 2: 100.0}
        row = _comparison_row(cfg, True, timed, 1e-9, 1e-9, 90.0, None)
        assert row["ours threads"] == faster and row["ours steps/s"] == 150.0
        assert row["ours 1 thread steps/s"] == timed[1]


def test_canns_runner_answers_every_job_even_a_failing_one():
    jobs = [
        {"op": "prepare", "key": "a", "model": "CANN1D", "size": 16, "endpoint": True, "mode": "normal",
         "dt": 0.05, "iext": [0.0, 1.0], "duration": [1.0], "steps": 20, "max_seconds": 0.1},
        {"op": "time", "key": "never prepared"},
        {"op": "release"},
        {"op": "prepair", "key": "typo"},
    ]
    proc = subprocess.run([sys.executable, str(RUNNER)], input="".join(json.dumps(j) + "\n" for j in jobs),
                          capture_output=True, text=True, timeout=300)
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(answers) == 4, proc.stderr
    has_canns = importlib.util.find_spec("canns") is not None
    assert answers[0]["ready"] is has_canns
    if not has_canns:
        assert answers[0]["note"].startswith("failed: ModuleNotFoundError")
    assert answers[1]["steps_per_s"] == [] and "KeyError" in answers[1]["note"]
    assert answers[2] == {"released": 1 if has_canns else 0}
    assert "unknown op 'prepair'" in answers[3]["note"]


def test_comparison_row_judges_canns_without_its_inputs_and_reports_them_apart():
    cfg = Config("CANN1D", 64)
    canns = {mode: {"rate": rate, "dev": 1e-7, "note": "", "inputs": 2e-6}
             for mode, rate in (("normal", 1e5), ("fft", None), ("fast", 4e5), ("ultra-fast", 5e5))}
    row = _comparison_row(cfg, True, {1: 3e5}, 1e-9, 1e-9, 2e5, canns)
    assert row["× exact"] == 3.0 and row["× fast"] == 0.75 and row["× fast 1 thread"] == 0.75
    assert row["pass"] == "NO: ≥ 1× fast"  # judged on canns' loop alone
    assert row["canns inputs µs/step"] == 2.0
    # with its inputs canns' fast mode takes 2.5 + 2 µs per step: ours (3.33 µs) is 1.35× as fast
    assert abs(row["× fast with inputs"] - 3e5 * (1 / 4e5 + 2e-6)) < 1e-12
