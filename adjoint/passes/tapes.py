"""Typed tapes (the Numba backend): tapes of numbers held in arrays instead of lists.

Contract: accepts the resolved sweeps, the names of their list tapes and the
names that hold numbers of one type (``numbers``: name -> its ``np.empty``
dtype argument, ``""`` for floats, ``", np.int64"``, ``", np.bool_"``); returns
the tapes still kept in lists, every other one now an array of that type:

* ``preallocate``: a tape pushed once per trip of a top-level
  ``for i in range(n)`` and popped once per trip of its reversed loop is
  ``np.empty(n)`` indexed by the loop counter (``t[i] = x``, ``x = t[i]``);
* ``stack``: any other tape whose every push is ``t.append(x)`` and every pop
  ``x = t.pop()`` of such names is an array with a count of its entries,
  ``t_top`` (``t[t_top] = x; t_top += 1``, ``t_top -= 1; x = t[t_top]``). Before
  a counted loop ``reserve`` makes room for the pushes its trips make (inner
  loops make room for theirs), so the array is sized once per run of the loop,
  from the range the loop reads at that point; a push in no counted loop (a
  ``while``, a loop over an iterable) makes room for itself. ``reserve`` at
  least doubles a full array, as a list grows, so the copies cost O(1) a push.

Pushes and pops pair as on a list (last in, first out), so a tape shared by an
outer and an inner loop, by a ``while`` loop or by a loop that breaks keeps
its order.
"""
from __future__ import annotations

from collections import Counter

import gast
import numpy as np

from ..astutil import all_blocks, clone, loaded_names, quote, quote_expr, stored_names, walk, walk_stmts

_SIZES = {"len", "min", "max", "abs", "int"}  # pure calls a trip count may be made of


def preallocate(fwd, bwd, tapes, numbers, fresh):
    """Tapes pushed once per trip of a top-level counted loop become arrays indexed by its
    counter. A loop target ``_`` becomes ``fresh("i")``. Returns the tapes kept in lists."""
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
            if owner is None or owner.target.id != counter or not isinstance(value, gast.Name):
                continue
            shape = None if value.id in numbers else _fixed_shape(value.id, loop, fwd, numbers)
            if value.id not in numbers and shape is None:
                continue
            store = quote("t[i] = x", push[0][0].lineno, t=t, i=counter, x=value.id)
            if shape is None:
                _replace(loop.body, push[0][0], store)
            else:  # the array as the trip leaves it, as the list's reference shows it
                loop.body.remove(push[0][0])
                loop.body += store
            _replace(block, stmt, quote("x = t[i]", stmt.lineno, x=stmt.targets[0].id, t=t,
                                        i=counter))
            size = length if _nonnegative(length, fwd) else \
                quote_expr("max(n, 0)", n=length)  # range(-2) runs no trips
            if shape is None:
                alloc = quote("t = np.empty(n" + numbers[value.id] + ")", loop.lineno, t=t, n=clone(size))
            else:
                alloc = quote("t = np.empty(s)", loop.lineno, t=t,
                              s=gast.Tuple(elts=[clone(size)] + shape, ctx=gast.Load()))
            fwd.insert(fwd.index(loop), alloc[0])
            kept.remove(t)
            if counter == "_":
                counter = _name_counter(loop, owner, fresh("i"))
    return kept


