"""numba's kernel cache is keyed on the whole engine source, so an edited helper is never stale."""

import os
import subprocess
import sys

import numpy as np
import pytest

from canns_engine import _cache


def test_fingerprint_changes_when_any_engine_source_changes(tmp_path, monkeypatch):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(f"# {name}\n")
    monkeypatch.setattr(_cache, "ENGINE_DIR", tmp_path)
    before = _cache.fingerprint()
    assert _cache.fingerprint() == before
    (tmp_path / "b.py").write_text("# b.py, edited\n")
    assert _cache.fingerprint() != before


def test_cache_goes_under_numba_cache_dir_or_falls_back_to_temp(tmp_path):
    code = "import canns_engine, numba.core.config as c; print(c.CACHE_DIR)"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    folder = out.stdout.strip()
    assert folder.startswith(str(tmp_path / "cache")) and "engine-" in folder
    readonly = tmp_path / "readonly"
    readonly.mkdir(mode=0o500)
    env["NUMBA_CACHE_DIR"] = str(readonly / "sub")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    if os.geteuid() != 0:  # root can write anywhere; the fallback is then not needed
        assert "canns-studio-numba" in out.stdout


def test_only_the_most_recently_used_engine_builds_stay_cached(tmp_path):
    """Each engine build gets its own folder; the oldest beyond KEEP_BUILDS are deleted, the one in use
    never (and it counts as used now)."""
    old = []
    for i in range(6):
        folder = tmp_path / f"engine-old{i}"
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "kernel.nbi").write_text("x")
        os.utime(folder, (1000.0 + i, 1000.0 + i))  # old0 is the least recently used
        old.append(folder)
    other = tmp_path / "not-an-engine-build"
    other.mkdir()
    current = tmp_path / "engine-current"
    current.mkdir()
    os.utime(current, (1.0, 1.0))  # older than all: still kept, and marked as used now
    _cache.prune(current, keep=3)
    assert current.is_dir() and current.stat().st_mtime > 2000
    assert [f.name for f in old if f.is_dir()] == ["engine-old4", "engine-old5"]
    assert other.is_dir()


def test_kernels_are_found_by_module_whatever_the_working_folder(tmp_path):
    """numba's own locators file a kernel under the absolute path of its source, which a frozen bundle's
    relative file names resolve against the working folder: helpers and app then missed each other's
    kernels. The engine's locator files them by module, so a process started elsewhere finds them."""
    code = ("import os, canns_engine.analysis as a; a.wrap_scalar(7.0, 6.0); "
            "print(a.wrap_scalar.stats.cache_path); print(sum(a.wrap_scalar.stats.cache_hits.values()))")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    reports = []
    for cwd in ("first", "second"):
        (tmp_path / cwd).mkdir()
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / cwd, env=env, capture_output=True,
                             text=True, check=True)
        reports.append(out.stdout.split())
    folder = tmp_path / "cache" / f"engine-{_cache.FINGERPRINT}" / "canns_engine"
    assert reports[0] == [str(folder), "0"]  # compiled, and filed by module
    assert reports[1] == [str(folder), "1"]  # loaded from there by a process started elsewhere
    assert len(list(folder.glob("analysis.wrap_scalar-*.nbi"))) == 1


def test_a_module_imported_after_numba_reread_its_settings_is_still_cached_in_the_engine_folder(tmp_path):
    """numba re-reads ``NUMBA_*`` before each compilation once one changed (the app sets
    ``NUMBA_CACHE_DIR`` itself); path integration, imported later, must still go to the engine's folder."""
    code = ("import os, canns_engine, canns_engine.analysis as a, numba.core.config as c; "
            f"os.environ['NUMBA_CACHE_DIR'] = {str(tmp_path / 'elsewhere')!r}; a.wrap_scalar(7.0, 6.0); "
            "from canns_engine.hierarchical import _motion; "
            "print(c.CACHE_DIR); print(_motion._ou.stats.cache_path); print(canns_engine._cache.CACHE_DIR)")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    numba_setting, motion_folder, engine_folder = out.stdout.split()
    assert numba_setting == str(tmp_path / "elsewhere")  # numba did re-read it
    assert motion_folder == os.path.join(engine_folder, "canns_engine", "hierarchical")
    assert engine_folder.startswith(str(tmp_path / "cache"))


