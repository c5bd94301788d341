"""Simplification of generated code.

Contract: accepts plain generated statements (no markers) and returns
equivalent statements with

* constant arithmetic folded, and the identities ``x * 1``, ``x ** 1``,
  ``x + 0``-free forms applied; never ``0 * x`` -> ``0``, which would lose
  ``x``'s shape;
* dead statements removed: assignments whose target is never read again and
  whose value has no side effect, in-place updates of dead objects, and
  branches and loops left empty;
* copies propagated: ``t_bar = y_bar`` followed by reads of ``t_bar`` reads
  ``y_bar`` directly when neither changes in between.
"""
from __future__ import annotations

import operator

import gast

from ..astutil import all_names, blocks, clone, loaded_names, name_nodes, quote_expr, root_name, walk, walk_stmts

_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
         gast.Pow: operator.pow}


class _Folder(gast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right = node.left, node.right
        lc = isinstance(left, gast.Constant) and isinstance(left.value, (int, float)) \
            and not isinstance(left.value, bool)
        rc = isinstance(right, gast.Constant) and isinstance(right.value, (int, float)) \
            and not isinstance(right.value, bool)
        op = type(node.op)
        if lc and rc and op in _FOLD:
            return gast.Constant(value=_FOLD[op](left.value, right.value), kind=None)
        if rc and right.value == 1 and op in (gast.Mult, gast.Pow, gast.Div):
            return left
        if lc and left.value == 1 and op is gast.Mult:
            return right
        if rc and right.value == 0 and op in (gast.Add, gast.Sub) and _is_int_like(left):
            return left
        if rc and op is gast.Sub and right.value < 0:
            node.op = gast.Add()
            node.right = gast.Constant(value=-right.value, kind=None)
        if op is gast.Add and isinstance(right, gast.UnaryOp) and isinstance(right.op, gast.USub):
            node.op, node.right = gast.Sub(), right.operand
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        ident = func.id if isinstance(func, gast.Name) else getattr(func, "attr", None)
        if ident in ("conj", "conjugate") and len(node.args) == 1 and not node.keywords:
            arg = node.args[0]
            if isinstance(arg, gast.Constant) and isinstance(arg.value, (int, float)):
                return arg  # the conjugate of a real constant is itself
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        operand = node.operand
        if isinstance(node.op, gast.USub) and isinstance(operand, gast.Constant) \
                and isinstance(operand.value, (int, float)):
            return gast.Constant(value=-operand.value, kind=None)
        return node


def _is_int_like(node):
    return isinstance(node, gast.Name)


def fold_constants(node):
    """``node`` with constant arithmetic folded (shapes are never folded away)."""
    if not any(isinstance(n, (gast.Constant, gast.UnaryOp)) for n in walk(node)):
        return node  # nothing to fold: spare the transformer's visit
    return _Folder().visit(node)


# -- dead code -----------------------------------------------------------------
_MUTATORS = {"append", "pop"}


def _pure_call(call) -> bool:
    func = call.func
    if isinstance(func, gast.Attribute) and func.attr in _MUTATORS:
        return False
    return getattr(call, "pure", True)


def _removable(stmt, live, shares=None) -> bool:
    if isinstance(stmt, gast.Assign):
        targets = stmt.targets[0]
        names = [targets] if not isinstance(targets, gast.Tuple) else targets.elts
        if not all(isinstance(t, gast.Name) for t in names):
            base = targets.value  # an item restored from a tape keeps its pop: tapes stay aligned
            return isinstance(base, gast.Name) and _unwritten(base.id, live, shares) and \
                _pure_calls(stmt.value)
        return not any(t.id in live for t in names) and _pure_calls(stmt.value)
    if isinstance(stmt, gast.AugAssign):
        base = stmt.target.value if isinstance(stmt.target, gast.Subscript) else stmt.target
        return isinstance(base, gast.Name) and _unwritten(base.id, live, shares)
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
        call = stmt.value
        if isinstance(call.func, gast.Name) and call.func.id == "add_at":
            return _unwritten(call.args[0].id, live, shares)
        if isinstance(call.func, gast.Attribute) and call.func.attr == "append":
            base = call.func.value
            return isinstance(base, gast.Name) and _unwritten(base.id, live, shares)
    return isinstance(stmt, gast.Pass)


def _pure_calls(value) -> bool:
    return all(_pure_call(c) for c in walk(value) if isinstance(c, gast.Call))


def _unwritten(ident, live, shares) -> bool:
    """Whether an in-place write into ``ident`` is dead: neither it nor any name sharing
    its array is live (the write is seen through every alias)."""
    return ident not in live and not (shares and ident in shares and shares[ident] & live)


def _defs(stmt):
    if isinstance(stmt, gast.Assign):
        target = stmt.targets[0]
        if isinstance(target, gast.Name):
            return {target.id}
        if isinstance(target, gast.Tuple):
            return {t.id for t in target.elts if isinstance(t, gast.Name)}
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
        return set()  # reads its target too
    return set()


def _uses(stmt):
    if isinstance(stmt, (gast.If, gast.While)):
        return loaded_names(stmt.test)
    if isinstance(stmt, gast.For):
        return loaded_names(stmt.iter)
    return loaded_names(stmt)


def dce(stmts, live_out, mutate=True, dead_pops=None, _uses_of=None, shares=None):
    """Remove dead statements; returns (statements, names live on entry).

    With ``mutate=False`` compound statements keep their bodies: only the
    liveness is wanted (a loop's fixed point iterates that way, without copies).
    ``dead_pops``, a list, collects the kept ``x = t.pop()`` whose ``x`` is dead.
    ``shares`` (``activity.sharing``): a write into ``x`` stays while any name that
    may refer to ``x``'s array is live.
    Statements keep their reads during one call (only compound bodies shrink),
    so the names each one reads are computed once, not once per loop iteration.
    """
    if _uses_of is None:
        _uses_of = {}
    out = []
    live = set(live_out)
    for stmt in reversed(stmts):
        if isinstance(stmt, gast.If):
            body, live_b = dce(stmt.body, live, mutate, dead_pops, _uses_of, shares)
            orelse, live_e = dce(stmt.orelse, live, mutate, dead_pops, _uses_of, shares)
            if not body and not orelse:
                continue
            if mutate and not body:  # if c: pass / else: B  ->  if not c: B
                stmt.test = gast.UnaryOp(op=gast.Not(), operand=stmt.test)
                body, orelse = orelse, []
            if mutate:
                stmt.body, stmt.orelse = body or [gast.Pass()], orelse
            live = live_b | live_e | _cached_uses(stmt, _uses_of)
        elif isinstance(stmt, (gast.For, gast.While)):
            after, head = set(live), set(live)
            while True:
                _, inner = dce(stmt.body, head, False, None, _uses_of, shares)
                new = head | inner | _cached_uses(stmt, _uses_of)
                if new == head:
                    break
                head = new
            body, _ = dce(stmt.body, head, mutate, dead_pops, _uses_of, shares)
            if not body and isinstance(stmt, gast.For) and stmt.target.id not in after:
                continue  # a loop whose target is read afterwards binds it: it stays
            if mutate:
                stmt.body = body or [gast.Pass()]
            live = head | _cached_uses(stmt, _uses_of)
            if isinstance(stmt, gast.For) and stmt.target.id not in after:
                live.discard(stmt.target.id)  # (read after an empty loop, the old value is)
        elif isinstance(stmt, gast.Break):
            live = live | set(live_out)
        elif _removable(stmt, live, shares):
            continue
        else:
            if mutate and dead_pops is not None and popped_tape(stmt) and \
                    stmt.targets[0].id not in live:
                dead_pops.append(stmt)
            live = (live - _defs(stmt)) | _cached_uses(stmt, _uses_of)
        out.append(stmt)
    out.reverse()
    return out, live


def _cached_uses(stmt, cache):
    """``_uses(stmt)``, remembered by id with ``stmt`` itself, which keeps the id its own."""
    found = cache.get(id(stmt))
    if found is None:
        found = cache[id(stmt)] = (stmt, _uses(stmt))
    return found[1]


def popped_tape(stmt):
    """The tape of ``x = t.pop()``, else None."""
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and \
            isinstance(stmt.value, gast.Call) and not stmt.value.args:
        func = stmt.value.func
        if isinstance(func, gast.Attribute) and func.attr == "pop" and \
                isinstance(func.value, gast.Name) and func.value.id.endswith("_tape"):
            return func.value.id
    return None


def dead_restores(stmts, live_out):
    """Drop the pops of a tape none of whose restored values is read again.

    A value is taped when the backward sweep reads its variable after an
    overwrite, but the read may come before the restore (``s_bar = 1 / s``
    before a loop that rebinds ``s``). Returns the statements with dead code
    removed (``dce``), the pops, pushes and creation of such tapes included.
    """
    dead, uses = [], {}  # dce changes only bodies, which no statement's own reads include
    stmts, _ = dce(stmts, live_out, dead_pops=dead, _uses_of=uses)
    pops = {}
    for s in walk_stmts(stmts):
        t = popped_tape(s)
        if t:
            pops.setdefault(t, []).append(s)
    dead_ids = {id(s) for s in dead}
    gone = {t for t, sites in pops.items() if all(id(s) in dead_ids for s in sites)}
    return dce(_without_pops(stmts, gone), live_out, _uses_of=uses)[0] if gone else stmts


def _without_pops(stmts, tapes):
    out = []
    for s in stmts:
        if popped_tape(s) in tapes:
            continue
        for field in ("body", "orelse"):
            if getattr(s, field, None):
                setattr(s, field, _without_pops(getattr(s, field), tapes) or [gast.Pass()])
        out.append(s)
    return out


def unused_loop_targets(stmts, reads=None):
    """Name the target of a loop ``_`` when nothing reads it (after the loop neither)."""
    if reads is None:
        reads = set().union(*(loaded_names(s) for s in stmts))
    for s in stmts:
        if isinstance(s, gast.For) and isinstance(s.target, gast.Name) and s.target.id not in reads:
            s.target.id = "_"
        for field in ("body", "orelse"):
            unused_loop_targets(getattr(s, field, []) or [], reads)
    return stmts


# -- peepholes -------------------------------------------------------------------
def _mentions(stmt, ident):
    return ident in all_names(stmt)


def _changed_names(stmt):
    """Names a statement rebinds or mutates (in-place writes, list appends and pops)."""
    out = set()
    for node in walk(stmt):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            out.add(node.id)
        elif isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(node.ctx, gast.Store):
            out.update({root_name(node)} - {None})
        elif isinstance(node, gast.AugAssign):
            out.update({root_name(node.target)} - {None})
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and isinstance(node.func.value, gast.Name) and node.func.attr in _MUTATORS:
            out.add(node.func.value.id)
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
                and node.func.id == "add_at" and isinstance(node.args[0], gast.Name):
            out.add(node.args[0].id)
    return out


def zero_then_add(stmts):
    """``v = 0.0`` followed, with nothing reading ``v`` between, by ``v = v + c`` becomes ``v = c``."""
    out = list(stmts)
    i = 0
    while i < len(out):
        s = out[i]
        for field in ("body", "orelse"):
            if getattr(s, field, None):
                setattr(s, field, zero_then_add(getattr(s, field)))
        ident = _zero_init(s)
        if ident:
            for j in range(i + 1, len(out)):
                if not _mentions(out[j], ident):
                    continue
                c = _self_add(out[j], ident)
                if c is not None:
                    out[j].value = c
                    del out[i]
                    i -= 1
                break
        i += 1
    return out


def copy_then_add(stmts):
    """``v = a`` followed, with nothing reading ``v`` or changing ``a`` between, by
    ``v = v + c`` becomes ``v = a + c`` (``a`` a name: the copy an idle ``unbroadcast``
    left, ``z_bar = t5_bar``, meeting a second contribution)."""
    out = list(stmts)
    for s in out:
        for field in ("body", "orelse"):
            if getattr(s, field, None):
                setattr(s, field, copy_then_add(getattr(s, field)))
    i = 0
    while i < len(out):
        j = _added_after_copy(out, i)
        if j is None:
            i += 1
            continue
        added = _self_add(out[j], out[i].targets[0].id)
        out[j].value = gast.BinOp(left=out[i].value, op=gast.Add(), right=added)
        del out[i]
    return out


def _added_after_copy(stmts, i):
    """The position of the ``v = v + c`` that the copy ``stmts[i]`` (``v = a``) can join."""
    s = stmts[i]
    if not (_assigns_name(s) and isinstance(s.value, gast.Name) and s.value.id != s.targets[0].id):
        return None
    ident, source = s.targets[0].id, s.value.id
    for j in range(i + 1, len(stmts)):
        if _mentions(stmts[j], ident):
            return j if _self_add(stmts[j], ident) is not None else None
        if source in _changed_names(stmts[j]):
            return None
    return None


def double_repeats(stmts):
    """Two equal contributions in a row (the halves of ``x * x``'s adjoint) become one, doubled.

    ``v = E`` (or ``v = v + E``) then ``v = v + E`` gives ``v = 2 * E`` (or
    ``v = v + 2 * E``): ``E + E`` and ``2 * E`` are the same number in floating
    point. ``E`` must not read ``v`` and must be free of calls that change state.
    """
    out = []
    for s in stmts:
        for field in ("body", "orelse"):
            if getattr(s, field, None):
                setattr(s, field, double_repeats(getattr(s, field)))
        prev = out[-1] if out else None
        added = _self_add(s, s.targets[0].id) if _assigns_name(s) else None
        if prev is not None and added is not None and _assigns_name(prev) \
                and prev.targets[0].id == s.targets[0].id:
            ident = s.targets[0].id
            before = _self_add(prev, ident)
            holder = prev.value if before is not None else prev
            field = "right" if before is not None else "value"
            term = getattr(holder, field)
            if ident not in all_names(term) and _pure_value(term) \
                    and gast.dump(term) == gast.dump(added):
                setattr(holder, field, gast.BinOp(left=gast.Constant(value=2, kind=None),
                                                  op=gast.Mult(), right=term))
                continue
        out.append(s)
    return out


def _assigns_name(s):
    return isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)


