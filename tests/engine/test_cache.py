"""numba's kernel cache is keyed on the whole engine source, so an edited helper is never stale."""

import os
import subprocess
import sys

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
