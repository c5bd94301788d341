"""Errors raised by adjoint.

Every error that concerns the user's code carries the user's file and line, so
the message points at the line to change rather than at adjoint's internals.
"""
from __future__ import annotations

import functools
import linecache
import os
import re
import sys
import traceback
import types
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "AdjointError",
    "SourceUnavailableError",
    "UnsupportedSyntaxError",
    "NotDifferentiableError",
    "NonScalarOutputError",
    "WrtError",
    "InternalError",
    "BackendWarning",
]


class AdjointError(Exception):
    """Base class of every error adjoint raises about the user's code.

    An error placed in generated code (a refusal while differentiating a
    derivative again) is placed at the user's line that code came from, read
    from its ``# file.py:line:`` comment; ``generated_place`` keeps the
    generated (file, line), which the message shows too.
    """

    def __init__(self, message: str, filename: str | None = None, lineno: int | None = None):
        self.message = message
        self.generated_place = None
        place = generated_origin(filename, lineno) \
            if filename and lineno and filename.startswith(GENERATED_PREFIX) else None
        if place is not None:
            self.generated_place = filename, lineno
            filename, lineno = place
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
        if self.generated_place is not None:
            generated, number = self.generated_place
            code = linecache.getline(generated, number).strip()
            text += f"\n  in the code generated for its derivative, {generated}:{number}: {code}"
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


class InternalError(AdjointError):
    """adjoint itself failed on this function: a bug to report, not a mistake in the user's code.

    ``generated_source`` is the generated module when the failure came after it
    was written (None before), and ``generated_line`` the line of it that failed,
    where known; both belong in the report.
    """

    def __init__(self, message: str, filename: str | None = None, lineno: int | None = None,
                 generated_source: str | None = None, generated_line: int | None = None):
        self.generated_source = generated_source
        self.generated_line = generated_line
        super().__init__(message, filename, lineno)

    def _format(self) -> str:
        text = super()._format()
        if self.generated_source and self.generated_line:
            lines = self.generated_source.splitlines()
            if 0 < self.generated_line <= len(lines):
                text += (f"\n  generated line {self.generated_line}: "
                         f"{lines[self.generated_line - 1].strip()}")
        return text + "\nThis is a bug in adjoint; please report it with this message."


class BackendWarning(UserWarning):
    """A backend could not compile a derivative; another backend runs it instead."""