def _fixed_shape(x, loop, fwd, numbers):
    """The shape (expressions) of the float array ``x`` on every trip of ``loop``, when each
    trip binds it once, directly in the body, to ``np.zeros``, ``np.ones`` or ``np.empty`` of
    sizes the loop leaves alone, and the trip uses it only through its elements (an int per
    axis): then no other name holds it, and its value at the end of the trip is the one the
    backward sweep reads. Else None."""
    body = gast.Module(body=loop.body, type_ignores=[])
    binds = [s for s in walk_stmts(loop.body) if isinstance(s, gast.Assign)
             and isinstance(s.targets[0], gast.Name) and s.targets[0].id == x]
    if len(binds) != 1 or binds[0] not in loop.body or any(isinstance(n, gast.Break) for n in walk(body)):
        return None
    call = binds[0].value
    if not (isinstance(call, gast.Call) and getattr(call, "callee", None) in (np.zeros, np.ones, np.empty)
            and len(call.args) == 1 and not call.keywords):
        return None
    shape = _shape_display(call.args[0], loop.body[:loop.body.index(binds[0])])
    fixed = stored_names(body) | {loop.target.id}
    if not all(isinstance(d, gast.Constant) and type(d.value) is int or
               isinstance(d, gast.Name) and d.id not in fixed for d in shape):
        return None
    elements = [n for n in walk(body) if isinstance(n, gast.Subscript) and
                isinstance(n.value, gast.Name) and n.value.id == x and _ints(n.slice, len(shape), numbers)]
    reads = [n for n in walk(body) if isinstance(n, gast.Name) and n.id == x and isinstance(n.ctx, gast.Load)]
    pushes = [s for s in loop.body if _is_push_of(s, x)]
    if any(loop.body.index(s) < loop.body.index(binds[0]) for s in pushes):
        return None  # the value before the binding (another trip's)
    return [clone(d) for d in shape] if len(reads) == len(elements) + len(pushes) else None


def _shape_display(arg, before):
    """The sizes ``arg`` gives: its items when a tuple display, or the display the last of
    ``before`` binding it is (``t1 = (2, 3)``, as normalisation names a call's arguments)."""
    if isinstance(arg, gast.Name):
        binds = [s for s in before if isinstance(s, gast.Assign) and arg.id in stored_names(s)]
        if binds and isinstance(binds[-1].value, gast.Tuple) and isinstance(binds[-1].targets[0], gast.Name):
            arg = binds[-1].value
    return arg.elts if isinstance(arg, gast.Tuple) else [arg]


def _ints(index, rank, numbers):
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return len(parts) == rank and all(isinstance(p, gast.Constant) and type(p.value) is int or
                                      isinstance(p, gast.Name) and numbers.get(p.id) == ", np.int64"
                                      for p in parts)


def _is_push_of(s, x):
    call = s.value if isinstance(s, gast.Expr) else None
    return isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
        call.func.attr == "append" and len(call.args) == 1 and \
        isinstance(call.args[0], gast.Name) and call.args[0].id == x


def stack(fwd, bwd, tapes, numbers, fresh):
    """Tapes of numbers become arrays with a count of their entries. Returns
    ``(kept, prologue, tops)``: the tapes kept in lists, the statements starting
    the others (``t = np.empty(0)``, ``t_top = 0``) and each one's count (tape -> name)."""
    pushes, pops = _sites(fwd, "append"), _sites(bwd, "pop", items=True)
    uses = Counter(n.id for n in walk(gast.Module(body=fwd + bwd, type_ignores=[]))
                   if isinstance(n, gast.Name))
    kept, prologue, tops = [], [], {}
    numbers = {**numbers, **_float_items(fwd, numbers)}
    for t in tapes:
        kind = _number_kind(t, pushes, pops, numbers, uses[t])
        if kind is None:
            kept.append(t)
            continue
        top = fresh(t + "_top")
        _size(fwd, t, top, fwd)
        prologue += quote(f"{t} = np.empty(0{kind})\n{top} = 0")
        for s, block in pushes[t]:
            _replace(block, s, quote("t[k] = x\nk += 1", s.lineno, t=t, k=top, x=clone(s.value.args[0])))
        for s, block in pops.get(t, []):
            _replace(block, s, quote("k -= 1\nx = t[k]", s.lineno, t=t, k=top, x=clone(s.targets[0])))
        tops[t] = top
    return kept, prologue, tops


def _number_kind(t, pushes, pops, numbers, uses):
    """The dtype argument of ``t``'s array when every one of its ``uses`` is a push of names of
    one type in ``numbers`` or a pop into a name; else None (it stays a list)."""
    push = pushes.get(t, [])
    if not push or uses != len(push) + len(pops.get(t, [])) or any(len(s.value.args) != 1 for s, _ in push):
        return None
    kinds = {numbers.get(_key(s.value.args[0])) for s, _ in push}
    return kinds.pop() if len(kinds) == 1 else None


