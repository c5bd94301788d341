"""Errors raised by adjoint.

Every error that concerns the user's code carries the user's file and line, so
the message points at the line to change rather than at adjoint's internals.
"""
from __future__ import annotations

import linecache

__all__ = [
    "AdjointError",
    "SourceUnavailableError",
    "UnsupportedSyntaxError",
    "NotDifferentiableError",
    "NonScalarOutputError",
    "WrtError",
    "BackendWarning",
]


class AdjointError(Exception):
    """Base class of every error adjoint raises about the user's code."""

    def __init__(self, message: str, filename: str | None = None, lineno: int | None = None):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        super().__init__(self._format())

    def _format(self) -> str:
        if not self.filename or not self.lineno:
            return self.message
        text = f"{self.filename}:{self.lineno}: {self.message}"
        line = linecache.getline(self.filename, self.lineno).strip()
        if line:
            text += f"\n    {line}"
        return text


class SourceUnavailableError(AdjointError):
    """The function's source text cannot be read (REPL, exec, C extension)."""


class UnsupportedSyntaxError(AdjointError):
    """The function uses a Python construct adjoint does not differentiate."""


class NotDifferentiableError(AdjointError):
    """A call on an active value has no derivative rule."""


class NonScalarOutputError(AdjointError):
    """``grad`` was asked for the gradient of a function whose output is not a scalar."""


class WrtError(AdjointError):
    """``wrt`` names an argument that does not exist or cannot be differentiated."""


class BackendWarning(UserWarning):
    """A backend could not compile a derivative; another backend runs it instead."""