def accumulate_in_place(stmts, eligible):
    """``v = v + c`` becomes ``v += c`` (``v = v + -c``: ``v -= c``) where ``v`` holds an array
    nothing else references.

    ``v`` (one of ``eligible``: adjoints known to be real, so a contribution
    never turns the sum complex) is *owned* after ``v = <arithmetic>`` or
    ``v = unbroadcast(<arithmetic>, x)``, which make a fresh array (or a
    number, for which ``+=`` rebinds as ``+`` does), and stays owned while it is
    read only as an operand of arithmetic. Any other read (a call argument, a
    subscript, a copy) might alias it, and ends ownership; so do nested blocks,
    which start with nothing owned. Saves one allocation per accumulation.
    """
    owned = set()
    for k, s in enumerate(stmts):
        for field in ("body", "orelse"):
            if getattr(s, field, None):
                setattr(s, field, accumulate_in_place(getattr(s, field), eligible))
        if not isinstance(s, gast.Assign) or not isinstance(s.targets[0], gast.Name):
            owned -= all_names(s)
            continue
        ident = s.targets[0].id
        value = s.value
        if ident in owned and isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add) \
                and isinstance(value.left, gast.Name) and value.left.id == ident \
                and _operand_reads_only(value.right, ident):
            negated = isinstance(value.right, gast.UnaryOp) and isinstance(value.right.op, gast.USub)
            stmts[k] = gast.AugAssign(target=s.targets[0], op=gast.Sub() if negated else gast.Add(),
                                      value=value.right.operand if negated else value.right)
            stmts[k].lineno = s.lineno
            continue
        owned -= {n for n in owned & loaded_names(value) if not _operand_reads_only(value, n)}
        owned.discard(ident)
        if ident in eligible and _fresh(value) and _operand_reads_only(value, ident):
            owned.add(ident)
    return stmts


