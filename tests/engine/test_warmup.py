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


def _fake_helpers(monkeypatch, folder, fail=()):
    """Helper processes that take 0.4 s, log when they ran, stamp their model (or fail, for ``fail``)."""
    script = ("import sys, time, pathlib; start = time.time(); time.sleep(0.4); "
              f"folder = pathlib.Path({str(folder)!r}); model = sys.argv[1]; "
              f"sys.exit(f'cannot compile {{model}}') if model in {tuple(fail)!r} else None; "
              "open(folder / 'runs.txt', 'a').write(f'{model} {start} {time.time()}\\n'); "
              "(folder / (model + '.stamp')).touch()")
    monkeypatch.setattr(warmup, "command", lambda models: [sys.executable, "-c", script, *models])
    monkeypatch.setattr(warmup, "_stamp", lambda model: folder / f"{model}.stamp")


def test_ensure_all_compiles_side_by_side_but_never_more_than_jobs_at_once(cold_cache, monkeypatch):
    _fake_helpers(monkeypatch, cold_cache, fail=("CANN2D",))
    reports = []
    failed = KernelCompiler().ensure_all(["CANN1D", "CANN1D_SFA", "CANN2D", "CANN2D_SFA"], jobs=2,
                                         on_done=lambda *report: reports.append(report))
    assert failed == ["CANN2D"]
    assert sorted((model, ok) for model, ok, _ in reports) == [
        ("CANN1D", True), ("CANN1D_SFA", True), ("CANN2D", False), ("CANN2D_SFA", True)]
    runs = [line.split() for line in (cold_cache / "runs.txt").read_text().splitlines()]
    assert sorted(model for model, *_ in runs) == ["CANN1D", "CANN1D_SFA", "CANN2D_SFA"]
    spans = [(float(start), float(end)) for _, start, end in runs]
    for start, _ in spans:  # at every start, at most two helpers (itself included) are running
        assert sum(s <= start < e for s, e in spans) <= 2
    assert any(s1 < e2 and s2 < e1 for i, (s1, e1) in enumerate(spans) for (s2, e2) in spans[i + 1:])


def test_warm_up_command_with_jobs_reports_each_model_and_fails_naming_it(cold_cache, monkeypatch, capsys):
    _fake_helpers(monkeypatch, cold_cache, fail=("CANN2D",))
    assert cli_main(["warm-up", "--jobs", "2", "CANN1D", "CANN2D"]) == 1
    captured = capsys.readouterr()
    assert "CANN1D: ready in" in captured.out and "CANN2D: FAILED in" in captured.out
    assert "compiling CANN2D failed; the helper's messages are in" in captured.err
    assert str(warmup.log_file("CANN2D")) in captured.err
    assert "cannot compile CANN2D" in warmup.log_file("CANN2D").read_text()
    assert cli_main(["warm-up", "--jobs", "2", "CANN1D"]) == 0  # already stamped: nothing runs
    assert (cold_cache / "runs.txt").read_text().count("CANN1D ") == 1


def test_warm_up_command_with_jobs_in_the_background_starts_low_priority_helpers(cold_cache, monkeypatch):
    _fake_helpers(monkeypatch, cold_cache)
    started = []
    real_popen = subprocess.Popen
    monkeypatch.setattr(warmup.subprocess, "Popen",
                        lambda args, **kw: started.append(args) or real_popen(args, **kw))
    monkeypatch.setattr(warmup.os, "nice", lambda increment: None, raising=False)  # not this test process
    assert cli_main(["warm-up", "--jobs", "2", "--background", "CANN1D", "CANN2D"]) == 0
    assert len(started) == 2 and all(args[-1] == "--background" for args in started)


@pytest.mark.parametrize("jobs", ["0", "65", "two", "1.5"])
def test_warm_up_command_refuses_a_bad_job_count(jobs, capsys):
    assert cli_main(["warm-up", "--jobs", jobs]) == 1
    expected = f"argument --jobs: expected a whole number of processes from 1 to 64, got {jobs!r}"
    assert expected in capsys.readouterr().err


def test_numba_index_updates_wait_for_the_lock_other_processes_hold(tmp_path):
    """Two processes adding versions of one function to numba's index must not interleave."""
    from numba.core.caching import IndexDataCacheFile

    index = IndexDataCacheFile(cache_path=str(tmp_path), filename_base="kernel", source_stamp=(0.0, 0))
    saved = threading.Event()
    with _cache.file_lock(index._index_path + ".lock"):
        saver = threading.Thread(target=lambda: (index.save(("sig", "cpu"), b"code"), saved.set()))
        saver.start()
        assert not saved.wait(0.5)  # blocked while the lock is held
    assert saved.wait(5)
    saver.join()
    assert index.load(("sig", "cpu")) == b"code"


def test_numba_index_updates_fall_back_to_unlocked_where_the_file_system_has_no_locks(tmp_path, monkeypatch):
    from numba.core.caching import IndexDataCacheFile

    def refuse(handle):
        raise OSError(37, "No locks available")

    monkeypatch.setattr(_cache, "_lock", refuse)
    index = IndexDataCacheFile(cache_path=str(tmp_path), filename_base="kernel", source_stamp=(0.0, 0))
    index.save(("sig", "cpu"), b"code")  # saved as numba would, without the lock
    assert index.load(("sig", "cpu")) == b"code"
    with pytest.raises(_cache.LockUnavailable, match="No locks available"), \
            _cache.file_lock(tmp_path / "other.lock"):
        pass


def test_install_order_is_every_model_slowest_first():
    assert warmup.slowest_first(warmup.WARMABLE) == [
        "HierarchicalNetwork", "CANN2D_SFA", "CANN2D", "CANN1D_SFA", "CANN1D"]
    assert warmup.slowest_first(["CANN1D", "CANN2D", "CANN1D"]) == ["CANN2D", "CANN1D"]
