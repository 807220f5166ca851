"""Kernels compiled for a portable CPU level, so an installation can ship them and a first start loads them.

numba files a cached kernel under the CPU it was compiled for. The engine compiles for an x86-64 level
(``x86-64-v4``/``v3``) instead of this machine's model, so kernels compiled on one machine serve all of
that level; an installation's folder of shipped kernels is copied into a fresh per-user cache.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from canns_engine import _cache, _target, warmup
from canns_engine.cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]
V3 = _target.LEVELS["x86-64-v3"]
LEVEL = (_target.runnable_levels(_target.host_features()) or [None])[0] if _target.is_x86_64() else None
needs_level = pytest.mark.skipif(LEVEL is None, reason="this CPU runs no portable x86-64 level")

REPORT = """
import json, os, sys
{before}
import canns_engine.analysis as a
from canns_engine import _cache, _target
from numba.core.registry import cpu_target
a.wrap_scalar(7.0, 6.0)
print(json.dumps({{"target": _target.TARGET, "magic": list(cpu_target.target_context.codegen().magic_tuple()),
                  "hits": sum(a.wrap_scalar.stats.cache_hits.values()), "folder": str(_cache.CACHE_DIR)}}))
"""


def _report(env_extra: dict, before: str = "", cwd: Path = REPO, path: Path = REPO) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")}
    env.update(env_extra, PYTHONPATH=str(path))
    out = subprocess.run([sys.executable, "-c", REPORT.format(before=before)], cwd=cwd, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_best_level_a_cpu_runs_is_chosen_from_its_features():
    assert _target.runnable_levels(V3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}) == [
        "x86-64-v4", "x86-64-v3"]
    assert _target.runnable_levels(V3 | {"avx512f"}) == ["x86-64-v3"]  # AVX-512 without BW/VL: not v4
    assert _target.runnable_levels(V3 - {"fma"}) == []  # AVX2 without FMA: no level, numba's default


@needs_level
def test_a_fresh_process_compiles_for_the_level_with_its_own_features(tmp_path):
    """The cache key numba files kernels under holds the level and no host feature list, so it is the
    same on every machine of the level."""
    report = _report({"NUMBA_CACHE_DIR": str(tmp_path)})
    assert report["target"] == LEVEL
    assert report["magic"][1:] == [LEVEL, ""]


@needs_level
def test_numba_code_compiled_before_the_engine_keeps_this_machines_cpu(tmp_path):
    """numba's target machine exists once anything was compiled; changing its CPU name then would file
    kernels under a name that is not what they were compiled for."""
    report = _report({"NUMBA_CACHE_DIR": str(tmp_path)},
                     before="import numba\nnumba.njit(lambda x: x + 1)(1)")
    assert report["target"] == _target.HOST
    assert report["magic"][1] == _target.HOST


def test_a_cpu_named_by_the_user_is_respected(tmp_path):
    report = _report({"NUMBA_CACHE_DIR": str(tmp_path), "NUMBA_CPU_NAME": "x86-64-v2",
                      "NUMBA_CPU_FEATURES": ""})
    assert report["target"] == "x86-64-v2" and report["magic"][1] == "x86-64-v2"


def _installed_copy(tmp_path: Path) -> Path:
    """A copy of the engine package, as an installation would have it (its own folder of shipped kernels)."""
    site = tmp_path / "site"
    shutil.copytree(REPO / "canns_engine", site / "canns_engine",
                    ignore=shutil.ignore_patterns("__pycache__", "compiled"))
    return site


@needs_level
def test_a_first_start_loads_the_shipped_kernels_instead_of_compiling(tmp_path):
    site = _installed_copy(tmp_path)
    shipped = site / "canns_engine" / "compiled"
    built = _report({"NUMBA_CACHE_DIR": str(shipped)}, cwd=tmp_path, path=site)  # what a build ships
    assert built["hits"] == 0 and Path(built["folder"]).parent == shipped
    user = tmp_path / "user-cache"
    first = _report({"NUMBA_CACHE_DIR": str(user)}, cwd=tmp_path, path=site)
    assert first["hits"] == 1  # loaded, not compiled
    assert Path(first["folder"]).name == Path(built["folder"]).name  # the same engine build
    assert not list(user.rglob("*.partial"))
    # a machine of another level finds the shipped files but compiles its own kernel (and still runs)
    other = _report({"NUMBA_CACHE_DIR": str(tmp_path / "v2-cache"), "NUMBA_CPU_NAME": "x86-64-v2",
                     "NUMBA_CPU_FEATURES": ""}, cwd=tmp_path, path=site)
    assert other["hits"] == 0


def _fake_build(folder: Path) -> None:
    (folder / "canns_engine").mkdir(parents=True)
    for name in ("_kernels.run-1.py311.nbi", "_kernels.run-1.py311.1.nbc", "x.nbi.lock"):
        (folder / "canns_engine" / name).write_text(name)
    (folder / "warm-CANN1D.stamp").write_text("")
    (folder / "warm-CANN1D.log").write_text("messages")


def test_shipped_files_are_copied_data_first_and_only_into_a_cache_without_kernels(tmp_path, monkeypatch):
    shipped, folder = tmp_path / "shipped" / "engine-x", tmp_path / "user" / "engine-x"
    _fake_build(shipped)
    folder.mkdir(parents=True)
    order = []
    real_replace = os.replace
    monkeypatch.setattr(_cache.os, "replace", lambda a, b: (order.append(Path(b).name), real_replace(a, b)))
    assert _cache.adopt_shipped(shipped, folder) == 3
    assert order == ["_kernels.run-1.py311.1.nbc", "_kernels.run-1.py311.nbi", "warm-CANN1D.stamp"]
    assert not (folder / "warm-CANN1D.log").exists() and not list(folder.rglob("*.lock"))
    (shipped / "canns_engine" / "_kernels.run-1.py311.nbi").write_text("newer")
    assert _cache.adopt_shipped(shipped, folder) == 0  # the cache has kernels: left alone
    assert (folder / "canns_engine" / "_kernels.run-1.py311.nbi").read_text() == "_kernels.run-1.py311.nbi"
    assert _cache.adopt_shipped(shipped, shipped) == 0  # building the shipped kernels themselves
    assert _cache.adopt_shipped(tmp_path / "missing", tmp_path / "fresh") == 0


def test_a_file_that_cannot_be_copied_is_skipped_without_leaving_half_of_it(tmp_path, monkeypatch):
    shipped, folder = tmp_path / "shipped", tmp_path / "user"
    _fake_build(shipped)
    real_copy = shutil.copyfile

    def failing_copy(source, target):
        if str(source).endswith(".nbc"):
            Path(target).write_text("half")
            raise OSError("disk full")
        return real_copy(source, target)

    monkeypatch.setattr(shutil, "copyfile", failing_copy)
    assert _cache.adopt_shipped(shipped, folder) == 2
    assert not list(folder.rglob("*.nbc")) and not list(folder.rglob("*.partial"))


def test_stamps_name_the_cpu_compiled_for(monkeypatch, tmp_path):
    """A folder of shipped kernels holds several levels: a model stamped for one is not cached for another."""
    monkeypatch.setattr(_cache, "CACHE_DIR", tmp_path)
    assert warmup._stamp("CANN1D").name.endswith(f"-{_target.TARGET}.stamp")


def test_ship_refuses_a_cpu_without_a_portable_level(monkeypatch, capsys):
    monkeypatch.setattr(_target, "is_x86_64", lambda: False)
    assert cli_main(["warm-up", "CANN1D", "--ship"]) == 1
    assert "x86-64-v3" in capsys.readouterr().err


@needs_level
def test_ship_refuses_a_read_only_folder_naming_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(_cache, "SHIPPED_DIR", tmp_path / "shipped")
    monkeypatch.setattr(_cache, "_writable", lambda folder: False)
    assert cli_main(["warm-up", "CANN1D", "--ship"]) == 1
    err = capsys.readouterr().err
    assert "not writable" in err and str(tmp_path / "shipped") in err
