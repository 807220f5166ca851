"""The live "Path integration" experiment (issue 7): the hierarchical band → grid → place network of
``canns_engine.hierarchical``, its own views and closed-loop driving with the mouse or the arrow keys.

* :mod:`.worker` — the generator a pool thread runs: paced chunks of ``NavigationSimulation.frames``.
* :mod:`.controller` — :class:`NavigationController`: start/pause/step/reset, velocity inbox, 60 Hz draw.
* :mod:`.base`, :mod:`.arena`, :mod:`.module`, :mod:`.error` — the views.
* :mod:`.panel` — :class:`NavigationPanel`: the views, a toolbar and keyboard driving.
* :mod:`.open` — :func:`open_navigation_experiment`, :func:`close_navigation_experiment`.
* :mod:`.manifest` — :func:`is_navigation_manifest` (cheap: the main window imports it at start-up).

The names below load on first use (PEP 562): importing a sub-module must not pull in the hierarchical
engine and every view, which the main window only needs once a path-integration experiment opens.
"""

from importlib import import_module

_EXPORTS = {
    "NavigationController": ".controller",
    "NavigationPanel": ".panel",
    "close_navigation_experiment": ".open",
    "is_navigation_manifest": ".manifest",
    "open_navigation_experiment": ".open",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name], __name__), name)