# -- names the user misspelt -------------------------------------------------------------
def did_you_mean(wrong: str, candidates, prefix: str = "") -> str:
    """"; did you mean np.tanh?" for ``wrong`` = "tahn" among ``candidates``, or "" when none is close.

    As Python does for a misspelt name: the closest public name, if it is close enough
    that a typo is the likely cause; of two as close, the one listed first.
    """
    allowed = max(1, (len(wrong) + 2) // 4)
    order = {c: k for k, c in reversed(list(enumerate(candidates)))}  # ties: the earlier one
    scored = sorted((_typos(wrong, c), abs(len(c) - len(wrong)), order[c], c) for c in order
                    if isinstance(c, str) and not c.startswith("_") and c != wrong
                    and abs(len(c) - len(wrong)) <= allowed)
    if not scored or scored[0][0] > allowed:
        return ""
    return f"; did you mean {prefix}{scored[0][3]}?"


def _typos(a: str, b: str) -> int:
    """How many typos turn ``a`` into ``b``: letters added, dropped, changed or swapped.

    A swap of neighbours counts once (``tahn`` is one typo from ``tanh``, as from ``tan``;
    the tie goes to the name of the same length).
    """
    previous, current = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, current = previous, current, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
    return current[len(b)]


def undefined_call(dotted: str, owner, owner_label: str, names) -> str:
    """The message for a call of a name or attribute that does not exist (``np.tahn(x)``)."""
    head, _, last = dotted.rpartition(".")
    if head:
        what = f"{owner_label} has no attribute '{last}'"
        return f"'{dotted}' is not defined: {what}" + did_you_mean(last, dir(owner), head + ".")
    return f"name '{dotted}' is not defined" + did_you_mean(dotted, names)


# -- where generated code came from -----------------------------------------------------
GENERATED_PREFIX = "<adjoint:"
_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_ORIGINS: dict = {}  # generated filename -> {base name in its comments: the user's filename}
_COMMENT = r"# (.+?):(\d+)(?::|$)"  # a pattern's text: an exported module copies what errors read


def register_origins(generated: str, filenames) -> None:
    """Remember which files the ``# file.py:line:`` comments of a generated module name."""
    _ORIGINS[generated] = {os.path.basename(f): f for f in filenames}


def generated_origin(filename: str, lineno: int):
    """The user's (filename, line) a line of generated code came from, or None.

    The governing comment is the nearest one above at the line's depth or
    shallower: a nested block's comments do not govern the statements after it.
    """
    limit = None
    for text in reversed(linecache.getlines(filename)[:lineno]):
        stripped = text.strip()
        if not stripped:
            continue
        indent = len(text) - len(text.lstrip())
        found = re.match(_COMMENT, stripped)
        if found and (limit is None or indent <= limit):
            return _user_place(filename, found.group(1), int(found.group(2)))
        if not stripped.startswith("#"):
            if stripped.startswith("def "):
                return None
            limit = indent if limit is None else min(limit, indent)
    return None


def generated_caller():
    """The (filename, line) of the innermost generated code calling the running helper, or
    (None, None): where a helper's refusal is placed (``AdjointError`` maps it to the user's)."""
    frame = sys._getframe(1)
    while frame is not None and not frame.f_code.co_filename.startswith(GENERATED_PREFIX):
        frame = frame.f_back
    return (frame.f_code.co_filename, frame.f_lineno) if frame is not None else (None, None)


def _user_place(generated, base, line):
    """A comment's file:line resolved to the user's file (through generated code, if it is)."""
    path = _ORIGINS.get(generated, {}).get(base, base)
    if path.startswith(GENERATED_PREFIX):
        return generated_origin(path, line) or (path, line)
    return path, line


def _generated_frame(tb):
    """The innermost (filename, line) of generated code in the traceback ``tb``, or None."""
    found = None
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename.startswith(GENERATED_PREFIX):
            found = frame.f_code.co_filename, lineno
    return found


def _statement_place(tb):
    """(file, line) of the innermost statement a pass was working on when it failed, if any.

    The file is that of the function being transformed at that point (a helper
    may live in another file than the function differentiated).
    """
    import gast
    line = None
    for frame, _ in reversed(list(traceback.walk_tb(tb))):
        values = frame.f_locals
        if line is None:
            line = next((v.lineno for v in values.values()
                         if isinstance(v, gast.stmt) and getattr(v, "lineno", None)), None)
        parsed = getattr(values.get("self"), "parsed", None)
        if line is not None and hasattr(parsed, "filename"):
            return parsed.filename, line
    return None


def internal_error(fn, exc: BaseException, source: str | None = None) -> InternalError:
    """The InternalError for ``exc``, raised inside adjoint while transforming ``fn``."""
    code = fn.__code__
    filename, lineno = _statement_place(exc.__traceback__) or (code.co_filename,
                                                               code.co_firstlineno)
    generated_line = None
    frame = _generated_frame(exc.__traceback__)
    if isinstance(exc, SyntaxError) and (exc.filename or "").startswith(GENERATED_PREFIX):
        frame = exc.filename, exc.lineno
    if frame is not None:
        generated_line = frame[1]
        filename, lineno = generated_origin(*frame) or (filename, lineno)
    elif filename.startswith(GENERATED_PREFIX):
        filename, lineno = generated_origin(filename, lineno) or (filename, lineno)
    message = (f"internal error while differentiating {fn.__qualname__}: "
               f"{type(exc).__name__}: {exc}")
    return InternalError(message, filename, lineno, source, generated_line)


def located(exc: BaseException) -> BaseException:
    """``exc``, raised by generated code, noting the user's line, without adjoint's frames.

    The type is the user's own; only a note (the message on Python 3.10) and
    the traceback change.
    """
    frame = _generated_frame(exc.__traceback__)
    place = generated_origin(*frame) if frame else None
    if place and not getattr(exc, "_adjoint_located", False):
        text = linecache.getline(place[0], place[1]).strip()
        note = f"adjoint: raised by the code generated for {place[0]}:{place[1]}" + \
            (f"\n    {text}" if text else "")
        _add_note(exc, note)
    return exc.with_traceback(_trim(exc.__traceback__))


def _add_note(exc, note):
    try:
        exc._adjoint_located = True
    except AttributeError:  # an exception type without a __dict__: leave it as it is
        return
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    elif len(exc.args) == 1 and isinstance(exc.args[0], str) and not isinstance(exc, KeyError):
        exc.args = (f"{exc.args[0]}\n{note}",)  # a KeyError's argument is the key, not a message


def hidden(exc: BaseException) -> BaseException:
    """``exc`` without adjoint's frames in its traceback: it ends at the user's call.

    Raising it adds the raising frame back, so exactly one frame of adjoint's
    remains: the public function that re-raises it.
    """
    return exc.with_traceback(_trim(exc.__traceback__))


def public(fn: F) -> F:
    """``fn``, raising its AdjointErrors without adjoint's frames (see ``hidden``).

    An InternalError keeps the failing frames in its ``__cause__``, for the report.
    """
    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AdjointError as exc:
            raise hidden(exc)
    return call  # type: ignore[return-value]


def _trim(tb):
    """The traceback ``tb`` without the frames of adjoint's own modules."""
    kept = [t for t in _chain(tb) if not _ours(t.tb_frame.f_code.co_filename)]
    out = None
    for t in reversed(kept):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def _chain(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _ours(filename: str) -> bool:
    """Whether a frame's file is one of adjoint's modules (generated code is the user's)."""
    return not filename.startswith(GENERATED_PREFIX) \
        and os.path.abspath(filename).startswith(_PACKAGE + os.sep)
