"""Which views a model gets, and two ways to hold them: a :class:`ViewSet` (the main window puts each
view in its own dock) and a :class:`ViewPanel` (all views in one widget, e.g. to render movie frames
offscreen).

Views are chosen per model *family*: ``"ring"`` (1D models) and ``"sheet"`` (2D models). A new family
(the hierarchical path-integration network, later) registers its own view set in :data:`VIEW_FAMILIES`
and its model types in :data:`MODEL_FAMILIES`; a model type without a family is "not supported yet".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QGridLayout, QWidget

from canns_engine import Frame

from ..theme import DARK, Theme
from .activity import KymographView, SheetView
from .adaptation import AdaptationView
from .base import FrameView
from .connectivity import ConnectivityView
from .profile import ProfileView
from .tracking import TrackingView

VIEW_NAMES = ("activity", "tracking", "profile", "connectivity", "adaptation")
"""Every family provides these views (dock names and their order)."""


def _ring_views() -> dict[str, FrameView]:
    return {"activity": KymographView(), "tracking": TrackingView(ndim=1), "profile": ProfileView(),
            "connectivity": ConnectivityView(), "adaptation": AdaptationView()}


def _sheet_views() -> dict[str, FrameView]:
    return {"activity": SheetView(), "tracking": TrackingView(ndim=2), "profile": ProfileView(),
            "connectivity": ConnectivityView(), "adaptation": AdaptationView()}


VIEW_FAMILIES: dict[str, Callable[[], dict[str, FrameView]]] = {"ring": _ring_views, "sheet": _sheet_views}
MODEL_FAMILIES: dict[str, str] = {"CANN1D": "ring", "CANN1D_SFA": "ring", "CANN2D": "sheet",
                                  "CANN2D_SFA": "sheet"}


def family_of(model_type: str) -> str | None:
    """The view family of ``model_type``, or ``None`` when this app cannot show it yet."""
    return MODEL_FAMILIES.get(model_type)


class ViewSet:
    """The views of one model family, driven together so that they always show the same frame.

    Parameters
    ----------
    family : str
        A key of :data:`VIEW_FAMILIES`.
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self.views: dict[str, FrameView] = VIEW_FAMILIES[family]()
        self.theme: Theme = DARK
        self.window: float | None = None

    def ingest(self, frame: Frame) -> None:
        """Give every view a frame for its history (every frame the engine produced)."""
        for view in self.views.values():
            view.ingest(frame)

    def show_frame(self, frame: Frame) -> None:
        """Draw ``frame`` in every view."""
        for view in self.views.values():
            view.show_frame(frame)

    def reset(self) -> None:
        for view in self.views.values():
            view.reset()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for view in self.views.values():
            view.set_theme(theme)

    def set_window(self, window: float) -> None:
        """Time span of the scrolling views (simulated time)."""
        self.window = float(window)
        for view in self.views.values():
            if hasattr(view, "set_window"):
                view.set_window(window)

    def interactive_views(self) -> list[FrameView]:
        """Views where the stimulus can be placed with the mouse (they have ``stimulus_moved``)."""
        return [v for v in self.views.values() if hasattr(v, "stimulus_moved")]

    def options(self) -> dict[str, Any]:
        """View options worth saving with an experiment (the manifest's ``view``)."""
        activity = self.views["activity"]
        return {"activity_quantity": activity.quantity, "time_window": self.window}

    def apply_options(self, options: dict[str, Any]) -> None:
        """Restore :meth:`options` (unknown or invalid entries are ignored)."""
        quantity = options.get("activity_quantity")
        if quantity in ("u", "r"):
            self.views["activity"].set_quantity(quantity)
        window = options.get("time_window")
        if isinstance(window, int | float) and window > 0:
            self.set_window(float(window))


class ViewPanel(QWidget):
    """Every view of a model in one grid widget: activity and tracking on top, profile, connectivity
    and adaptation below. ``show_frame(frame)`` draws a frame in all of them.

    Parameters
    ----------
    model_type : str
        A model type with a view family (see :func:`family_of`).
    theme : Theme, optional
        Colours (dark by default).
    """

    def __init__(self, model_type: str, theme: Theme | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        family = family_of(model_type)
        if family is None:
            raise ValueError(f"no views for model type {model_type!r} yet")
        self.view_set = ViewSet(family)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        v = self.view_set.views
        grid.addWidget(v["activity"], 0, 0, 1, 3)
        grid.addWidget(v["tracking"], 0, 3, 1, 3)
        grid.addWidget(v["profile"], 1, 0, 1, 2)
        grid.addWidget(v["connectivity"], 1, 2, 1, 2)
        grid.addWidget(v["adaptation"], 1, 4, 1, 2)
        self.view_set.set_theme(theme or DARK)

    @property
    def views(self) -> dict[str, FrameView]:
        return self.view_set.views

    def show_frame(self, frame: Frame) -> None:
        self.view_set.show_frame(frame)

    def reset(self) -> None:
        self.view_set.reset()

    def set_theme(self, theme: Theme) -> None:
        self.view_set.set_theme(theme)
