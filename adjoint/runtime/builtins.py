"""Helpers of the rules for Python's built-ins (``rules/builtins.py``): what comprehensions,
``dict(...)`` and ``sorted(...)`` are lowered to (``passes/comprehensions.py``), and their adjoints.
"""
from __future__ import annotations

import collections.abc
import contextlib
import threading

import numpy as np

from .core import AdjointList, _float_dtype, snapshot, zeros_like

__all__ = ["joined", "padded_after", "padded_before", "first_items", "last_items", "repeated",
           "repeats_summed", "dict_from", "dict_from_grad", "sort_order", "items_of", "items_of_grad", "old_item",
           "put_back", "MISSING", "cell_value", "set_cell", "attribute_value", "set_attribute",
           "check_keywords"]


def joined(a, b):
    """``a + b`` of two lists (``passes/lists.py``); of tangents too, which may be AdjointLists."""
    return list(a) + list(b)


def padded_after(t, b):
    """The tangent of ``joined(a, b)`` along ``a``'s tangent ``t``: zeros for ``b``'s items."""
    return AdjointList(list(t) + [zeros_like(v) for v in b])


def padded_before(a, t):
    """The tangent of ``joined(a, b)`` along ``b``'s tangent ``t``: zeros for ``a``'s items."""
    return AdjointList([zeros_like(v) for v in a] + list(t))


def first_items(g, a):
    """The adjoint of ``joined(a, b)`` for ``a``: the adjoints of its first ``len(a)`` items."""
    return AdjointList(g[:len(a)])


def last_items(g, b):
    """The adjoint of ``joined(a, b)`` for ``b``: the adjoints of its last ``len(b)`` items."""
    return AdjointList(g[len(g) - len(b):])


def repeated(a, count):
    """``a * count`` of a list and an int (``passes/lists.py``), or of a tangent."""
    return list(a) * count


def repeats_summed(g, a):
    """The adjoint of ``repeated(a, count)`` for ``a``: item ``i``'s is the sum of its copies'."""
    out = AdjointList(zeros_like(v) for v in a)
    for j, item in enumerate(g):
        out[j % len(a)] = out[j % len(a)] + item
    return out


def dict_from(keys, values):
    """``{k: v for k, v in zip(keys, values)}``: a later key wins, in first-seen order."""
    return dict(zip(keys, values))


def dict_from_grad(g, keys, values):
    """Adjoint of ``dict_from`` for ``values``: each value gets its key's adjoint, unless a
    later value with the same key replaced it (that one's item stays zero)."""
    last = {k: i for i, k in enumerate(keys)}
    return AdjointList(g[k] if last[k] == i and k in g else zeros_like(v)
                       for i, (k, v) in enumerate(zip(keys, values)))


def sort_order(keys, reverse=False):
    """The positions of ``keys`` in the order ``sorted(keys, reverse=reverse)`` gives (stable)."""
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=reverse)


def items_of(x):
    """What iterating ``x`` gives, indexable: ``x`` itself when it is a sequence or an array,
    else ``list(x)`` (a dict's keys, a set's members, an iterator's items)."""
    if isinstance(x, (list, tuple, np.ndarray, range, str)):
        return x
    return list(x)


def items_of_grad(g, x):
    """Adjoint of ``items_of``: ``g`` itself for a sequence or array; zero for a dict (its keys
    carry no derivative). Other iterables are never active: nothing differentiable makes them."""
    if isinstance(x, dict):
        return zeros_like(x)
    if isinstance(x, np.ndarray) and not isinstance(g, np.ndarray):
        return np.reshape(np.array(list(g), dtype=_float_dtype(x.dtype)), x.shape)
    return g


class _Missing:
    """What ``old_item`` keeps for a key a dict did not have."""

    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


def old_item(x, key):
    """What ``x[key] = ...`` replaces, kept to undo the write: a copy of the item, or
    ``MISSING`` for a key the dict ``x`` does not have yet."""
    if isinstance(x, dict) and key not in x:
        return MISSING
    return snapshot(x[key])