def _fresh(value):
    """Arithmetic, or ``unbroadcast`` of arithmetic: a new object, never one a name holds."""
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
            and value.func.id == "unbroadcast" and len(value.args) == 2:
        value = value.args[0]
    return isinstance(value, (gast.BinOp, gast.UnaryOp))


def _operand_reads_only(expr, ident):
    """Whether every read of ``ident`` in ``expr`` is an operand of arithmetic or a comparison."""
    total = safe = 0
    for node in walk(expr):
        if isinstance(node, gast.Name) and node.id == ident:
            total += 1
        elif isinstance(node, gast.BinOp):
            safe += sum(isinstance(o, gast.Name) and o.id == ident for o in (node.left, node.right))
        elif isinstance(node, gast.UnaryOp):
            safe += isinstance(node.operand, gast.Name) and node.operand.id == ident
        elif isinstance(node, gast.Compare):
            safe += sum(isinstance(o, gast.Name) and o.id == ident
                        for o in [node.left] + node.comparators)
    return total == safe


def _zero_init(s):
    """``v`` of ``v = 0.0`` or of ``v = zeros_like(x)`` (a first contribution has x's shape)."""
    if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)):
        return None
    value = s.value
    if isinstance(value, gast.Constant) and type(value.value) is float and value.value == 0.0:
        return s.targets[0].id
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
            and value.func.id == "zeros_like" and not _is_bar(value.args[0]):
        return s.targets[0].id
    return None