class _FakeMsvcrt:
    """Windows' ``msvcrt.locking`` as far as ``_cache`` relies on it: ``LK_LOCK`` locks bytes from the
    file's current position and raises ``OSError`` when it cannot get them (Windows retries for ~10 s
    first); ``LK_UNLCK`` releases them."""

    LK_LOCK, LK_UNLCK = 1, 0

    def __init__(self, refusals: int = 0):
        self.refusals = refusals  # how many LK_LOCK calls fail before one succeeds
        self.calls = []

    def locking(self, fd, mode, nbytes):
        self.calls.append((mode, os.lseek(fd, 0, os.SEEK_CUR), nbytes))
        if mode == self.LK_LOCK and self.refusals > 0:
            self.refusals -= 1
            raise OSError(36, "Resource deadlock avoided")


def _as_windows(monkeypatch, fake):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "msvcrt", fake)


def test_on_windows_the_lock_is_byte_0_whatever_the_append_position(tmp_path, monkeypatch):
    lock = tmp_path / "index.lock"
    lock.write_bytes(b"left by an earlier run")  # append mode opens at the end: the lock must not
    fake = _FakeMsvcrt()
    _as_windows(monkeypatch, fake)
    with _cache.file_lock(lock):
        assert fake.calls == [(fake.LK_LOCK, 0, 1)]
    assert fake.calls[1:] == [(fake.LK_UNLCK, 0, 1)]


def test_on_windows_a_busy_lock_is_retried_then_reported_with_its_file(tmp_path, monkeypatch):
    fake = _FakeMsvcrt(refusals=5)  # still busy after five of LK_LOCK's own ~10 s waits
    _as_windows(monkeypatch, fake)
    with _cache.file_lock(tmp_path / "a.lock"):
        pass
    assert [mode for mode, _, _ in fake.calls] == [fake.LK_LOCK] * 6 + [fake.LK_UNLCK]
    fake = _FakeMsvcrt(refusals=6)
    _as_windows(monkeypatch, fake)
    with pytest.raises(_cache.LockUnavailable, match=r"cannot lock .*b\.lock: .*deadlock"), \
            _cache.file_lock(tmp_path / "b.lock"):
        raise AssertionError("entered without the lock")
    assert [mode for mode, _, _ in fake.calls] == [fake.LK_LOCK] * 6  # never unlocked what it never held


def test_a_run_does_not_depend_on_what_compiled_first(tmp_path):
    """A read-out called both from Python (a snapshot) and from the compiled step loop is compiled by
    whichever comes first in a process; with flags of its own it then recorded a different last bit from
    process to process, so a session replayed elsewhere did not match its recording. Two fresh caches,
    the two orders, identical recordings."""
    code = ("import sys, numpy as np, canns_engine as ce\n"
            "m = ce.CANN1D(64)\n"
            "task = ce.SmoothTracking1D(m, Iext=(0.0, 2.0), duration=(2.0,), time_step=0.05)\n"
            "sim = ce.Simulation(m, task)\n"
            "if sys.argv[1] == 'snapshot':\n"
            "    sim.snapshot()\n"
            "sim.step(40)\n"
            "np.savez(sys.argv[2], **sim.recording.to_dict())\n")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    runs = []
    for first in ("snapshot", "loop"):
        env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / first),
               "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
        subprocess.run([sys.executable, "-c", code, first, str(tmp_path / f"{first}.npz")], env=env,
                       capture_output=True, text=True, check=True)
        runs.append(dict(np.load(tmp_path / f"{first}.npz")))
    assert runs[0]["u"].shape == (40, 64) and np.abs(runs[0]["u"]).max() > 0.1
    for key, value in runs[0].items():
        np.testing.assert_array_equal(runs[1][key], value, err_msg=key)
