"""Where numba keeps the compiled kernels: one folder per engine build, in a per-user cache.

numba's ``cache=True`` keys a cached kernel on its own source file only. A kernel that calls a compiled
helper from another file (``_kernels`` calls the read-outs in ``analysis``) would keep running the old
helper after that file changed — an upgrade or an edit silently gives stale results. So the cache lives
in a folder named after a fingerprint of the whole engine's source (or its version when frozen), under:

1. ``$NUMBA_CACHE_DIR`` when set (a packaged app sets it to a per-user folder before start-up);
2. otherwise the platform's per-user cache (``~/.cache/canns-studio/numba`` on Linux), falling back to
   the temporary folder when that is not writable (read-only homes, sandboxes).

It is configured when ``canns_engine`` is imported, before any kernel is defined, and works whether or
not numba was imported earlier (it sets ``numba.core.config.CACHE_DIR`` directly). The CPU the kernels
are compiled for is chosen at the same moment (:mod:`canns_engine._target`).

**Shipped kernels.** An installation may carry compiled kernels in :data:`SHIPPED_DIR` (a bundle's build
puts them there with ``canns-studio warm-up --ship``: one ``engine-<fingerprint>`` folder with the
kernels of every portable CPU level the build machine runs). When this build's cache folder holds no
kernels yet, they are copied into it (file by file, each under a temporary name first, data before the
indexes that point at it), so a first-ever start loads them instead of compiling; numba keys each kernel
on the CPU level, so one that does not match this machine is compiled as before.

Inside that folder the engine's kernels are found by :class:`EngineCacheLocator`: by module
(``canns_engine/_kernels.run-….nbi``), not by the absolute path of the source file as numba's own
locators do. numba's way breaks a frozen bundle, whose code objects carry relative file names that do
not exist on disk: numba then falls back to its user-wide cache, in a folder named after the *current
working directory*, so the app's helper processes (started in the bundle's folder) compiled into one
place and the app (started from wherever it was double-clicked) looked in another, and compiled again.

Several processes may compile into one folder at once (the app's helper processes, ``canns-studio
warm-up --jobs 2``). numba adds a compiled version to a function's index by reading the index, choosing a
free data file and writing both back, unlocked: two processes saving two versions of one function (the
ring's float32 and float64 ``run``) in the same millisecond could pick the same data file, and an index
entry would then point at the other version's machine code. :func:`serialise_index_updates` makes that
read-modify-write hold a lock file.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

# numba's cache internals below exist unchanged in all of the pinned numba 0.61–0.68 (checked)
from numba.core import config as numba_config
from numba.core.caching import CacheImpl, IndexDataCacheFile, _CacheLocator

from . import _target  # noqa: F401  (the CPU to compile for is chosen before any kernel exists)

ENGINE_DIR = Path(__file__).resolve().parent
SHIPPED_DIR = ENGINE_DIR / "compiled"
"""Where an installation carries kernels compiled ahead of time (``engine-<fingerprint>`` folders)."""


def fingerprint() -> str:
    """A short hash of every engine source file (the package version when sources are absent)."""
    digest = hashlib.blake2b(digest_size=6)
    sources = sorted(ENGINE_DIR.rglob("*.py"))
    for path in sources:
        digest.update(path.relative_to(ENGINE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    if not sources:  # frozen bundle: only bytecode ships
        from importlib.metadata import PackageNotFoundError, version

        try:
            digest.update(version("canns-studio").encode())
        except PackageNotFoundError:
            digest.update(b"frozen")
    return digest.hexdigest()


def user_cache_root() -> Path:
    """The platform's per-user cache folder for CANN Studio's compiled kernels."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "canns-studio" / "numba"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


KEEP_BUILDS = 4
"""Engine builds whose kernels stay cached side by side (the most recently used ones): every update or
edit of the engine starts a new folder of 4–20 MB, and without pruning they would pile up forever."""


def engine_module(name: str) -> bool:
    """Whether the module ``name`` is part of this engine (its kernels are cached by the engine's rules)."""
    return name == ENGINE_DIR.name or name.startswith(ENGINE_DIR.name + ".")


def install_locator() -> None:
    """Put :class:`EngineCacheLocator` first in numba's list of cache locators (idempotent)."""
    if EngineCacheLocator not in CacheImpl._locator_classes:
        CacheImpl._locator_classes.insert(0, EngineCacheLocator)


def configure() -> Path:
    """Point numba's cache at ``<root>/engine-<fingerprint>`` and return that folder (marked as just used;
    the folders of all but the :data:`KEEP_BUILDS` most recently used builds are deleted)."""
    root = Path(os.environ["NUMBA_CACHE_DIR"]) if os.environ.get("NUMBA_CACHE_DIR") else user_cache_root()
    folder = root / f"engine-{FINGERPRINT}"
    if not _writable(folder):
        folder = Path(tempfile.gettempdir()) / "canns-studio-numba" / folder.name
        folder.mkdir(parents=True, exist_ok=True)
    prune(folder)
    adopt_shipped(SHIPPED_DIR / folder.name, folder)
    numba_config.CACHE_DIR = str(folder)
    return folder