def _is_bar(node):
    return isinstance(node, gast.Name) and node.id.endswith("_bar")


def _self_add(s, ident):
    if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
            and s.targets[0].id == ident and isinstance(s.value, gast.BinOp) \
            and isinstance(s.value.op, gast.Add) and isinstance(s.value.left, gast.Name) \
            and s.value.left.id == ident and not _mentions(s.value.right, ident):
        return s.value.right
    return None


def _pure_value(value):
    if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Subscript, gast.Attribute)):
        return all(_pure_call(c) for c in walk(value) if isinstance(c, gast.Call))
    if isinstance(value, gast.Call):
        return all(_pure_call(c) for c in walk(value) if isinstance(c, gast.Call))
    return False


def _count_names(stmts):
    """How many times each name is read, and bound, anywhere in ``stmts``."""
    loads, stores = {}, {}
    load_class = gast.Load
    for n in name_nodes(*stmts):
        table = loads if n.ctx.__class__ is load_class else stores
        table[n.id] = table.get(n.id, 0) + 1
    return loads, stores


def inline_temps(stmts, temps):
    """Fold each single-use temporary back into the one expression that reads it.

    Only temporaries adjoint introduced, assigned once, read once, later in
    the same block and outside nested blocks, with nothing in between
    changing what their value reads.
    """
    loads, stores = _count_names(stmts)
    return _inline_block(stmts, temps, loads, stores, {})


def _inline_block(stmts, temps, loads, stores, names):
    """``names`` as in ``_propagate_block``: a statement's names, kept until it changes."""
    out = list(stmts)
    i = 0
    while i < len(out):
        s = out[i]
        for field in ("body", "orelse"):
            if getattr(s, field, None):
                setattr(s, field, _inline_block(getattr(s, field), temps, loads, stores, names)
                        or [gast.Pass()])
        names.pop(id(s), None)
        target = s.targets[0] if isinstance(s, gast.Assign) else None
        if isinstance(target, gast.Name) and target.id in temps and loads.get(target.id) == 1 \
                and stores.get(target.id) == 1 and _pure_value(s.value) \
                and _inline_into(out, i, target.id, s.value, names):
            del out[i]
            continue
        i += 1
    return out


MAX_LINE = 88  # inlining never makes a generated line longer than this


def _inline_into(stmts, i, ident, value, names):
    reads = loaded_names(value)
    for j in range(i + 1, len(stmts)):
        s = stmts[j]
        if _header_mentions(s, ident, names):
            if not ident.endswith("_bar") and _assigns_adjoint(s):
                return False  # keep the forward sweep's values visible in the backward sweep
            candidate = clone(s)
            _substitute(candidate, ident, value)
            if _line_bound(candidate) > MAX_LINE and len(_header_source(candidate)) > MAX_LINE:
                return False
            stmts[j] = candidate
            return True
        if ident in _mentioned(s, names) or _changed(s, names) & reads:
            return False
    return False


def _assigns_adjoint(s):
    return any(isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and n.id.endswith("_bar")
               for n in walk(s))


def _header_source(s):
    from ..emit import expr_source
    if isinstance(s, (gast.If, gast.While)):
        return "if " + expr_source(s.test)
    if isinstance(s, gast.For):
        return "for _ in " + expr_source(s.iter)
    return expr_source(s)


def _line_bound(s) -> int:
    """An upper bound of ``len(_header_source(s))``, or just over ``MAX_LINE`` (see _longest)."""
    if isinstance(s, (gast.If, gast.While)):
        return _longest(s.test) + len("if ")
    return _longest(s.iter) + len("for _ in ") if isinstance(s, gast.For) else _longest(s)


