"""The adjoint of a record (a dataclass, a named tuple, a registered class) is an
AdjointRecord, one adjoint per child in flattening order, indexed by position or by the
attribute that reads the child, so ``p_bar["W"] += g`` is the adjoint of ``t = p.W``.
Gradients come back as the record's own class.
"""
from __future__ import annotations

import dataclasses as _dataclasses

import numpy as np

from ..pytree import (child_names as _child_names, field_names as _field_names,
                     generated_constructor as _generated_constructor, is_record as _is_record,
                     record_flatten as _record_flatten, record_unflatten as _record_unflatten,
                     static_names as _static_names)
from .core import AdjointList, grad_like, zeros_like

__all__ = ["AdjointRecord", "ObjectAdjoint", "tangent_record", "replace_fields", "fields_cleared"]


class AdjointRecord(AdjointList):
    """The adjoints of a record's children; ``bar["W"]`` and ``bar.W`` name one by attribute,
    ``bar[1]`` by its position in a named tuple.

    A static field (an int, a string) carries no derivative: reading it gives
    0.0 and adding to it changes nothing.
    """

    def __init__(self, items, kind, aux, names, static):
        super().__init__(items)
        self._kind, self._aux, self._names, self._static = kind, aux, names, static

    def _position(self, key):
        """The child ``key`` (an attribute, or a named tuple's index) names; None if static."""
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and _named_tuple(self._kind):
            key = _field_names(self._kind)[key]
        if not isinstance(key, str):
            raise TypeError(f"an adjoint of a {self._kind.__qualname__} is indexed by attribute "
                            f"(or a named tuple's position), not by {key!r}")
        if key in self._names:
            return self._names.index(key)
        if key in self._static:
            return None
        from ..errors import NotDifferentiableError
        raise NotDifferentiableError(
            f"'{key}' is not one of the children of the pytree {self._kind.__qualname__} (or "
            "holds the same object as another child), so adjoint cannot send its derivative "
            f"back (its children: {', '.join(n for n in self._names if n)}); read children "
            "only, or compute the value from them in the function")

    def __getitem__(self, key):
        k = self._position(key)
        return 0.0 if k is None else list.__getitem__(self, k)

    def __setitem__(self, key, value):
        k = self._position(key)
        if k is not None:
            list.__setitem__(self, k, value)

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __iadd__(self, other):
        if isinstance(other, (int, float)) and other == 0:
            return self
        if _is_record(other):  # a seed or a tangent given as the record's own class
            other = _record_flatten(other)[0]
        for i, o in enumerate(other):  # child by child, in flattening order
            list.__setitem__(self, i, list.__getitem__(self, i) + o)
        return self

    def __add__(self, other):
        return self.like(list(self)).__iadd__(other)

    __radd__ = __add__

    def like(self, items):
        """A record adjoint of the same record with ``items``."""
        return AdjointRecord(items, self._kind, self._aux, self._names, self._static)


def _named_tuple(kind):
    return issubclass(kind, tuple) and hasattr(kind, "_fields")


def record_zeros(x):
    """The zero adjoint of record ``x``: an AdjointRecord of zeros shaped like its children."""
    if isinstance(x, AdjointRecord):  # an adjoint's own (derivative code differentiated again)
        return x.like([zeros_like(c) for c in x])
    children, aux = _record_flatten(x)
    return AdjointRecord([zeros_like(c) for c in children], type(x), aux,
                         _child_names(x, children, aux), _static_names(x, aux))


def _record_map(f, x):
    if isinstance(x, AdjointRecord):
        return x.like([f(c) for c in x])
    children, aux = _record_flatten(x)
    return _record_unflatten(type(x), aux, [f(c) for c in children])


def record_grad(x_bar, x):
    """The gradient of record ``x`` as an object of its class (zeros where nothing reached it)."""
    children, aux = _record_flatten(x)
    if isinstance(x_bar, AdjointRecord):
        bars = list(x_bar)
    elif type(x_bar) is type(x):  # a gradient already given the record's class
        bars = _record_flatten(x_bar)[0]
    elif isinstance(x_bar, (int, float)) and x_bar == 0:
        bars = [0.0] * len(children)
    else:
        raise TypeError(f"the adjoint of a {type(x).__qualname__} is a {type(x_bar).__qualname__}")
    return _record_unflatten(type(x), aux, [grad_like(b, c) for b, c in zip(bars, children)])