SHIPPED_SUFFIXES = (".nbc", ".nbi", ".stamp")
"""The files of a cache folder that ship: compiled kernels, their indexes, the stamps of warmed models."""


def _order(path: Path) -> int:
    """Copy order of a cache file: compiled data first, then the indexes pointing at it, stamps last."""
    return {".nbc": 0, ".nbi": 1}.get(path.suffix, 2)


def adopt_shipped(shipped: Path, folder: Path) -> int:
    """Copy the shipped kernels in ``shipped`` into the cache ``folder`` if it holds no kernels yet (a
    first start of this build); return the number of files copied.

    Each file is written under a temporary name and then renamed, data files before the indexes that
    point at them, so another process starting at the same moment never reads half a file or an index
    whose data is missing. Best effort: whatever cannot be copied is compiled as usual.
    """
    import shutil

    try:
        if not shipped.is_dir() or shipped.resolve() == folder.resolve() or any(folder.rglob("*.nbi")):
            return 0
        files = sorted((p for p in shipped.rglob("*") if p.is_file() and p.suffix in SHIPPED_SUFFIXES),
                       key=_order)
    except OSError:
        return 0
    copied = 0
    for source in files:
        target = folder / source.relative_to(shipped)
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, partial)
            os.replace(partial, target)
            copied += 1
        except OSError:
            with suppress(OSError):
                partial.unlink()
    return copied


def prune(current: Path, keep: int = KEEP_BUILDS) -> None:
    """Mark ``current`` as used now and delete the older ``engine-*`` folders beside it beyond ``keep``.

    Best effort: a folder another process is using, or cannot delete, is left (numba recompiles anything
    missing, so deleting a folder never breaks a run).
    """
    import shutil

    try:
        os.utime(current)
        builds = sorted((p for p in current.parent.glob("engine-*") if p.is_dir()),
                        key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in [p for p in builds if p != current][max(0, keep - 1):]:
        shutil.rmtree(old, ignore_errors=True)


class LockUnavailable(OSError):
    """The file system refused a lock (some network file systems do)."""


def _lock(handle) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        for _ in range(6):  # LK_LOCK itself retries for ~10 s before it gives up
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                return
            except OSError as exc:
                error = exc
        raise error
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def _unlock(handle) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def file_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if missing) for the ``with`` block, waiting
    for any other process or thread that holds it; :class:`LockUnavailable` if it cannot be taken."""
    with open(path, "a+b") as handle:
        try:
            _lock(handle)
        except OSError as exc:
            raise LockUnavailable(f"cannot lock {path}: {exc}") from exc
        try:
            yield
        finally:
            _unlock(handle)


def serialise_index_updates() -> None:
    """Make numba's ``IndexDataCacheFile.save`` (read the index, pick a data file, write both) hold the lock
    file ``<index>.lock``, so processes compiling into one cache folder never interleave it (where the
    file system has no locks, it saves unlocked, as numba does). Idempotent."""
    save = IndexDataCacheFile.save
    if getattr(save, "serialised", False):
        return

    def locked_save(self, key, data):
        try:
            with file_lock(self._index_path + ".lock"):
                save(self, key, data)
        except LockUnavailable:
            save(self, key, data)

    locked_save.serialised = True
    IndexDataCacheFile.save = locked_save


class EngineCacheLocator(_CacheLocator):
    """Caches an engine function in ``<CACHE_DIR>/<its package path>`` (for instance
    ``engine-<fingerprint>/canns_engine/hierarchical``), wherever the engine is installed and whatever the
    working folder, with the engine's fingerprint as its source stamp. Declines (numba's own locators then
    apply) for functions outside the engine.

    It reads this module's :data:`CACHE_DIR`, not numba's setting: numba re-reads its settings from the
    environment before every compilation once a ``NUMBA_*`` variable changed, which would put a module
    imported later (path integration) outside the engine's folder."""

    def __init__(self, py_func, py_file):
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(CACHE_DIR, *py_func.__module__.split(".")[:-1])

    def get_cache_path(self):
        return self._cache_path

    def get_source_stamp(self):
        return FINGERPRINT

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        if not engine_module(py_func.__module__):
            return None
        locator = cls(py_func, py_file)
        try:
            locator.ensure_cache_path()
        except OSError:
            return None
        return locator


FINGERPRINT = fingerprint()
CACHE_DIR = configure()
install_locator()
serialise_index_updates()