# The most characters printed around a node of each kind (operators with their spaces,
# parentheses, a comma and space before it, ``for _ in`` before a loop's sequence).
_AROUND = {gast.Return: 8, gast.Delete: 5, gast.Assert: 10, gast.Raise: 13, gast.cmpop: 8, gast.operator: 5, gast.unaryop: 4, gast.expr_context: 0,
           gast.IfExp: 14, gast.Lambda: 14, gast.comprehension: 16, gast.Starred: 6}
_SPELLED = {gast.Name: "id", gast.Attribute: "attr", gast.keyword: "arg"}


def _longest(node) -> int:
    """An upper bound of the printed length of ``node``, without printing it (which is
    slow): its names, attributes and constants' reprs, and what may surround each node;
    just over ``MAX_LINE`` for an f-string, whose length only printing tells."""
    total = 0
    for n in walk(node):
        kind = n.__class__
        field = _SPELLED.get(kind)
        if field is not None:
            total += len(getattr(n, field) or "")
        elif kind is gast.Constant:
            total += len(repr(n.value))
        elif kind is gast.BoolOp:
            total += 5 * len(n.values)  # " and " between each two
        elif kind is gast.JoinedStr:
            return MAX_LINE + 1  # braces doubled, quotes chosen: only printing tells
        total += next((v for k, v in _AROUND.items() if isinstance(n, k)), 4)
    return total


def _header_mentions(s, ident, names):
    """Whether ``ident`` is read by ``s`` itself, not by a block nested in it."""
    if isinstance(s, (gast.If, gast.While)):
        return _mentions(s.test, ident)
    if isinstance(s, gast.For):
        return _mentions(s.iter, ident)
    return ident in _mentioned(s, names)


class _Replace(gast.NodeTransformer):
    def __init__(self, ident, value):
        self.ident, self.value = ident, value

    def visit_Name(self, node):
        if node.id == self.ident and isinstance(node.ctx, gast.Load):
            return self.value
        return node


def _substitute(s, ident, value):
    replacer = _Replace(ident, value)
    if isinstance(s, (gast.If, gast.While)):
        s.test = replacer.visit(s.test)
    elif isinstance(s, gast.For):
        s.iter = replacer.visit(s.iter)
    else:
        replacer.visit(s)


def propagate_copies(stmts, temps):
    """Replace a temporary ``a`` bound by the copy ``a = b`` with ``b`` wherever ``b`` still holds.

    Applies when ``a`` is bound once and ``b`` is not rebound before the last
    statement of the block that reads ``a``.
    """
    _, stores = _count_names(stmts)
    return _propagate_block(stmts, temps, stores, {})


def _propagate_block(stmts, temps, stores, names):
    """``names``: id -> (statement, the names it mentions), dropped when the statement changes,
    so each copy's search for its readers does not walk the rest of the block again."""
    out = list(stmts)
    i = 0
    while i < len(out):
        s = out[i]
        for field in ("body", "orelse"):
            if getattr(s, field, None):
                setattr(s, field, _propagate_block(getattr(s, field), temps, stores, names)
                        or [gast.Pass()])
        names.pop(id(s), None)
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                and isinstance(s.value, gast.Name) and s.targets[0].id in temps \
                and stores.get(s.targets[0].id) == 1 and _copy_holds(out, i, names):
            del out[i]
            continue
        i += 1
    return out


def _mentioned(stmt, names):
    """``all_names(stmt)``, remembered in ``names`` (which keeps ``stmt``, so its id stays its)."""
    return _facts_of(stmt, names)[1]


def _changed(stmt, names):
    """``_changed_names(stmt)``, remembered as ``_mentioned`` remembers."""
    entry = _facts_of(stmt, names)
    if entry[2] is None:
        entry[2] = _changed_names(stmt)
    return entry[2]


def _facts_of(stmt, names):
    entry = names.get(id(stmt))
    if entry is None:
        entry = names[id(stmt)] = [stmt, all_names(stmt), None]
    return entry


def _copy_holds(stmts, i, names):
    a, b = stmts[i].targets[0].id, stmts[i].value.id
    users = [j for j in range(i + 1, len(stmts)) if a in _mentioned(stmts[j], names)]
    if not users:
        return True
    for j in range(i + 1, users[-1] + 1):
        changed = _changed(stmts[j], names)
        if b in changed and not (j == users[-1] and _only_own_target(stmts[j], b)) \
                and not _is_copy(stmts[j], b, a):
            return False
    replacer = _Replace(a, gast.Name(id=b, ctx=gast.Load(), annotation=None, type_comment=None))
    for j in users:
        replacer.visit(stmts[j])
        names.pop(id(stmts[j]), None)
    for j in users:
        t = stmts[j]
        if isinstance(t, gast.Assign) and isinstance(t.value, gast.Name) \
                and isinstance(t.targets[0], gast.Name) and t.targets[0].id == t.value.id:
            stmts[j] = gast.Pass()  # b = b after propagation
    return True


def _is_copy(stmt, target, source):
    """``target = source``: after ``source = target`` it changes nothing."""
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
        and stmt.targets[0].id == target and isinstance(stmt.value, gast.Name) \
        and stmt.value.id == source