def record_tangent(t, x, each):
    """A tangent of record ``x`` as an AdjointRecord (static fields read as zero), from the
    user's tangent (an object of ``x``'s class) or a number to broadcast."""
    zero = record_zeros(x)
    if isinstance(t, AdjointRecord):
        parts = list(t)
    elif type(t) is type(x) and not isinstance(x, AdjointRecord):
        parts = _record_flatten(t)[0]
    else:
        parts = [t] * len(zero)
    children = list(x) if isinstance(x, AdjointRecord) else _record_flatten(x)[0]
    return zero.like([each(p, c) for p, c in zip(parts, children)])


class ObjectAdjoint:
    """The adjoint of an object that is not a pytree (``self`` of a model): always zero.

    A method is differentiated with respect to all its parameters, ``self``
    included, and its caller keeps the adjoints of the active arguments only;
    such an object is never active in a caller (``grad`` refuses it as an
    argument to differentiate), so what reaches this adjoint is never used, and
    asking for it as a gradient is an error.
    """

    def __init__(self, x):
        self._kind = type(x)

    def __getitem__(self, key):
        return 0.0

    def __setitem__(self, key, value):
        pass

    def __add__(self, other):
        return self

    __radd__ = __iadd__ = __add__

    def refuse(self):
        from ..errors import WrtError
        raise WrtError(f"an object of class {self._kind.__qualname__} has no gradient: it is not "
                       "a pytree; make it a dataclass or register it with adjoint.register_pytree")


def _plain_object(x):
    """An object of a user's class that is not a record (no derivative can flow into it)."""
    import numbers
    kind = type(x)
    return kind.__module__ not in ("builtins", "numpy") and not isinstance(
        x, (np.ndarray, np.generic, numbers.Number)) and not _is_record(x)


def _refuse_object_write(x):
    from ..errors import UnsupportedSyntaxError
    raise UnsupportedSyntaxError(
        f"the function writes into a value (an array, a list) held by an object of class "
        f"{type(x).__qualname__}; "
        "adjoint never changes the caller's objects, and cannot copy one that is not a pytree: "
        "copy the array first (w = obj.w.copy()), or make the class a dataclass")


def tangent_record(r, **fields):
    """The tangent of the record ``r`` a constructor made: the given fields' tangents, zeros
    elsewhere."""
    out = record_zeros(r)
    for key, t in fields.items():
        out[key] = t
    return out


def replace_fields(r, **changes):
    """``r`` with some fields replaced (``r._replace(x=v)``, ``dataclasses.replace(r, x=v)``);
    also on an adjoint or tangent of ``r``. A constructor of the user's own (``__post_init__``)
    must store the values it was given, since the derivative assumes it."""
    if isinstance(r, AdjointRecord):
        out = r.like(list(r))
        for key, v in changes.items():
            out[key] = v
        return out
    kind = type(r)
    new = r._replace(**changes) if _named_tuple(kind) else _dataclasses.replace(r, **changes)
    if not _generated_constructor(kind) and not all(
            getattr(new, f) is changes.get(f, getattr(r, f)) for f in _field_names(kind)):
        from ..errors import NotDifferentiableError
        raise NotDifferentiableError(
            f"replacing fields of a {kind.__qualname__} ran its own constructor, which changed "
            "the values it was given; adjoint does not know its derivative: compute the new "
            "fields in the function and build the object from them")
    return new


def fields_cleared(g, *keys):
    """The adjoint ``g`` of a record with the fields ``keys`` zeroed (what a replace overwrote)."""
    if _is_record(g):  # a seed given as the record's own class
        g = record_tangent(g, g, lambda t, _: t)
    if not isinstance(g, AdjointRecord):
        return g  # no adjoint reached the record: zero
    out = g.like(list(g))
    for key in keys:
        out[key] = zeros_like(out[key])
    return out
