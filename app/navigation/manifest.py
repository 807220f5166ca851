"""Which manifests are path-integration experiments — a check cheap enough for the main window to import
at start-up (the rest of :mod:`app.navigation` loads the hierarchical engine and its views, on first use)."""

from __future__ import annotations

from typing import Any

MODEL_TYPE = "HierarchicalNetwork"
"""The manifest ``model.type`` of a path-integration experiment."""


def is_navigation_manifest(manifest: dict[str, Any]) -> bool:
    """Whether ``manifest`` (a parsed preset or session) is a path-integration experiment."""
    model = manifest.get("model") if isinstance(manifest, dict) else None
    return isinstance(model, dict) and model.get("type") == MODEL_TYPE
