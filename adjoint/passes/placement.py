"""Marker resolution: from the reverse pass's markers to plain statements.

Contract: accepts forward and backward sweeps holding the markers of
``reverse`` and returns them as plain Python, plus the set of primal names the
backward sweep reads and the tapes used. A value goes on the tape only when
the backward sweep reads it and something overwrites it; everything else the
markers proposed is dropped here.
"""
from __future__ import annotations

import gast

from ..astutil import clone, loaded_names, quote, quote_expr, stored_names, walk, walk_stmts
from .reverse import bar, item_tape, tape
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

    def _tape(self, ident, items=False):
        """The tape of ``ident``'s values, or of the items written into it (a tape of its own:
        a block-local value is loaded at the top of its reversed block, items where undone)."""
        t = item_tape(ident) if items else tape(ident)
        if t not in self.tapes:
            self.tapes.append(t)
        return t

    def resolve(self, m):
        kind, v, line = m.marker, m.var, m.lineno
        if kind == "accumulate":
            if getattr(m, "first", False):
                return quote("x_bar = c", line, x_bar=bar(v), c=m.value)
            if v in self.dense:  # in place: a complex addend of a real adjoint gives its real part
                part = getattr(m, "real_part", None)
                c = quote_expr(part, g=m.value, x_bar=bar(v)) if part else m.value
                return quote("x_bar += c", line, x_bar=bar(v), c=c)
            return [fold_constants(s) for s in quote("x_bar = x_bar + c", line, x_bar=bar(v), c=m.value)]
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
            return quote("t.append(x)", line, t=self._tape(v), x=v)
        if kind in ("restore", "load"):
            return quote("x = t.pop()", line, t=self._tape(v), x=v)
        if kind == "save_item" and v in self.dicts:
            return quote("t.append(old_item(x, i))", line, t=self._tape(v, items=True), x=v,
                         i=clone(m.index))
        if kind == "restore_item" and v in self.dicts:
            return quote("put_back(x, i, t.pop())", line, x=v, i=clone(m.index),
                         t=self._tape(v, items=True))
        if kind == "save_item":
            item = quote_expr("x[i]", x=v, i=clone(m.index))
            if not getattr(m, "element", False):
                item = quote_expr("snapshot(item)", item=item)  # a view, or several elements
            return quote("t.append(item)", line, t=self._tape(v, items=True), item=item)
        if kind == "restore_item":
            return quote("x[i] = t.pop()", line, x=v, i=clone(m.index), t=self._tape(v, items=True))
        if kind == "restore_append":
            return quote("x.pop()", line, x=v)
        raise AssertionError(kind)


def preallocate(fwd, bwd, tapes, floats, integers, fresh):
    """Tapes of known length become arrays indexed by the loop counter (the Numba backend).

    A tape qualifies when its one push sits directly in the body of a top-level
    ``for i in range(n)`` that never rebinds ``i``, its one pop directly in the
    reversed loop, and it holds numbers: ``floats`` (real rank-0 values) or
    ``integers``. Then ``t = np.empty(n)`` (``np.empty(n, np.int64)``) before the
    loop, ``t[i] = x`` and ``x = t[i]`` replace the list's growth and pops; a
    loop target ``_`` becomes ``fresh("i")``. ``tapes`` and the result are tape
    names; the result holds those still kept in lists.
    """
    pushes = _sites(fwd, "append")
    pops = _sites(bwd, "pop")
    kept = list(tapes)
    for loop in list(fwd):
        counter, length = _counted_range(loop)
        if counter is None:
            continue
        for t in tapes:
            push, pop = pushes.get(t, []), pops.get(t, [])
            if len(push) != 1 or len(pop) != 1 or push[0][1] is not loop.body:
                continue
            stmt, block = pop[0]
            owner = next((s for s in bwd if isinstance(s, gast.For) and s.body is block), None)
            value = push[0][0].value.args[0]
            if owner is None or owner.target.id != counter or \
                    not (isinstance(value, gast.Name) and value.id in floats | integers):
                continue
            _replace(loop.body, push[0][0], quote("t[i] = x", push[0][0].lineno, t=t, i=counter,
                                                   x=value.id))
            _replace(block, stmt, quote("x = t[i]", stmt.lineno, x=stmt.targets[0].id, t=t,
                                        i=counter))
            alloc = "t = np.empty(n)" if value.id in floats else "t = np.empty(n, np.int64)"
            size = length if _nonnegative(length, fwd) else \
                quote_expr("max(n, 0)", n=length)  # range(-2) runs no trips
            fwd.insert(fwd.index(loop), quote(alloc, loop.lineno, t=t, n=clone(size))[0])
            kept.remove(t)
            if counter == "_":
                counter = _name_counter(loop, owner, fresh("i"))
    return kept


def _name_counter(loop, owner, ident):
    """Rename the loop target ``_`` (unread until the tape indexed by it) in both sweeps."""
    for node in walk(gast.Module(body=[loop, owner], type_ignores=[])):
        if isinstance(node, gast.Name) and node.id == "_":
            node.id = ident
    return ident


def _counted_range(loop):
    """(counter, length) of ``for i in range(n)`` whose body leaves ``i`` alone, else (None, None)."""
    if not (isinstance(loop, gast.For) and isinstance(loop.target, gast.Name) and
            isinstance(loop.iter, gast.Call) and isinstance(loop.iter.func, gast.Name) and
            loop.iter.func.id == "range" and not loop.iter.keywords):
        return None, None
    args = loop.iter.args
    if len(args) == 2 and isinstance(args[0], gast.Constant) and args[0].value == 0:
        args = args[1:]
    if len(args) != 1 or loop.target.id in stored_names(gast.Module(body=loop.body,
                                                                     type_ignores=[])):
        return None, None
    return loop.target.id, args[0]


def _nonnegative(length, fwd):
    """A constant >= 0, or a name bound once, to a size: ``len(a)``, ``a.shape[k]``, ``a.size``."""
    if isinstance(length, gast.Constant):
        return length.value >= 0
    v = _binding(length, fwd)
    if isinstance(v, gast.Subscript):
        v = _binding(v.value, fwd) if isinstance(v.value, gast.Name) else v.value
        return isinstance(v, gast.Attribute) and v.attr == "shape"
    if isinstance(v, gast.Attribute):
        return v.attr == "size"
    return isinstance(v, gast.Call) and getattr(v, "callee", None) is len


def _binding(node, fwd):
    """The value of the one assignment to the name ``node`` in ``fwd``, else None."""
    if not isinstance(node, gast.Name):
        return None
    values = [s.value for s in walk_stmts(fwd) if isinstance(s, gast.Assign)
              and isinstance(s.targets[0], gast.Name) and s.targets[0].id == node.id]
    return values[0] if len(values) == 1 else None


def _sites(stmts, method):
    """Tape name -> [(statement, block holding it)] for ``t.append(x)`` or ``x = t.pop()``."""
    found = {}

    def visit(block):
        for s in block:
            call = s.value if isinstance(s, (gast.Expr, gast.Assign)) else None
            if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
                    call.func.attr == method and isinstance(call.func.value, gast.Name) and \
                    (method == "append" or isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)):
                found.setdefault(call.func.value.id, []).append((s, block))
            for field in ("body", "orelse"):
                visit(getattr(s, field, []) or [])
    visit(stmts)
    return found


def _replace(block, old, new):
    block[block.index(old)] = new[0]