def _key(value):
    """How ``numbers`` names a pushed value: a name, or the text of an element read."""
    if isinstance(value, gast.Name):
        return value.id
    return gast.dump(value) if isinstance(value, gast.Subscript) else None


def _float_items(fwd, numbers):
    """The element reads ``x[k]`` (an int per axis) the forward sweep pushes (``numbers``-style
    keys, floats) of an array ``x`` bound once, to ``np.zeros``, ``np.ones`` or ``np.empty`` of
    a shape (float64), and read only after that binding in its block: it holds that array
    whenever an element is taped (the items an in-place write overwrites)."""
    found = {}
    for block in all_blocks(fwd):
        for at, s in enumerate(block):
            call = s.value if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) else None
            if not (isinstance(call, gast.Call) and getattr(call, "callee", None) in
                    (np.zeros, np.ones, np.empty) and len(call.args) == 1 and not call.keywords):
                continue
            x = s.targets[0].id
            rank = len(_shape_display(call.args[0], block[:at]))
            later = gast.Module(body=block[at + 1:], type_ignores=[])
            everywhere = gast.Module(body=fwd, type_ignores=[])
            if _loads(everywhere, x) != _loads(later, x) or \
                    sum(1 for n in walk(everywhere) if isinstance(n, gast.Name) and n.id == x
                        and isinstance(n.ctx, gast.Store)) != 1:
                continue
            for stmt in walk_stmts(block[at + 1:]):
                item = _pushed(stmt)
                if isinstance(item, gast.Subscript) and isinstance(item.value, gast.Name) and \
                        item.value.id == x and _ints(item.slice, rank, numbers):
                    found[_key(item)] = ""
    return found


def _pushed(s):
    """What ``t.append(v)`` pushes (``v``), else None."""
    call = s.value if isinstance(s, gast.Expr) else None
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
            call.func.attr == "append" and len(call.args) == 1:
        return call.args[0]
    return None


def _loads(tree, x):
    return sum(1 for n in walk(tree) if isinstance(n, gast.Name) and n.id == x
               and isinstance(n.ctx, gast.Load))


def _size(block, t, top, fwd):
    """Room on ``t`` before its pushes in ``block``: one ``reserve`` before each run of
    statements whose pushes are counted in constants, one before each counted loop whose
    trips push a constant number (its range read just where the loop reads it); any other
    statement makes room inside."""
    run, count = None, 0
    for s in list(block):
        n = _bound(s, t, fwd)
        if isinstance(n, int):
            run, count = (run if run is not None or not n else s), count + n
            continue
        _reserve(block, run, t, top, gast.Constant(count, None))
        run, count = None, 0
        if n is None:
            for field in ("body", "orelse"):
                _size(getattr(s, field, None) or [], t, top, fwd)
        else:
            _reserve(block, s, t, top, n)
    _reserve(block, run, t, top, gast.Constant(count, None))


def _reserve(block, stmt, t, top, n):
    if stmt is not None:
        block.insert(block.index(stmt), quote("t = reserve(t, k + n)", stmt.lineno, t=t, k=top,
                                              n=n)[0])


def _bound(s, t, fwd):
    """The most pushes onto ``t`` statement ``s`` makes: an int for straight-line code, an
    expression ``n * c`` for a counted loop whose trips push ``c`` (a count of inner loops
    too, when nothing it reads changes in the loop, so the outermost loop makes room for
    all), else None."""
    if _is_push(s, t):
        return 1
    inner = [_block_bound(getattr(s, f, None) or [], t, fwd) for f in ("body", "orelse")]
    if None in inner:
        return None
    if isinstance(s, gast.If):
        return max(inner) if all(isinstance(c, int) for c in inner) else \
            quote_expr("max(a, b)", a=_expr(inner[0]), b=_expr(inner[1]))
    if not isinstance(s, (gast.For, gast.While)) or (isinstance(inner[0], int) and not inner[0]):
        return _plus(*inner)
    n = _trips(s, fwd)
    if n is None or not isinstance(inner[0], int) and \
            loaded_names(inner[0]) & (stored_names(gast.Module(body=s.body, type_ignores=[]))
                                      | {s.target.id}):
        return None
    n = n if inner[0] == 1 else quote_expr("n * c", n=n, c=_expr(inner[0]))
    return _plus(n, inner[1])


