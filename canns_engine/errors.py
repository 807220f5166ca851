"""Exceptions raised by the engine.

Every error names what is wrong and how to fix it: the parameter and its allowed range, the file and the
problem, or the step and time at which a run went non-finite. The app shows these messages verbatim.
"""

from __future__ import annotations


class CannsEngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class ConfigError(CannsEngineError, ValueError):
    """An invalid parameter value; ``param`` names the offending parameter (or ``None``)."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class NumericalInstabilityError(CannsEngineError, FloatingPointError):
    """The state became non-finite during a run.

    ``step`` is the index of the step that produced the non-finite state and ``t`` its simulated time.
    """

    def __init__(self, message: str, *, step: int, t: float) -> None:
        super().__init__(message)
        self.step = step
        self.t = t


class SessionFormatError(CannsEngineError, ValueError):
    """A session, preset or trajectory file that cannot be read; ``path`` names the file."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