def _only_own_target(stmt, ident):
    """A simple statement that rebinds ``ident`` only as its target (reads happen first)."""
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
        and stmt.targets[0].id == ident


class _Unspread(gast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.Mult):
            node.left = _unspread(node.left, node.right)
            node.right = _unspread(node.right, node.left)
        return node


def _unspread(side, other):
    """``unreduce(g, x, axis, keepdims)`` beside ``* x``: ``g`` with its axes back, not spread."""
    if not (isinstance(side, gast.Call) and isinstance(side.func, gast.Name)
            and side.func.id == "unreduce" and len(side.args) == 4 and not side.keywords):
        return side
    g, x, axis, keepdims = side.args
    if not (isinstance(x, gast.Name) and isinstance(other, gast.Name) and other.id == x.id
            and isinstance(keepdims, gast.Constant) and isinstance(axis, (gast.Constant, gast.Name))):
        return side
    if keepdims.value is True or (isinstance(axis, gast.Constant) and axis.value is None):
        return g
    return quote_expr("np.expand_dims(g, axis)", g=g, axis=axis)


def unspread_reductions(stmts):
    """The adjoint of a reduction of ``x`` times ``x`` itself needs no array of ``x``'s shape.

    ``unreduce(g, x, ...) * x`` (a sum's adjoint meeting ``exp``'s, as in every
    softmax) spreads ``g`` over ``x``'s shape only for the product to do it
    again; ``g`` with the reduced axes restored broadcasts against ``x`` to the
    same values and shape.
    """
    for s in walk_stmts(stmts):
        if isinstance(s, (gast.Assign, gast.AugAssign)):
            s.value = _Unspread().visit(s.value)
    loads, stores = _count_names(stmts)
    _unspread_temps(stmts, {v for v, n in loads.items() if n == 1 and stores.get(v) == 1})
    return stmts


def _unspread_temps(stmts, once):
    """``v = unreduce(g, x, ...)`` whose one use, later in the block, is ``v * x``."""
    for k, s in enumerate(stmts):
        for field in ("body", "orelse"):
            if getattr(s, field, None):
                _unspread_temps(getattr(s, field), once)
        if not (_assigns_name(s) and s.targets[0].id in once and isinstance(s.value, gast.Call)):
            continue
        v, x = s.targets[0].id, s.value.args[1] if len(s.value.args) == 4 else None
        for later in stmts[k + 1:]:
            if v in all_names(later):
                if isinstance(later, gast.Assign) and isinstance(x, gast.Name) and \
                        _multiplies(later.value, v, x.id):
                    s.value = _unspread(s.value, x)
                break
            if isinstance(x, gast.Name) and x.id in _changed_names(later):
                break


def _multiplies(expr, a, b):
    """Whether ``expr`` holds ``a * b`` or ``b * a`` (names)."""
    return any(isinstance(n, gast.BinOp) and isinstance(n.op, gast.Mult)
               and {getattr(n.left, "id", None), getattr(n.right, "id", None)} == {a, b}
               for n in walk(expr))


