"""The engine stays Qt-free: importing it (and running a step) loads no GUI package."""

import subprocess
import sys

GUI = {"PySide6", "shiboken6", "qtpy", "pyqtgraph", "superqt", "qdarktheme", "matplotlib", "app"}


def test_engine_import_loads_no_gui_packages():
    code = (
        "import sys, canns_engine\n"
        "m = canns_engine.CANN1D(16)\n"
        "canns_engine.Simulation(m, None).step(2)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {sorted(GUI)!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"canns_engine imported GUI modules: {out.stdout}"