def put_back(x, key, old):
    """Undo ``x[key] = ...`` with what ``old_item`` kept: the old item, or no key at all."""
    if old is MISSING:
        del x[key]
    else:
        x[key] = old



# -- closure cells and keywords (passes/cells.py, the closures pass) -----------------------
_SWEEP = threading.local()  # the CellReads of the forward sweep running in this thread, if any


class CellReads:
    """What one forward sweep read from closure cells, in order, so that a pullback running
    that sweep again (``vjp``) reads the same values and writes no cell: the user's function
    ran once."""

    def __init__(self):
        self.values = []
        self.replay = None  # an iterator over ``values`` while a sweep is replayed


@contextlib.contextmanager
def reading_cells(reads, replay=False):
    """Run a forward sweep recording its cell reads into ``reads`` (``replay``: reading them back)."""
    before = getattr(_SWEEP, "reads", None)
    reads.replay = iter(list(reads.values)) if replay else None
    _SWEEP.reads = reads
    try:
        yield reads
    finally:
        _SWEEP.reads = before
        reads.replay = None


def cell_value(cell):
    """The value of a closure cell the function rebinds (``nonlocal``), read on entry."""
    reads = getattr(_SWEEP, "reads", None)
    if reads is None:
        return cell.cell_contents
    if reads.replay is not None:
        return next(reads.replay)
    value = cell.cell_contents
    reads.values.append(value)
    return value


def set_cell(cell, value):
    """Write ``value`` into a closure cell the function rebinds, as Python's binding would
    (not while a pullback replays a sweep that wrote it already)."""
    reads = getattr(_SWEEP, "reads", None)
    if reads is None or reads.replay is None:
        cell.cell_contents = value


def attribute_value(obj, attr):
    """``obj.attr`` of a module-level object the function also writes (a counter), read as
    ``cell_value`` reads a cell: a pullback replaying the sweep reads what the first read."""
    reads = getattr(_SWEEP, "reads", None)
    if reads is None:
        return getattr(obj, attr)
    if reads.replay is not None:
        return next(reads.replay)
    value = getattr(obj, attr)
    reads.values.append(value)
    return value


def set_attribute(obj, attr, value):
    """``obj.attr = value`` on a module-level object, as Python runs it (not while a pullback
    replays a sweep that wrote it already)."""
    reads = getattr(_SWEEP, "reads", None)
    if reads is None or reads.replay is None:
        setattr(obj, attr, value)


def check_keywords(keywords, function, free, required, positional=(), named=(), fixed=()):
    """The ``TypeError`` Python raises binding ``function(..., **keywords)``: ``free`` are the
    parameters the dict may fill, ``required`` those of them without a default; the call fills
    the parameters ``positional`` by position and ``named`` by keyword already. ``fixed``: those
    whose default function the code was specialised to (an error of adjoint's, not Python's)."""
    for key in fixed:
        if key in keywords:
            from ..errors import UnsupportedSyntaxError
            raise UnsupportedSyntaxError(f"passing '{key}' to {function}() in **keywords: adjoint "
                                         "specialised the call to its default function; pass it by name")
    if not isinstance(keywords, collections.abc.Mapping):
        raise TypeError(f"{function}() argument after ** must be a mapping, not "
                        f"{type(keywords).__name__}")
    for key in keywords:
        if key in named:
            raise TypeError(f"{function}() got multiple values for keyword argument '{key}'")
        if key in positional:
            raise TypeError(f"{function}() got multiple values for argument '{key}'")
        if free is not None and key not in free:  # None: a **rest parameter takes any key
            raise TypeError(f"{function}() got an unexpected keyword argument '{key}'")
    missing = [k for k in required if k not in keywords]
    if missing:
        raise TypeError(f"{function}() missing required argument '{missing[0]}'")