def strip_conj(expr, real, neutral):
    """``conj(e)`` -> ``e`` where every name in ``e`` is real or ``neutral`` (modules, helpers)."""
    if not any(n.id == "conj" for n in name_nodes(expr)):
        return expr

    class _Strip(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            func = node.func
            if isinstance(func, gast.Name) and func.id == "conj" and len(node.args) == 1 \
                    and _all_real(node.args[0], real, neutral):
                return node.args[0]
            return node
    return _Strip().visit(expr)


def _all_real(expr, real, neutral):
    for n in walk(expr):
        if isinstance(n, gast.Constant) and isinstance(n.value, complex):
            return False
        if isinstance(n, gast.Name) and n.id not in neutral and n.id not in real \
                and not (n.id.endswith("_bar") and n.id[:-4] in real):
            return False
    return True


def logistic_without_logaddexp(stmts):
    """``t = np.logaddexp(a, b)`` read only by ``np.exp(b - t)`` or ``np.exp(a - t)`` (its
    derivatives, where the loss itself is not needed): each reads ``logistic(b - a)`` (or
    ``logistic(a - b)``) and ``t`` is not computed — the same values with one ``exp`` each
    instead of ``logaddexp``'s ``exp`` and ``log1p`` and the ``exp`` of its derivatives (and no
    ``inf - inf`` at infinite arguments). Real functions only."""
    loads, stores = _count_names(stmts)
    written = _written_names(stmts)
    for block in _blocks(stmts):
        for s in list(block):
            pair = _logaddexp_binding(s, loads, stores, written)
            sites = pair and _exp_readers(block[block.index(s) + 1:], *pair)
            if sites and len(sites) == loads[pair[0]]:
                for put, gap in sites:
                    put(quote_expr("logistic(d)", d=gap))
                block.remove(s)
    return stmts


def _blocks(stmts):
    yield stmts
    for s in walk_stmts(stmts):
        for field in ("body", "orelse"):
            if getattr(s, field, None):
                yield getattr(s, field)


def _written_names(stmts):
    """Names changed in place somewhere (``a[i] = v``, ``a += v``, ``add_at(a, i, v)``) or bound
    more than once."""
    _, stores = _count_names(stmts)
    out = {v for v, n in stores.items() if n > 1}
    for s in walk_stmts(stmts):
        target = s.targets[0] if isinstance(s, gast.Assign) else getattr(s, "target", None)
        while isinstance(target, (gast.Subscript, gast.Attribute)):
            target = target.value
        if isinstance(target, gast.Name) and not (isinstance(s, gast.Assign) and target is s.targets[0]):
            out.add(target.id)
        if isinstance(s, gast.Expr):  # a call for its effect may change what it is given
            out |= loaded_names(s)
    return out


def _logaddexp_binding(s, loads, stores, written):
    """(t, a, b) for ``t = np.logaddexp(a, b)`` of names or numbers that nothing changes,
    ``t`` bound once and read once or twice; else None."""
    if not (_assigns_name(s) and _np_call(s.value, "logaddexp") and len(s.value.args) == 2):
        return None
    t = s.targets[0].id
    a, b = s.value.args
    atoms = all(isinstance(x, gast.Name) and x.id not in written or
                isinstance(x, gast.Constant) and type(x.value) in (int, float) for x in (a, b))
    if not atoms or loads.get(t) not in (1, 2) or stores.get(t) != 1:
        return None
    return t, a, b


def _exp_readers(later, t, a, b):
    """(put, gap) for each ``np.exp(x - t)`` in ``later`` (``x`` is ``a`` or ``b``): ``put``
    replaces it, ``gap`` is ``x`` minus the other one."""
    sites = []
    for node in walk(gast.Module(body=later, type_ignores=[])):
        for field in node._fields:
            value = getattr(node, field, None)
            for k, item in enumerate(value if isinstance(value, list) else [value]):
                x = _exp_minus(item, t)
                if x is not None and (_same_atom(x, a) or _same_atom(x, b)):
                    other = b if _same_atom(x, a) else a
                    gap = x if _is_zero(other) else quote_expr("x - o", x=x, o=other)
                    sites.append((_setter(node, field, k if isinstance(value, list) else None), gap))
    return sites


def _setter(node, field, k):
    if k is None:
        return lambda new: setattr(node, field, new)
    return lambda new: getattr(node, field).__setitem__(k, new)


def _exp_minus(node, t):
    """``x`` where ``node`` is ``np.exp(x - t)``."""
    if not (_np_call(node, "exp") and len(node.args) == 1):
        return None
    d = node.args[0]
    if isinstance(d, gast.BinOp) and isinstance(d.op, gast.Sub) and \
            isinstance(d.right, gast.Name) and d.right.id == t:
        return d.left
    return None


def _np_call(node, attr) -> bool:
    """Whether ``node`` is ``np.<attr>(...)`` without keywords."""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
        node.func.attr == attr and getattr(node.func.value, "id", None) == "np" and not node.keywords


def _same_atom(x, y) -> bool:
    if isinstance(x, gast.Name) and isinstance(y, gast.Name):
        return x.id == y.id
    return isinstance(x, gast.Constant) and isinstance(y, gast.Constant) and x.value == y.value


def _is_zero(node) -> bool:
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) and node.value == 0


def extremum_in_place(stmts):
    """``v += extremum_grad(g, x, ans, ...)`` becomes ``v = add_extremum_grad(v, g, x, ans, ...)``:
    the shares go straight into ``v`` at the entries that attain the extremum, instead of an
    array of ``x``'s size made and then added. For real adjoints only (``v``'s dtype holds the
    share, as ``+=`` needs too).
    """
    for k, s in enumerate(stmts):
        for block in blocks(s):
            extremum_in_place(block)
        if _adds_extremum(s):
            target = gast.Name(id=s.target.id, ctx=gast.Load(), annotation=None, type_comment=None)
            call = gast.Call(func=gast.Name(id="add_extremum_grad", ctx=gast.Load(), annotation=None,
                                            type_comment=None),
                             args=[target, *s.value.args], keywords=s.value.keywords)
            stmts[k] = gast.copy_location(gast.Assign(targets=[s.target], value=call,
                                                      type_comment=None), s)
    return stmts


def _adds_extremum(s) -> bool:
    if not (isinstance(s, gast.AugAssign) and isinstance(s.op, gast.Add)
            and isinstance(s.target, gast.Name) and isinstance(s.value, gast.Call)
            and isinstance(s.value.func, gast.Name) and s.value.func.id == "extremum_grad"):
        return False
    return s.target.id not in all_names(s.value)


def shared_sums(stmts, adjoints, fresh):
    """A sum ``v_bar.sum(...)`` of one of ``adjoints`` computed twice in one block, ``v_bar``
    unchanged in between, is computed once into a name from ``fresh()`` (the softmax's
    adjoint sums ``logp_bar`` over a row both for ``z`` and for the max it subtracts). An
    adjoint is an array or a number, whose ``sum`` has no effect."""
    for s in stmts:
        for block in blocks(s):
            shared_sums(block, adjoints, fresh)
    known = {}  # (summed name, the sum's text) -> its first statement, or the name holding it
    for s in list(stmts):
        for key, call in _adjoint_sums(s, adjoints):
            first = known.setdefault(key, s)
            if isinstance(first, str) or first is not s:
                known[key] = first if isinstance(first, str) else _share_sum(stmts, first, call, fresh())
                _SumReader(key, known[key]).visit(s)
        changed = _changed_names(s)
        known = {key: v for key, v in known.items() if key[0] not in changed}
    return stmts


