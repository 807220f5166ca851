"""Build the PyInstaller bundle and check that the built executable really works (``make bundle-check``).

::

    python packaging/smoke_test.py [--skip-build] [--no-x11] [--shots DIR]

Checks, in order (each prints one line; the exit code is 1 if any failed):

1. **build** ``dist/canns-studio`` from ``packaging/canns-studio.spec`` and compile the kernels it ships
   (``warm-up --ship``, as ``make bundle`` does; both skipped with ``--skip-build``), and report its size
   and the ten biggest parts;
2. **--version** prints the installed version without a display;
3. **read-only, first start**: the bundle is copied to a folder nobody may write to, and run as an
   unprivileged user with a fresh, empty home (so numba's cache is cold): ``run`` a bundled preset
   headless for a few hundred steps, export a CSV and a session (``.canns``), and check the CSV's
   columns, row count and numbers; nothing may be written inside the bundle; the shipped kernels must
   have been loaded (their indexes unchanged in the per-user cache) rather than compiled again;
4. **warm start**: the same run again (numba's cache now warm), timed; a short movie (PyAV in the bundle);
5. **GUI offscreen**: the app opens the saved session with ``QT_QPA_PLATFORM=offscreen`` and reports its
   first window (``CANNS_STUDIO_EXIT_AFTER_SHOWN``), which also lands in the per-user log file;
6. **GUI under Xvfb** (a real X server): the desktop entry is installed into the fresh home, the
   session is opened the way a file manager does on double-click (the entry's ``Exec`` with ``%f``),
   the window is waited for with ``xdotool`` and a screenshot is saved (``bundle_xvfb.png``).
   Xvfb, xdotool and ImageMagick are installed with apt-get when missing and we are root.

The timings are wall-clock seconds on this machine; packaging/README.md records the measured ones.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "packaging" / "canns-studio.spec"
BUNDLE = REPO / "dist" / "canns-studio"
EXE_NAME = "canns-studio"
STEPS = 300
CSV_COLUMNS = ("step", "t", "stim_pos", "decoded_pos")
TIMING_PREFIX = "canns-studio: first window shown after"  # app.startup.TIMING_PREFIX
READY_PREFIX = "canns-studio: experiment ready after"  # app.startup.READY_PREFIX
WINDOW_TITLE = "CANN Studio"
X11_PACKAGES = ["xvfb", "xauth", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0", "x11-utils",
                "imagemagick", "xdotool"]
UNPRIVILEGED = "nobody"
LINGER = "15"
"""Seconds the GUI stays open after its first window: long enough for the kernels' warm-up to finish
(numba's cache is warm by then), as closing the window is only checked from a settled app."""


class CheckFailed(Exception):
    """One check went wrong; the message says what was expected and what happened."""


def run(cmd: list[str], *, timeout: float, env: dict[str, str] | None = None, cwd: Path | None = None,
        user: str | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``cmd`` (as ``user`` when given and we are root); return the result and its wall time."""
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user_group(user)}", "--clear-groups", *cmd]
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(f"{shlex.join(cmd)} did not finish within {timeout:.0f} s") from exc
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise CheckFailed(f"{shlex.join(cmd)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")
    return done, seconds


def user_group(user: str) -> int:
    """The primary group id of ``user``."""
    import pwd

    return pwd.getpwnam(user).pw_gid


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A minimal environment: a given home and XDG folders in it, no display, no inherited Qt/numba."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "XDG_CACHE_HOME": str(home / ".cache"), "XDG_STATE_HOME": str(home / ".local" / "state"),
           "XDG_DATA_HOME": str(home / ".local" / "share"), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_RUNTIME_DIR": str(home / "runtime")}
    env.update(extra)
    return env


# --- the checks -------------------------------------------------------------------------------------------

def build() -> str:
    _, seconds = run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                      str(SPEC)], timeout=1800, cwd=REPO)
    return f"built {BUNDLE.relative_to(REPO)} in {seconds:.0f} s"


def kernel_indexes(builds: list[Path]) -> dict[str, bytes]:
    """numba's kernel indexes in engine build folders (``engine-<fingerprint>``), by path inside them."""
    return {str(index.relative_to(build)): index.read_bytes()
            for build in builds for index in build.rglob("*.nbi")}


def shipped_indexes(bundle: Path) -> dict[str, bytes]:
    """The kernel indexes the bundle ships (in its engine's ``compiled`` folder)."""
    return kernel_indexes(list(bundle.glob("**/canns_engine/compiled/engine-*")))


def ship_kernels() -> str:
    """What ``make bundle`` ends with: the kernels compiled into the bundle for each portable CPU level."""
    _, seconds = run([str(BUNDLE / EXE_NAME), "warm-up", "--ship", "--jobs", "2"], timeout=1800, cwd=REPO)
    indexes = shipped_indexes(BUNDLE)
    if not indexes:
        raise CheckFailed("`warm-up --ship` left no compiled kernels in the bundle")
    return f"compiled the kernels the bundle ships ({len(indexes)} indexes) in {seconds:.0f} s"


def tree_size(path: Path) -> int:
    """Bytes of all files below ``path`` (symlinks not followed)."""
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def size_report(bundle: Path) -> str:
    """Total size and the ten biggest top-level parts of ``_internal`` (packages and libraries)."""
    internal = bundle / "_internal"
    parts = {p.name: tree_size(p) for p in internal.iterdir()}
    parts[EXE_NAME] = tree_size(bundle / EXE_NAME)
    top = sorted(parts.items(), key=lambda kv: -kv[1])[:10]
    lines = [f"bundle size {tree_size(bundle) / 2**20:.0f} MiB; biggest parts:"]
    lines += [f"    {size / 2**20:7.1f} MiB  {name}" for name, size in top]
    return "\n".join(lines)


def check_version(exe: Path, home: Path, user: str | None) -> str:
    from importlib.metadata import version

    done, seconds = run([str(exe), "--version"], timeout=60, env=clean_env(home), user=user)
    expected = f"canns-studio {version('canns-studio')}"
    if done.stdout.strip() != expected:
        raise CheckFailed(f"--version printed {done.stdout.strip()!r}, expected {expected!r}")
    return f"--version: {expected!r} in {seconds:.2f} s (no display)"


def make_read_only_copy(workdir: Path) -> Path:
    """Copy the bundle into ``workdir/ro/`` and take away every write permission."""
    target = workdir / "ro" / "canns-studio"
    shutil.copytree(BUNDLE, target, symlinks=True)
    for path in [target, *target.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    (workdir / "ro").chmod(0o555)
    return target


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``folder`` with its size and mtime: proof that a run wrote nothing there."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in folder.rglob("*")}


def bundled_preset(bundle: Path) -> Path:
    presets = bundle / "_internal" / "resources" / "presets"
    preferred = presets / "smooth_tracking.json"
    found = [preferred] if preferred.is_file() else sorted(presets.glob("*.json"))
    if not found:
        raise CheckFailed(f"no preset in the bundle ({presets}): resources/ was not bundled")
    return found[0]


def check_csv(path: Path, steps: int) -> str:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise CheckFailed(f"{path.name}: columns {missing} missing from {header}")
    if len(body) != steps:
        raise CheckFailed(f"{path.name}: {len(body)} rows, expected {steps}")
    values = [[float(x) for x in row] for row in body]
    if not all(math.isfinite(v) for row in values for v in row):
        raise CheckFailed(f"{path.name}: non-finite numbers")
    steps_col = [row[header.index("step")] for row in values]
    if steps_col != list(range(len(body))):
        raise CheckFailed(f"{path.name}: the step column is not 0, 1, 2, …")
    return f"{len(body)} rows × {len(header)} columns, all finite"


def headless_run(exe: Path, preset: Path, out: Path, home: Path, user: str | None, label: str) -> str:
    out.mkdir(parents=True, exist_ok=True)
    if user:
        shutil.chown(out, user=user)
    env = clean_env(home, QT_QPA_PLATFORM="offscreen")
    csv_path, session = out / "run.csv", out / "run.canns"
    _, seconds = run([str(exe), "run", str(preset), "--steps", str(STEPS), "--csv", str(csv_path),
                      "--out", str(session), "--quiet"], timeout=600, env=env, user=user)
    csv_text = check_csv(csv_path, STEPS)
    info, _ = run([str(exe), "info", str(session)], timeout=120, env=env, user=user)
    if not info.stdout.strip():
        raise CheckFailed(f"`info {session.name}` printed nothing")
    return f"{label}: run {STEPS} steps + CSV + session in {seconds:.1f} s; CSV {csv_text}; info ok"


def numba_cache(home: Path, bundle: Path) -> str:
    """Kernels in the per-user cache after the first run; those the bundle ships must have been loaded:
    their indexes still byte-identical to the shipped ones (numba rewrites an index when it compiles)."""
    folder = home / ".cache" / "canns-studio" / "numba"
    mine = kernel_indexes(list(folder.glob("engine-*")))
    if not mine:
        raise CheckFailed(f"no compiled kernels in the per-user cache {folder}")
    shipped = shipped_indexes(bundle)
    if not shipped:
        return f"numba cache: {len(mine)} kernels in {folder} (compiled: the bundle ships none)"
    kept = [name for name, data in shipped.items() if mine.get(name) == data]
    if not kept:
        raise CheckFailed(f"none of the {len(shipped)} shipped kernel indexes was used: all recompiled")
    return (f"numba cache: {len(mine)} kernels in {folder}; {len(kept)} of the {len(shipped)} shipped "
            f"indexes loaded unchanged")


def movie(exe: Path, preset: Path, out: Path, home: Path, user: str | None) -> str:
    target = out / "run.mp4"
    _, seconds = run([str(exe), "run", str(preset), "--steps", "60", "--movie", str(target), "--size",
                      "320x240", "--quiet"], timeout=300, env=clean_env(home, QT_QPA_PLATFORM="offscreen"),
                     user=user)
    size = target.stat().st_size if target.is_file() else 0
    if size < 1000:
        raise CheckFailed(f"the movie {target} is missing or empty ({size} bytes)")
    return f"movie: 60 frames to MP4 ({size / 1024:.0f} KiB) in {seconds:.1f} s"


def reported_seconds(stdout: str, prefix: str, what: str) -> float:
    for line in stdout.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix):].split()[0])
    raise CheckFailed(f"the app never reported {what}; stdout was:\n{stdout}")


