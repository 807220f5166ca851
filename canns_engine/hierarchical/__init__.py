"""Hierarchical path integration (band cells → grid cells → place cells): canns 1.5.0, reimplemented.

* :class:`HierarchicalNetwork` — the network, with canns' per-step interface and a compiled ``run``.
* :class:`OpenLoopNavigationTask`, :class:`Agent`, :class:`Trajectory` — paths: canns' random walk, a
  steerable agent, CSV/array import.
* :func:`simulate_navigation`, :class:`NavigationSimulation` — whole runs and live, steerable runs.

See ``docs/hierarchical.md`` for the model, the fixes to canns and the compatibility settings.
"""

from canns_engine.hierarchical.navigation import (
    Agent,
    NavigationParams,
    OpenLoopNavigationTask,
    Trajectory,
)
from canns_engine.hierarchical.network import HierarchicalNetwork, NetworkTrace
from canns_engine.hierarchical.params import HierarchicalParams
from canns_engine.hierarchical.simulation import (
    CANNS_ANCHOR,
    Anchor,
    NavigationFrame,
    NavigationRecording,
    NavigationSimulation,
    simulate_navigation,
)

__all__ = [
    "CANNS_ANCHOR",
    "Agent",
    "Anchor",
    "HierarchicalNetwork",
    "HierarchicalParams",
    "NavigationFrame",
    "NavigationParams",
    "NavigationRecording",
    "NavigationSimulation",
    "NetworkTrace",
    "OpenLoopNavigationTask",
    "Trajectory",
    "simulate_navigation",
]
