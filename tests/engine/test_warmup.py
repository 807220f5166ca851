"""Kernels compiled ahead of use: in helper processes that fill numba's cache, stoppable, with a fallback."""

import subprocess
import sys
import threading
import time

import pytest

from canns_engine import _cache, warmup
from canns_engine.cli import main as cli_main
from canns_engine.warmup import KernelCompiler


@pytest.fixture
def cold_cache(tmp_path, monkeypatch):
    """An empty kernel cache, in this process and in the helpers it starts (same folder)."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    folder = tmp_path / f"engine-{_cache.fingerprint()}"
    folder.mkdir()
    monkeypatch.setattr(_cache, "CACHE_DIR", folder)
    return folder


def _numba_files(folder):
    return [p for p in folder.rglob("*") if p.suffix in (".nbi", ".nbc")]


def test_a_helper_process_compiles_a_model_into_the_cache(cold_cache):
    assert not warmup.is_cached("CANN1D") and not _numba_files(cold_cache)
    compiler = KernelCompiler()
    assert compiler.ensure("CANN1D")
    assert warmup.is_cached("CANN1D") and _numba_files(cold_cache)
    # a second helper finds the kernels cached: it only loads them
    out = subprocess.run(warmup.command(["CANN1D"]), cwd=compiler.cwd, capture_output=True, text=True,
                         check=True)
    assert float(out.stdout.split("ready in")[1].split("s")[0]) < 5.0
    assert compiler.ensure("CANN1D")  # stamped: nothing is started
    assert compiler._processes["CANN1D"].poll() is not None


def test_stop_ends_a_compiling_helper_at_once(cold_cache):
    compiler = KernelCompiler()
    result = []
    waiting = threading.Thread(target=lambda: result.append(compiler.ensure("CANN2D")))
    waiting.start()
    deadline = time.monotonic() + 30
    while "CANN2D" not in compiler._processes and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # compiling by now (a cold sheet takes 15–20 s)
    process = compiler._processes["CANN2D"]
    assert process.poll() is None
    started = time.monotonic()
    compiler.stop()
    waiting.join(timeout=5)
    assert not waiting.is_alive() and time.monotonic() - started < 5
    assert result == [False] and process.poll() is not None
    assert not warmup.is_cached("CANN2D")
    compiler.prefetch(["CANN2D"])  # stopped: starts nothing
    assert compiler._prefetcher is None


def test_the_prefetcher_compiles_in_turn_and_ensure_joins_its_process(cold_cache, monkeypatch):
    """One process per model: a model the prefetcher is compiling is waited for, not compiled twice."""
    script = ("import sys, time, pathlib; time.sleep(0.5); "
              f"folder = pathlib.Path({str(cold_cache)!r}); "
              "open(folder / 'runs.txt', 'a').write(sys.argv[1] + '\\n'); "
              "(folder / (sys.argv[1] + '.stamp')).touch()")
    monkeypatch.setattr(warmup, "command", lambda models: [sys.executable, "-c", script, *models])
    monkeypatch.setattr(warmup, "_stamp", lambda model: cold_cache / f"{model}.stamp")
    compiler = KernelCompiler()
    compiler.prefetch(["CANN1D", "CANN2D"])
    deadline = time.monotonic() + 10
    while "CANN1D" not in compiler._processes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert compiler.ensure("CANN1D")  # joins the prefetcher's process
    assert compiler.ensure("CANN2D")
    assert sorted((cold_cache / "runs.txt").read_text().split()) == ["CANN1D", "CANN2D"]
    assert "--background" in compiler._processes["CANN1D"].args  # the prefetcher's, at low priority
    prefetcher = compiler._prefetcher
    if prefetcher is not None:
        prefetcher.join(5)
    compiler.prefetch(["CANN1D", "CANN2D"])  # both cached: nothing to do
    assert compiler._queue == [] and compiler._prefetcher is None


def test_warm_up_command_names_a_bad_model(capsys):
    assert cli_main(["warm-up", "CANN3D"]) == 1
    err = capsys.readouterr().err
    assert "unknown model 'CANN3D' (one of CANN1D, CANN1D_SFA, CANN2D, CANN2D_SFA, HierarchicalNetwork)" \
        in err