def _block_bound(block, t, fwd):
    """The most pushes onto ``t`` ``block`` makes (an int or an expression read before it
    runs), else None: also where a count reads a name the block binds (``t2 = 4 - 1`` before
    ``for _ in range(t2, t3, t4)`` in a branch), which the room made before it cannot see."""
    counts = [_bound(s, t, fwd) for s in block]
    if None in counts:
        return None
    bound_here = stored_names(gast.Module(body=block, type_ignores=[]))
    if any(not isinstance(c, int) and loaded_names(c) & bound_here for c in counts):
        return None
    total = 0
    for c in counts:
        total = _plus(total, c)
    return total


def _plus(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    if isinstance(b, int) and not b or isinstance(a, int) and not a:
        return b if isinstance(a, int) else a
    return quote_expr("a + b", a=_expr(a), b=_expr(b))


def _expr(count):
    return gast.Constant(count, None) if isinstance(count, int) else clone(count)


def _is_push(s, t) -> bool:
    call = s.value if isinstance(s, gast.Expr) else None
    return isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
        call.func.attr == "append" and isinstance(call.func.value, gast.Name) and call.func.value.id == t


def _trips(loop, fwd):
    """The trip count of ``for _ in range(...)`` as an expression of the range's arguments
    when they can be read twice (no calls but to ``_SIZES``); else None."""
    it = getattr(loop, "iter", None)
    if not (isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id == "range"
            and not it.keywords and 1 <= len(it.args) <= 3 and all(map(_pure, it.args))):
        return None
    args = [clone(a) for a in it.args]
    if len(args) == 3:
        return quote_expr("len(range(a, b, c))", a=args[0], b=args[1], c=args[2])
    if len(args) == 2 and not (isinstance(args[0], gast.Constant) and args[0].value == 0):
        return quote_expr("max(b - a, 0)", a=args[0], b=args[1])
    return args[-1] if _nonnegative(args[-1], fwd) else quote_expr("max(n, 0)", n=args[-1])


def _pure(expr) -> bool:
    """Whether ``expr`` can be evaluated early: no calls but to ``_SIZES``, no walrus."""
    for node in walk(expr):
        if isinstance(node, gast.Call) and not (isinstance(node.func, gast.Name) and
                                                node.func.id in _SIZES):
            return False
        if isinstance(node, (gast.NamedExpr, gast.Lambda, gast.Await, gast.Yield)):
            return False
    return True


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


def _sites(stmts, method, items=False):
    """Tape name -> [(statement, block holding it)] for ``t.append(x)`` or ``x = t.pop()``
    (``items``: ``x[i] = t.pop()`` too)."""
    found = {}

    def visit(block):
        for s in block:
            call = s.value if isinstance(s, (gast.Expr, gast.Assign)) else None
            if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and \
                    call.func.attr == method and isinstance(call.func.value, gast.Name) and \
                    (method == "append" or isinstance(s, gast.Assign) and
                     isinstance(s.targets[0], (gast.Name, gast.Subscript) if items else gast.Name)):
                found.setdefault(call.func.value.id, []).append((s, block))
            for field in ("body", "orelse"):
                visit(getattr(s, field, []) or [])
    visit(stmts)
    return found


def _replace(block, old, new):
    i = block.index(old)
    block[i:i + 1] = new



def booleans(fwd) -> set:
    """Names that every binding in ``fwd`` makes a comparison or a ``not`` of (of numbers,
    rank 0: booleans)."""
    stores, tests = {}, {}
    for node in walk(gast.Module(body=fwd, type_ignores=[])):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name) and (
                isinstance(node.value, gast.Compare) or
                isinstance(node.value, gast.UnaryOp) and isinstance(node.value.op, gast.Not)):
            tests[node.targets[0].id] = tests.get(node.targets[0].id, 0) + 1
    return {v for v, n in tests.items() if stores[v] == n}
