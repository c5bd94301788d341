"""``nonlocal`` in the differentiated function itself: its names read and written through their cells.

Contract: ``lower(parsed)`` removes the function's own ``nonlocal`` statements. A name it only
reads stays a free name (generated code reads the cell when it runs, as Python does). A name it
rebinds becomes a local of the function, read from its cell once on entry (``calls =
cell_value(calls_cell)``); ``write_back(parsed, names)``, run once the closures pass has made
every call that rebinds it explicit, writes it back after each statement binding it
(``set_cell(calls_cell, calls)``), so the cell holds what Python's would whenever other code
could look. Each call of a derivative runs the forward sweep once, so the cell changes as one
call of the function changes it; a pullback that runs the sweep again reads the values the
first sweep read and writes nothing (``runtime.reading_cells``). The value written carries no
derivative: one that varies with ``wrt`` is refused (``objects.check_attribute_writes``), and
so are a function called here that shares the cell (its writes would not be seen) and bindings
other than assignments and loop targets (``del``, ``with ... as``, ``except ... as``, ``:=``).
"""
from __future__ import annotations

import types

import gast

from .. import runtime
from ..astutil import name, walk
from ..frontend import unsupported

_COMPREHENSIONS = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


def lower(parsed, scope_nodes) -> dict:
    """Drop the function's own ``nonlocal`` statements; {rebound name: the name of its cell}."""
    own = [s for s in scope_nodes(parsed.node.body) if isinstance(s, gast.Nonlocal)]
    if not own:
        return {}
    stored = {n.id for n in scope_nodes(parsed.node.body)
              if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))}
    first = {}
    for s in own:
        for ident in s.names:
            first.setdefault(ident, s)
    rebound = sorted(n for n in first if n in stored)
    _check_callees(parsed, scope_nodes, rebound, first)
    parsed.node.body = _without_nonlocals(parsed.node.body)
    cells = {n: _given(parsed, f"{n}_cell", parsed.resolver.cells[n]) for n in rebound}
    reader = _given(parsed, "cell_value", runtime.cell_value)
    entry = [_at(gast.Assign(targets=[name(n, store=True)], value=gast.Call(
        func=name(reader), args=[name(cells[n])], keywords=[]), type_comment=None), first[n])
        for n in rebound]
    for s in entry:
        s.cell_read = True  # the read on entry, which writes nothing back
    parsed.node.body = entry + parsed.node.body
    return cells


def write_back(parsed, cells) -> None:
    """After each statement binding a rebound name, ``set_cell(its cell, name)``."""
    if not cells:
        return
    writer = _given(parsed, "set_cell", runtime.set_cell)
    covered = set()
    parsed.node.body = _block(parsed.node.body, cells, writer, covered)
    for n in _own_bindings(parsed.node.body, cells):
        if id(n) not in covered:
            unsupported(f"rebinding the nonlocal '{n.id}' other than by an assignment or a loop",
                        n, parsed.filename, "assign it on a line of its own")


def _block(stmts, cells, writer, covered):
    out = []
    for s in stmts:
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(s, field, _block(inner, cells, writer, covered))
        for handler in getattr(s, "handlers", None) or []:
            handler.body = _block(handler.body, cells, writer, covered)
        for case in getattr(s, "cases", None) or []:
            case.body = _block(case.body, cells, writer, covered)
        out.append(s)
        if getattr(s, "cell_read", False):
            covered |= {id(t) for t in s.targets}
        elif isinstance(s, (gast.Assign, gast.AugAssign, gast.AnnAssign)):
            targets = s.targets if isinstance(s, gast.Assign) else [s.target]
            out += _writes([n for t in targets for n in _target_names(t)], cells, writer, covered, s)
        elif isinstance(s, gast.For):
            s.body = _writes(_target_names(s.target), cells, writer, covered, s) + s.body
    return out


def _writes(names, cells, writer, covered, where):
    out = []
    for n in names:
        if n.id in cells:
            covered.add(id(n))
            call = gast.Call(func=name(writer), args=[name(cells[n.id]), name(n.id)], keywords=[])
            stmt = _at(gast.Expr(value=call), where)
            stmt.cell_write = n.id  # objects.check_attribute_writes refuses an active value here
            out.append(stmt)
    return out


def _target_names(target):
    """The names an assignment target binds (not those it only reads: ``a[i] = v`` binds none)."""
    if isinstance(target, gast.Name):
        return [target]
    if isinstance(target, (gast.Tuple, gast.List)):
        return [n for t in target.elts for n in _target_names(t)]
    if isinstance(target, gast.Starred):
        return _target_names(target.value)
    return []


def _own_bindings(stmts, cells):
    """Every binding of a rebound name in this scope (comprehension variables are their own)."""
    inner = {id(n) for s in stmts for c in walk(s) if isinstance(c, _COMPREHENSIONS)
             for g in c.generators for n in walk(g.target)}
    for s in stmts:
        for n in walk(s):
            if isinstance(n, gast.Name) and n.id in cells and isinstance(n.ctx, (gast.Store, gast.Del)) \
                    and id(n) not in inner:
                yield n


def _check_callees(parsed, scope_nodes, rebound, first):
    """A function called here that holds one of the cells would rebind or read it behind the
    local copy: refused."""
    cells = {id(parsed.resolver.cells[n]): n for n in rebound}
    for call in scope_nodes(parsed.node.body):
        if not isinstance(call, gast.Call) or not isinstance(call.func, (gast.Name, gast.Attribute)):
            continue
        fn = parsed.resolver.resolve(call.func)
        shared = [cells[id(c)] for c in getattr(fn, "__closure__", None) or () if id(c) in cells] \
            if isinstance(fn, types.FunctionType) else []
        if shared:
            unsupported(f"calling '{fn.__name__}', which shares the nonlocal '{shared[0]}' with the "
                        "differentiated function", call, parsed.filename,
                        "pass the value as an argument and return the new value")


def _without_nonlocals(stmts):
    out = []
    for s in stmts:
        if isinstance(s, gast.Nonlocal):
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt) \
                    and not isinstance(s, gast.FunctionDef):
                setattr(s, field, _without_nonlocals(inner) or [_at(gast.Pass(), s)])
        for part in (getattr(s, "handlers", None) or []) + (getattr(s, "cases", None) or []):
            part.body = _without_nonlocals(part.body) or [_at(gast.Pass(), s)]
        out.append(s)
    return out


def _given(parsed, base, obj):
    """A closure cell of the function naming ``obj`` (one per object), as generated code reads it."""
    for ident, cell in parsed.resolver.cells.items():
        try:
            if cell.cell_contents is obj:
                return ident
        except ValueError:
            continue
    taken = {n.id for n in walk(parsed.node) if isinstance(n, gast.Name)} | set(parsed.resolver.cells) \
        | set(parsed.resolver.globals)
    ident, k = base, 1
    while ident in taken:
        k += 1
        ident = f"{base}{k}"
    parsed.resolver.cells[ident] = types.CellType(obj)
    return ident


def _at(stmt, where):
    stmt.lineno = getattr(where, "lineno", None)
    return stmt
