"""The live "Path integration" experiment (issue 7): the hierarchical band → grid → place network of
``canns_engine.hierarchical``, its own views and closed-loop driving with the mouse or the arrow keys.

* :mod:`.worker` — the generator a pool thread runs: paced chunks of ``NavigationSimulation.frames``.
* :mod:`.controller` — :class:`NavigationController`: start/pause/step/reset, velocity inbox, 60 Hz draw.
* :mod:`.base`, :mod:`.arena`, :mod:`.module`, :mod:`.error` — the views.
* :mod:`.panel` — :class:`NavigationPanel`: the views, a toolbar and keyboard driving.
* :mod:`.open` — :func:`open_navigation_experiment`, :func:`is_navigation_manifest`.
"""

from .controller import NavigationController
from .open import close_navigation_experiment, is_navigation_manifest, open_navigation_experiment
from .panel import NavigationPanel

__all__ = [
    "NavigationController",
    "NavigationPanel",
    "close_navigation_experiment",
    "is_navigation_manifest",
    "open_navigation_experiment",
]