def _adjoint_sums(s, adjoints):
    """``(key, call)`` of each ``v_bar.sum(...)`` the simple statement ``s`` computes."""
    if not isinstance(s, (gast.Assign, gast.AugAssign)):
        return []
    return [(_sum_key(n, adjoints), n) for n in walk(s.value) if _sum_key(n, adjoints)]


def _sum_key(node, adjoints):
    if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
            and node.func.attr == "sum" and isinstance(node.func.value, gast.Name) \
            and node.func.value.id in adjoints and all(map(_constant, node.args)) \
            and all(_constant(k.value) for k in node.keywords):
        return node.func.value.id, gast.dump(node)
    return None


def _constant(node) -> bool:
    return isinstance(node, gast.Constant) or \
        isinstance(node, gast.Tuple) and all(isinstance(e, gast.Constant) for e in node.elts)


def _share_sum(stmts, first, call, ident):
    """Bind ``ident`` to ``call`` before the statement ``first``, which then reads it."""
    target = gast.Name(id=ident, ctx=gast.Store(), annotation=None, type_comment=None)
    binding = gast.Assign(targets=[target], value=clone(call), type_comment=None)
    stmts.insert(stmts.index(first), gast.copy_location(binding, first))
    _SumReader((call.func.value.id, gast.dump(call)), ident).visit(first)
    return ident


class _SumReader(gast.NodeTransformer):
    """Reads ``ident`` for each sum of text ``key``."""

    def __init__(self, key, ident):
        self.key, self.ident = key, ident

    def visit_Call(self, node):
        if _sum_key(node, {self.key[0]}) == self.key:
            return gast.Name(id=self.ident, ctx=gast.Load(), annotation=None, type_comment=None)
        return self.generic_visit(node)


def common_factors(stmts):
    """``v = a * X`` then ``v += a * Y`` becomes ``v = a * (X + Y)`` (``v = -a * X``: ``a * (Y
    - X)``), one product fewer, as a person factors the gradient of a mean (logistic
    regression's ``z_bar = t3_bar * (logistic(z) - y)``). ``a`` is one name; ``X`` and ``Y``
    are free of effects and of ``v``."""
    out = []
    for s in stmts:
        for block in blocks(s):
            block[:] = common_factors(block)
        merged = _factored(out[-1], s) if out else None
        if merged is not None:
            out[-1] = gast.copy_location(merged, out[-1])
            continue
        out.append(s)
    return out


def _factored(first, second):
    """The one assignment of ``v = a * X; v += a * Y``, or None."""
    if not (_assigns_name(first) and isinstance(second, gast.AugAssign)
            and isinstance(second.op, gast.Add) and isinstance(second.target, gast.Name)
            and second.target.id == first.targets[0].id):
        return None
    (a, negated), x = _scaled(first.value)
    (b, again), y = _scaled(second.value)
    reads = all_names(first.value) | all_names(second.value)
    if a is None or a != b or again or first.targets[0].id in reads or not _plain(x) \
            or not _plain(y):
        return None
    inner = gast.BinOp(left=y, op=gast.Sub(), right=x) if negated else \
        gast.BinOp(left=x, op=gast.Add(), right=y)
    scale = gast.Name(id=a, ctx=gast.Load(), annotation=None, type_comment=None)
    return gast.Assign(targets=first.targets, type_comment=None,
                       value=gast.BinOp(left=scale, op=gast.Mult(), right=inner))


def _plain(node) -> bool:
    return isinstance(node, (gast.Name, gast.Constant)) or _pure_value(node)


def _scaled(value):
    """``((a, negated), X)`` for ``a * X`` or ``-a * X`` with ``a`` a name; else ``((None,
    False), None)``."""
    if not (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Mult)):
        return (None, False), None
    left = value.left
    negated = isinstance(left, gast.UnaryOp) and isinstance(left.op, gast.USub)
    name = left.operand if negated else left
    if not isinstance(name, gast.Name):
        return (None, False), None
    return (name.id, negated), value.right


class _ScalarsFirst(gast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, gast.Mult):
            return node
        for factor, product in ((node.left, node.right), (node.right, node.left)):
            if _power_of_two(factor) and isinstance(product, gast.BinOp) \
                    and isinstance(product.op, gast.Mult):
                return _regrouped(factor, product) or node
        return node


def _regrouped(k, product):
    """``product`` with ``k`` multiplying its adjoint operand, or None if it has none."""
    for side in ("left", "right"):
        operand = getattr(product, side)
        if _is_bar(operand):
            setattr(product, side, gast.BinOp(left=k, op=gast.Mult(), right=operand))
            return product
    return None


def scalars_first(stmts):
    """``2 * (a_bar * X)`` becomes ``(2 * a_bar) * X``: where the adjoint is a number, one
    pass over the array ``X`` fewer (``x * x``'s adjoint doubled by ``double_repeats``: a
    weight decay's ``2 * lam * w``), and never more passes than before. A power of two
    scales a product exactly, element by element, so the numbers are the same whatever the
    shapes. The factor moves onto an adjoint only: a floating-point value (an integer could
    overflow once doubled)."""
    folder = _ScalarsFirst()
    return [folder.visit(s) for s in stmts]


def _power_of_two(node) -> bool:
    value = node.value if isinstance(node, gast.Constant) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return False
    return float(value).hex().startswith("0x1.0000000000000p")
