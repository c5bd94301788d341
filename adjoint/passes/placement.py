"""Marker resolution: from the reverse pass's markers to plain statements.

Contract: accepts forward and backward sweeps holding the markers of
``reverse`` and returns them as plain Python, plus the set of primal names the
backward sweep reads and the tapes used. A value goes on the tape only when
the backward sweep reads it and something overwrites it; everything else the
markers proposed is dropped here. For typed builds (Numba),
``split_tuple_adjoints`` then holds a tuple's adjoint read item by item in one
name per item.
"""
from __future__ import annotations

import gast

from ..astutil import clone, item_read, loaded_names, name, quote, quote_expr, walk
from .reverse import BAR, bar, item_tape, tape
from . import simplify
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

    ``init_reads``: variables whose adjoint starts (and restarts, once a binding is
    undone) as ``zeros_like`` of their value.
    """
    needed = _plain_reads(bwd) & primal
    for m in _markers(bwd):
        if m.marker in ("init", "reset") and m.var in init_reads:
            needed.add(m.var)
    while True:
        extra = set()
        for m in _markers(bwd):
            if m.marker == "restore_item" and m.var in needed:
                extra |= loaded_names(m.index) & primal
            if m.marker == "recompute" and m.var in needed:
                extra |= loaded_names(m.value) & primal
        if extra <= needed:
            return needed
        needed |= extra


class Resolver:
    """Turns markers into statements.

    An adjoint that may hold an array starts (and restarts) as ``zeros_like`` of
    its value rather than ``0.0``: its shape is right on a path that adds nothing
    to it, and its type never changes (Numba); only names in ``scalars`` start at
    ``0.0``. A write into one of ``dicts`` is undone by ``put_back``, which removes a
    key the write added.
    """

    def __init__(self, needed, dense, scalars=frozenset(), dicts=frozenset()):
        self.needed = needed
        self.dense = dense
        self.scalars = scalars
        self.dicts = dicts
        self.tapes = []
        self.holds = {}  # tape -> the name whose values (or overwritten items) it holds

    def _array_like(self, v):
        return v in self.dense or v not in self.scalars

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

    def _tape(self, ident, items=False, site=None):
        """The tape of ``ident``'s values, or of the items written into it (a tape of its own: a
        block-local value is loaded at the top of its reversed block, items where undone);
        ``site``: the one of a binding or of a write."""
        t = site or (item_tape(ident) if items else tape(ident))
        if t not in self.tapes:
            self.tapes.append(t)
            self.holds[t] = ident
        return t

    def resolve(self, m):
        kind, v, line, site = m.marker, m.var, m.lineno, getattr(m, "tape", None)
        if kind == "accumulate":
            if getattr(m, "first", False):
                return quote("x_bar = c", line, x_bar=bar(v), c=m.value)
            c = quote_expr("by_items(c)", c=m.value) if getattr(m, "by_items", False) else m.value
            if v in self.dense:  # in place: a complex addend of a real adjoint gives its real part
                part = getattr(m, "real_part", None)
                c = quote_expr(part, g=c, x_bar=bar(v)) if part else c
                return quote("x_bar += c", line, x_bar=bar(v), c=c)
            return [fold_constants(s) for s in quote("x_bar = x_bar + c", line, x_bar=bar(v), c=c)]
        if kind == "init":
            if self._array_like(v):
                return quote("x_bar = zeros_like(x)", line, x_bar=bar(v), x=v)
            return quote("x_bar = 0.0", line, x_bar=bar(v))
        if kind == "reset":
            if self._array_like(v):  # restored already: an older binding may have another shape
                return quote("x_bar = zeros_like(x)", line, x_bar=bar(v), x=v)
            return quote("x_bar = 0.0", line, x_bar=bar(v))
        if v not in self.needed:
            return []
        if kind in ("save", "save_after"):
            return quote("t.append(x)", line, t=self._tape(v, site=site), x=v)
        if kind == "recompute":  # a stable value, computed again (reverse._recomputable)
            return quote("x = v", line, x=v, v=clone(m.value))
        if kind in ("restore", "load"):
            return quote("x = t.pop()", line, t=self._tape(v, site=site), x=v)
        if kind == "save_item" and v in self.dicts:
            return quote("t.append(old_item(x, i))", line, t=self._tape(v, items=True, site=site), x=v,
                         i=clone(m.index))
        if kind == "restore_item" and v in self.dicts:
            return quote("put_back(x, i, t.pop())", line, x=v, i=clone(m.index),
                         t=self._tape(v, items=True, site=site))
        if kind == "save_item":
            item = item_read(v, m.index)
            if not getattr(m, "element", False):
                item = quote_expr("snapshot(item)", item=item)  # a view, or several elements
            return quote("t.append(item)", line, t=self._tape(v, items=True, site=site), item=item)
        if kind == "restore_item":
            return quote("x[i] = t.pop()", line, x=v, i=clone(m.index), t=self._tape(v, items=True, site=site))
        if kind == "restore_append":
            return quote("x.pop()", line, x=v)
        raise AssertionError(kind)


def drop_dead_tapes(fwd, bwd, tapes, live_out):
    """``(fwd, bwd, tapes)`` without the tapes none of whose restored values the backward sweep
    reads before it rebinds the name (``live_out``: what code after it reads), pushes and pops
    included: done on the list tapes, before they become arrays that dead code removal no
    longer sees as tapes."""
    bwd = simplify.dead_restores(bwd, live_out)
    read = loaded_names(gast.Module(body=bwd, type_ignores=[]))
    gone = {t for t in tapes if t not in read}
    return _without_pushes(fwd, gone), bwd, [t for t in tapes if t not in gone]


def _without_pushes(stmts, gone):
    out = []
    for s in stmts:
        call = s.value if isinstance(s, gast.Expr) else None
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
                call.func.attr == "append" and isinstance(call.func.value, gast.Name) and \
                call.func.value.id in gone:
            continue
        for field in ("body", "orelse"):
            if getattr(s, field, None):
                setattr(s, field, _without_pushes(getattr(s, field), gone) or [gast.Pass()])
        out.append(s)
    return out


def split_tuple_adjoints(sweeps, lengths, fresh):
    """The statement lists ``sweeps`` with the adjoint of each tuple in ``lengths`` (name ->
    its number of items, ``kinds.tuple_lengths``) that they only start (``t_bar =
    zeros_like(t)``) and read or add to item by item at constant positions (``t_bar[1] += v``)
    held in one name per item (``t_bar_1 = zeros_like(t[1])``, ``t_bar_1 += v``; ``fresh``
    makes the names): a Numba tuple cannot be written, and its items may differ in type (a
    number and an array). An adjoint used whole (passed on, returned, added to as a whole)
    is kept as it is."""
    modules = [gast.Module(body=stmts, type_ignores=[]) for stmts in sweeps]
    for ident in sorted(lengths):
        items = _item_uses(modules, bar(ident), lengths[ident])
        if items is not None:
            names = {k: fresh(f"{bar(ident)}_{k}") for k in sorted(items)}
            modules = [_ItemAdjoints(ident, lengths[ident], names).visit(m) for m in modules]
    return [m.body for m in modules]


def _item_uses(modules, ident_bar, n):
    """The positions at which ``ident_bar`` is read or written, or None when it is also used
    other than through ``ident_bar[k]`` (a constant ``-n <= k < n``) or started as zeros."""
    uses, items, accounted = 0, set(), 0
    for node in (node for m in modules for node in walk(m)):
        if _is_name(node, ident_bar):
            uses += 1
        elif isinstance(node, gast.Subscript) and _is_name(node.value, ident_bar):
            k = node.slice.value if isinstance(node.slice, gast.Constant) else None
            if type(k) is not int or not -n <= k < n:
                return None
            items.add(k % n)
            accounted += 1
        elif isinstance(node, gast.Assign) and _is_name(node.targets[0], ident_bar):
            accounted += _zeros_of(node.value, ident_bar[:-len(BAR)])
    return items if items and uses == accounted else None


def _is_name(node, ident):
    return isinstance(node, gast.Name) and node.id == ident


def _zeros_of(value, ident) -> bool:
    """Whether ``value`` is ``zeros_like(ident)``."""
    return isinstance(value, gast.Call) and _is_name(value.func, "zeros_like") and \
        len(value.args) == 1 and _is_name(value.args[0], ident) and not value.keywords


class _ItemAdjoints(gast.NodeTransformer):
    """``t_bar[k]`` -> ``t_bar_k``; ``t_bar = zeros_like(t)`` -> ``t_bar_k = zeros_like(t[k])``."""

    def __init__(self, ident, n, names):
        self.ident, self.n, self.names = ident, n, names

    def visit_Subscript(self, node):
        if _is_name(node.value, bar(self.ident)):
            return name(self.names[node.slice.value % self.n], store=isinstance(node.ctx, gast.Store))
        return self.generic_visit(node)

    def visit_Assign(self, node):
        if _is_name(node.targets[0], bar(self.ident)):
            return [s for k, item in self.names.items()
                    for s in quote(f"{item} = zeros_like(t[{k}])", node.lineno, t=self.ident)]
        return self.generic_visit(node)
