"""Marker resolution: from the reverse pass's markers to plain statements.

Contract: accepts forward and backward sweeps holding the markers of
``reverse`` and returns them as plain Python, plus the set of primal names the
backward sweep reads and the tapes used. A value goes on the tape only when
the backward sweep reads it and something overwrites it; everything else the
markers proposed is dropped here.
"""
from __future__ import annotations


import gast

from ..astutil import clone, loaded_names, quote, quote_expr
from .reverse import bar, tape
from .simplify import fold_constants


def _markers(stmts):
    for s in stmts:
        if getattr(s, "marker", None):
            yield s
        for field in ("body", "orelse"):
            yield from _markers(getattr(s, field, []) or [])


def _plain_reads(stmts):
    names = set()
    for s in stmts:
        kind = getattr(s, "marker", None)
        if kind == "accumulate":
            names |= loaded_names(s.value)
        elif not kind:
            if isinstance(s, (gast.If, gast.While)):
                names |= loaded_names(s.test)
            elif isinstance(s, gast.For):
                names |= loaded_names(s.iter)
            else:
                names |= loaded_names(s)
        for field in ("body", "orelse"):
            names |= _plain_reads(getattr(s, field, []) or [])
    return names


def needed_names(bwd, primal, init_reads):
    """Primal names the backward sweep reads, counting what kept markers read.

    ``init_reads``: variables whose adjoint starts as ``zeros_like`` of their value.
    """
    needed = _plain_reads(bwd) & primal
    for m in _markers(bwd):
        if m.marker == "init" and m.var in init_reads:
            needed.add(m.var)
    while True:
        extra = set()
        for m in _markers(bwd):
            if m.marker == "restore_item" and m.var in needed:
                extra |= loaded_names(m.index) & primal
        if extra <= needed:
            return needed
        needed |= extra


class Resolver:
    """Turns markers into statements.

    With ``typed`` (the Numba backend) an adjoint that may hold an array starts
    as ``zeros_like`` of its value rather than ``0.0``, so its type never
    changes; only names in ``scalars`` start at ``0.0``.
    """

    def __init__(self, needed, dense, integers, typed=False, scalars=frozenset()):
        self.needed = needed
        self.dense = dense
        self.integers = integers
        self.typed = typed
        self.scalars = scalars
        self.tapes = []

    def _array_like(self, v):
        return v in self.dense or (self.typed and v not in self.scalars)

    def block(self, stmts):
        out = []
        for s in stmts:
            kind = getattr(s, "marker", None)
            if kind:
                out += self.resolve(s)
                continue
            for field in ("body", "orelse"):
                if getattr(s, field, None):
                    setattr(s, field, self.block(getattr(s, field)) or [gast.Pass()])
            out.append(s)
        return out

    def _tape(self, ident):
        if ident not in self.tapes:
            self.tapes.append(ident)
        return tape(ident)

    def resolve(self, m):
        kind, v, line = m.marker, m.var, m.lineno
        if kind == "accumulate":
            if getattr(m, "first", False):
                return quote("x_bar = c", line, x_bar=bar(v), c=m.value)
            if v in self.dense:
                return quote("x_bar += c", line, x_bar=bar(v), c=m.value)
            return [fold_constants(s) for s in quote("x_bar = x_bar + c", line, x_bar=bar(v), c=m.value)]
        if kind == "init":
            if self._array_like(v):
                return quote("x_bar = zeros_like(x)", line, x_bar=bar(v), x=v)
            return quote("x_bar = 0.0", line, x_bar=bar(v))
        if kind == "reset":
            if self._array_like(v):
                return quote("x_bar = zeros_like(x_bar)", line, x_bar=bar(v))
            return quote("x_bar = 0.0", line, x_bar=bar(v))
        if v not in self.needed:
            return []
        if kind in ("save", "save_after"):
            return quote("t.append(x)", line, t=self._tape(v), x=v)
        if kind in ("restore", "load"):
            return quote("x = t.pop()", line, t=self._tape(v), x=v)
        if kind == "save_item":
            item = quote_expr("x[i]", x=v, i=clone(m.index))
            if not _int_index(m.index, self.integers):
                item = quote_expr("snapshot(item)", item=item)
            return quote("t.append(item)", line, t=self._tape(v), item=item)
        if kind == "restore_item":
            return quote("x[i] = t.pop()", line, x=v, i=clone(m.index), t=self._tape(v))
        if kind == "restore_append":
            return quote("x.pop()", line, x=v)
        raise AssertionError(kind)


def _int_index(index, integers):
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return all((isinstance(p, gast.Constant) and type(p.value) is int) or
               (isinstance(p, gast.Name) and p.id in integers) for p in parts)
