"""docs/screenshots.py (it retakes the user guide's screenshots) names presets and images that exist."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "docs" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_every_shot_has_its_preset_and_is_shown_in_the_user_guide():
    script = _script()
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    for shot in script.SHOTS:
        assert (script.PRESETS / shot.preset).is_file(), shot.preset
        assert (script.IMAGES / shot.name).is_file(), shot.name
        assert f"images/{shot.name}" in guide, shot.name


def test_an_unknown_shot_is_refused_with_the_known_ones(capsys):
    assert _script().main(["nope.png"]) == 1
    err = capsys.readouterr().err
    assert "unknown screenshot(s): nope.png" in err and "main-window-dark.png" in err
