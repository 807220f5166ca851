"""canns_engine: exact, Numba-compiled continuous attractor neural networks (no Qt).

The models, tasks and parameter names of canns 1.5 (``CANN1D``, ``CANN1D_SFA``, ``CANN2D``,
``CANN2D_SFA``; ``SmoothTracking1D`` …), so a canns script ports by changing its imports, plus
:func:`simulate` for whole runs and :class:`Simulation` for streaming with live edits.

Examples
--------
>>> from canns_engine import CANN1D, SmoothTracking1D, simulate
>>> model = CANN1D(num=128)
>>> task = SmoothTracking1D(cann_instance=model, Iext=(0.0, 1.0), duration=(10.0,), time_step=0.05)
>>> rec = simulate(model, task)
>>> rec.u.shape, rec.decoded_pos.shape
((200, 128), (200,))
"""

from importlib.metadata import PackageNotFoundError, version

from . import (
    _cache,  # noqa: F401  (first: numba's cache folder must be set before any kernel exists)
    analysis,
)
from .errors import CannsEngineError, ConfigError, NumericalInstabilityError, SessionFormatError
from .models import CANN1D, CANN1D_SFA, CANN2D, CANN2D_SFA, MODELS, BaseCANN, make_model
from .params import LIVE_PARAMS, MODEL_PARAMS, ParamSpec
from .recording import Recording
from .simulation import Frame, Simulation, simulate
from .tasks import (
    TASKS,
    CustomTracking1D,
    CustomTracking2D,
    PopulationCoding1D,
    PopulationCoding2D,
    SmoothTracking1D,
    SmoothTracking2D,
    Task,
    TemplateMatching1D,
    TemplateMatching2D,
    make_task,
)

try:
    __version__ = version("canns-studio")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "CANN1D", "CANN1D_SFA", "CANN2D", "CANN2D_SFA", "LIVE_PARAMS", "MODELS", "MODEL_PARAMS",
    "TASKS", "BaseCANN", "CannsEngineError", "ConfigError", "CustomTracking1D", "CustomTracking2D",
    "Frame", "NumericalInstabilityError", "ParamSpec", "PopulationCoding1D", "PopulationCoding2D",
    "Recording", "SessionFormatError", "Simulation", "SmoothTracking1D", "SmoothTracking2D", "Task",
    "TemplateMatching1D", "TemplateMatching2D", "__version__", "analysis", "make_model",
    "make_task", "simulate",
]