def gui_offscreen(exe: Path, session: Path, home: Path, user: str | None) -> str:
    env = clean_env(home, QT_QPA_PLATFORM="offscreen", CANNS_STUDIO_EXIT_AFTER_SHOWN=LINGER)
    done, wall = run([str(exe), str(session)], timeout=300, env=env, user=user)
    shown = reported_seconds(done.stdout, TIMING_PREFIX, "its first window")
    ready = reported_seconds(done.stdout, READY_PREFIX, "its experiment as open")
    log = home / ".local" / "state" / "canns-studio" / "log" / "canns-studio.log"
    if "first window shown" not in (log.read_text() if log.is_file() else ""):
        raise CheckFailed(f"the per-user log {log} is missing or lacks the start-up line")
    return (f"GUI offscreen: first window {shown:.2f} s after start, experiment open at {ready:.2f} s "
            f"(process {wall:.1f} s), log at {log}")


def ensure_x11_tools() -> None:
    needed = {"Xvfb": "xvfb", "xdotool": "xdotool", "import": "imagemagick", "xauth": "xauth"}
    if all(shutil.which(tool) for tool in needed):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        missing = [pkg for tool, pkg in needed.items() if not shutil.which(tool)]
        raise CheckFailed(f"Xvfb check needs: apt-get install {' '.join(missing)} (or run with --no-x11)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *X11_PACKAGES], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """A private Xvfb on a free display number; returns it and its DISPLAY."""
    for number in range(90, 140):
        if Path(f"/tmp/.X{number}-lock").exists():
            continue
        server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            time.sleep(0.1)
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                return server, f":{number}"
            if server.poll() is not None:
                break
        server.kill()
    raise CheckFailed("could not start Xvfb")


def installed_exec(home: Path, exe: Path, user: str | None) -> list[str]:
    """Install the desktop entry into ``home``; return its Exec command (``%f`` still in place)."""
    env = clean_env(home)
    run(["bash", str(exe.parent / "linux" / "install-desktop.sh"), "--exec", str(exe)], timeout=120,
        env=env, user=user)
    entry = home / ".local" / "share" / "applications" / "canns-studio.desktop"
    line = next(x for x in entry.read_text().splitlines() if x.startswith("Exec="))
    return shlex.split(line.removeprefix("Exec="))


def gui_xvfb(exe: Path, session: Path, home: Path, user: str | None, shots: Path) -> str:
    ensure_x11_tools()
    command = [str(session) if arg == "%f" else arg for arg in installed_exec(home, exe, user)]
    server, display = start_xvfb()
    try:
        env = clean_env(home, DISPLAY=display, QT_QPA_PLATFORM="xcb", CANNS_STUDIO_EXIT_AFTER_SHOWN=LINGER)
        if user:
            command = ["setpriv", f"--reuid={user}", f"--regid={user_group(user)}", "--clear-groups",
                       *command]
        start = time.perf_counter()
        app = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        x_env = {"DISPLAY": display, "PATH": "/usr/bin:/bin"}
        try:
            found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", WINDOW_TITLE],
                                   env=x_env, capture_output=True, text=True, timeout=240, check=True)
            mapped = time.perf_counter() - start
            titles = window_titles(x_env, found.stdout.split())
            time.sleep(2.0)  # let the first frames draw before the screenshot
            shots.mkdir(parents=True, exist_ok=True)
            shot = shots / "bundle_xvfb.png"
            subprocess.run(["import", "-display", display, "-window", "root", str(shot)], check=True,
                           timeout=60)
            if any("unexpected error" in t for t in titles):
                raise CheckFailed(f"the app showed its crash dialog (screenshot {shot}); log in {home}")
            try:
                stdout, stderr = app.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                raise CheckFailed("the app did not exit after closing its window; windows open: "
                                  f"{window_titles(x_env)}") from None
        except CheckFailed:
            app.kill()
            app.communicate()
            raise
        except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as exc:
            app.kill()
            stdout, stderr = app.communicate()
            raise CheckFailed(f"no '{WINDOW_TITLE}' window appeared under Xvfb:\n{stdout}{stderr}") from exc
        if app.returncode != 0:
            raise CheckFailed(f"the app exited with {app.returncode} under Xvfb:\n{stdout}{stderr}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    shown = reported_seconds(stdout, TIMING_PREFIX, "its first window")
    colours = count_colours(shot)
    if colours < 16:
        raise CheckFailed(f"the screenshot {shot} looks blank ({colours} colours)")
    return (f"GUI under Xvfb, opened like a double-click on {session.name}: window mapped after "
            f"{mapped:.2f} s (app's own count {shown:.2f} s); screenshot {shot} ({colours} colours)")


def window_titles(x_env: dict[str, str], ids: list[str] | None = None) -> list[str]:
    """Titles of the given X windows (default: every window with a title)."""
    if ids is None:
        ids = subprocess.run(["xdotool", "search", "--name", "."], env=x_env, capture_output=True, text=True,
                             timeout=30).stdout.split()
    return [subprocess.run(["xdotool", "getwindowname", wid], env=x_env, capture_output=True, text=True,
                           timeout=30).stdout.strip() for wid in ids]


def count_colours(png: Path) -> int:
    from PIL import Image

    with Image.open(png) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])


# --- driver -----------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-build", action="store_true", help="check the existing dist/canns-studio")
    parser.add_argument("--no-x11", action="store_true", help="skip the Xvfb check")
    parser.add_argument("--shots", type=Path, default=Path("/tmp/shots"), help="screenshot folder")
    args = parser.parse_args(argv)

    user = UNPRIVILEGED if os.geteuid() == 0 else None  # root ignores read-only permissions
    failures = 0

    def check(name: str, fn: Callable[[], str]) -> bool:
        nonlocal failures
        try:
            print(f"ok    {fn()}", flush=True)
            return True
        except (CheckFailed, OSError, subprocess.SubprocessError, StopIteration, ValueError) as exc:
            failures += 1
            print(f"FAIL  {name}: {exc}", flush=True)
            return False

    if not args.skip_build and not (check("build", build) and check("shipped kernels", ship_kernels)):
        return 1
    exe = BUNDLE / EXE_NAME
    if not exe.is_file():
        print(f"FAIL  no bundle at {BUNDLE}: run without --skip-build (or make bundle)")
        return 1
    print(size_report(BUNDLE), flush=True)

    with tempfile.TemporaryDirectory(prefix="canns-bundle-check-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        home, out = work / "home", work / "out"
        home.mkdir()
        if user:
            shutil.chown(home, user=user, group=user_group(user))
        check("--version", lambda: check_version(exe, home, user))
        ro_exe = make_read_only_copy(work) / EXE_NAME
        before = snapshot(ro_exe.parent)
        preset = bundled_preset(ro_exe.parent)
        if check("cold run", lambda: headless_run(ro_exe, preset, out / "cold", home, user,
                                                  "read-only bundle, empty home (cold numba cache)")):
            check("numba cache", lambda: numba_cache(home, ro_exe.parent))
            check("warm run", lambda: headless_run(ro_exe, preset, out / "warm", home, user,
                                                   "warm numba cache"))
            check("movie", lambda: movie(ro_exe, preset, out / "warm", home, user))
            session = out / "warm" / "run.canns"
            check("gui offscreen", lambda: gui_offscreen(ro_exe, session, home, user))
            if not args.no_x11:
                check("gui xvfb", lambda: gui_xvfb(ro_exe, session, home, user, args.shots))
        changed = sorted(set(snapshot(ro_exe.parent).items()) ^ set(before.items()))
        print(f"{'ok   ' if not changed else 'FAIL '} nothing written inside the read-only bundle"
              + (f": {changed[:5]}" if changed else ""))
        failures += bool(changed)
        (work / "ro").chmod(0o755)  # let TemporaryDirectory clean up
        for path in (work / "ro").rglob("*"):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
    print(f"{'all checks passed' if not failures else f'{failures} check(s) failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
