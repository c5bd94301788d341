"""Comprehensions and the built-ins that iterate, lowered to the loops a person would write.

Contract: the normaliser calls ``lower`` for a ``ListComp``, ``SetComp``, ``DictComp`` or
``GeneratorExp`` and ``call`` for every call of a known function, with itself (``norm``) and
the list ``out`` that receives the statements computing the value; both return the value
(an atom or an operation), ``call`` returns None for a call it leaves alone. Because this
runs inside normalisation, a comprehension is evaluated exactly when Python evaluates it:
in the branch of an ``and``/``or`` or a conditional expression that runs, on every trip of
a ``while`` test, after the operands to its left. The statements made here are user-level
Python (a ``for`` over the user's iterable, ``if`` filters, ``lst.append``) that the
normaliser then normalises like the user's own loops, so ranges, arrays (their rows),
``zip``, ``enumerate``, ``reversed`` and dict views iterate as in a written loop.

* ``[e for x in xs if c]`` -> ``items = []`` and ``for x1 in xs: if c: items.append(e)``;
  each ``for`` clause nests a loop, in order. The targets get fresh names (the
  comprehension's scope, as in Python 3: nothing leaks, nothing is captured), the first
  iterable is evaluated in the enclosing scope, the later ones on every trip.
* ``{k: v for ...}`` -> lists of keys and values, then ``dict_from(keys, values)`` (a later
  key wins, as in Python). ``{e for ...}`` -> ``set(items)``: a set has no order to
  differentiate along, so a set of active values is refused by the reverse pass (``set``
  has no rule), while sets of indices or keys work.
* A generator expression is lazy; it is accepted only as the argument of a call that
  consumes all of it at once (``sum``, ``max``, ``tuple``, ...), where it is the list
  comprehension, and of ``any``/``all``, which stop at the first decisive item (a loop
  with ``break``). Anywhere else it is refused.
* ``list(xs)``, ``tuple(xs)``, ``dict(...)``, ``sorted(xs, key, reverse)``, ``min``/``max``
  with several arguments or ``key=``, ``divmod``, and ``zip``, ``enumerate``,
  ``itertools.product``, ``itertools.accumulate`` where something iterates them at once
  (a loop header, a comprehension, a consuming call) become comprehensions or loops.
  An iterator bound to a name stays a call: iterating it twice would differ from Python.
"""
from __future__ import annotations

import builtins
import itertools
import math

import gast

from .. import runtime
from ..astutil import at_line, clone, const, dotted, name, stored_names, subst
from ..frontend import unsupported

# calls that consume their first argument whole: a generator expression there is a list
_CONSUMERS = {builtins.sum, builtins.min, builtins.max, builtins.tuple, builtins.list,
              builtins.sorted, builtins.set, builtins.frozenset, builtins.dict, math.fsum,
              math.prod}
_HINTS = {gast.ListComp: "items", gast.SetComp: "members"}


# -- comprehensions ---------------------------------------------------------------------------
def lower(norm, e, out):
    """The value of the comprehension ``e``: an atom bound by the loops written to ``out``."""
    if isinstance(e, gast.GeneratorExp):
        unsupported("a generator expression here (it is lazy)", at_line(e, norm.line), norm.filename,
                    "write a list comprehension [...], or pass it straight to sum(), max(), "
                    "tuple(), any(), ...")
    e = _scoped(norm, e)
    if isinstance(e, gast.DictComp):
        return _dict_comp(norm, e, out)
    items = _local(norm, _HINTS[type(e)])
    body = [_append(items, e.elt)]
    _emit(norm, [_assign(items, gast.List(elts=[], ctx=gast.Load()))] + _loops(e.generators, body), out)
    if isinstance(e, gast.SetComp):
        return norm._call(set, "set", [name(items)])
    return name(items)


def _dict_comp(norm, e, out):
    """``{k: v for ...}``: keys and values appended in the loops, then ``dict_from``."""
    keys, values = _local(norm, "keys"), _local(norm, "values")
    body = [_append(keys, e.key), _append(values, e.value)]
    start = [_assign(keys, gast.List(elts=[], ctx=gast.Load())),
             _assign(values, gast.List(elts=[], ctx=gast.Load()))]
    _emit(norm, start + _loops(e.generators, body), out)
    return _runtime_call(runtime.dict_from, [name(keys), name(values)])


def _scoped(norm, e):
    """A copy of ``e`` whose targets have fresh names everywhere they are visible.

    Everything but the first iterable is in the comprehension's scope; a nested
    comprehension rebinding a target is renamed with it, which keeps its meaning.
    """
    e = clone(e)
    for gen in e.generators:
        if getattr(gen, "is_async", 0):
            unsupported("an async comprehension", at_line(e, norm.line), norm.filename)
        _check_target(norm, gen.target, e)
    bound = set().union(*(stored_names(g.target) for g in e.generators))
    fresh = {ident: _local(norm, ident.strip("_").rstrip("0123456789") or "item")
             for ident in sorted(bound)}
    first = e.generators[0].iter
    e.generators[0].iter = const(None)
    e = subst(e, fresh)
    e.generators[0].iter = first
    return e


def _check_target(norm, target, e):
    if isinstance(target, (gast.Tuple, gast.List)):
        for elt in target.elts:
            _check_target(norm, elt, e)
    elif not isinstance(target, gast.Name):
        unsupported("a comprehension target that is not a name", at_line(e, norm.line), norm.filename,
                    "iterate into a name and write it on a line of its own")


def _loops(generators, body):
    """The ``for``/``if`` nest of ``generators`` around ``body``, outermost first."""
    for gen in reversed(generators):
        for cond in reversed(gen.ifs):
            body = [gast.If(test=cond, body=body, orelse=[])]
        gen.iter.consumed = True
        body = [gast.For(target=gen.target, iter=gen.iter, body=body, orelse=[], type_comment=None)]
    return body


def _emit(norm, stmts, out):
    """Normalise the user-level ``stmts`` at the current line into ``out``."""
    line = norm.line
    for s in stmts:
        _on_line(s, line)
    out += norm.block(stmts)
    norm.line = line


def _on_line(stmt, line):
    for node in gast.walk(stmt):
        if isinstance(node, gast.stmt):
            node.lineno = line


def _local(norm, base):
    """A fresh local name (never one of the user's), known to the resolver as local.

    It is a variable like the user's (a loop may carry it), not a temporary bound once
    that simplification may fold away, so it leaves the namer's ``generated`` set.
    """
    ident = norm.namer.fresh(base)
    norm.namer.generated.discard(ident)
    norm.resolver.locals.add(ident)
    return ident


def _assign(ident, value):
    return gast.Assign(targets=[name(ident, store=True)], value=value, type_comment=None)


def _append(ident, value):
    method = gast.Attribute(value=name(ident), attr="append", ctx=gast.Load())
    return gast.Expr(value=gast.Call(func=method, args=[value], keywords=[]))


def _runtime_call(fn, args):
    call = gast.Call(func=name(fn.__name__), args=args, keywords=[])
    call.callee = fn
    return call


def _comprehension(elt, target, iterable, ifs=()):
    """``[elt for target in iterable if ...]`` as a node."""
    gen = gast.comprehension(target=target, iter=iterable, ifs=list(ifs), is_async=0)
    return gast.ListComp(elt=elt, generators=[gen])


def _as_list(e):
    """A generator expression or list comprehension as the list comprehension."""
    return gast.ListComp(elt=e.elt, generators=e.generators)


# -- calls ------------------------------------------------------------------------------------
def call(norm, e, out):
    """The value of the call ``e`` if it is lowered here, else None.

    A generator expression consumed whole becomes the list comprehension first.
    """
    if _is_dict_view(norm, e):
        return lower_dict_view(norm, e, out) if getattr(e, "consumed", False) else None
    callee = norm.resolver.resolve(e.func)
    if _known(callee, _CONSUMERS) and e.args and isinstance(e.args[0], gast.GeneratorExp):
        e.args[0] = _as_list(e.args[0])
    if _known(callee, _CONSUMERS) and e.args:
        e.args[0].consumed = True
    lowering = _lookup(_CALLS, callee)
    if lowering is None or (callee in _ITERATORS and not getattr(e, "consumed", False)):
        return None
    return lowering(norm, e, out)


def _lookup(table, callee):
    try:
        return table.get(callee)
    except TypeError:  # an unhashable callee
        return None


def _known(callee, group):
    try:
        return callee in group
    except TypeError:
        return False


def _args(norm, e, at_most, keywords=()):
    """``e``'s positional arguments, refused when there are more or other keywords."""
    extra = {k.arg for k in e.keywords} - set(keywords)
    if len(e.args) > at_most or extra or any(isinstance(a, gast.Starred) for a in e.args):
        unsupported(f"this call of '{dotted(e.func)}'", at_line(e, norm.line), norm.filename)
    return list(e.args)


def _keyword(e, arg):
    return next((k.value for k in e.keywords if k.arg == arg), None)


def _sequence(norm, iterable, out):
    """An atom holding the items of ``iterable``, indexable: the list of a comprehension, else
    ``items_of(iterable)``, so a dict gives its keys and a set its members, as in Python."""
    if isinstance(iterable, (gast.ListComp, gast.GeneratorExp)):
        return norm.atom(lower(norm, _as_list(iterable), out), out, "items")
    if isinstance(iterable, gast.Call) and _is_dict_view(norm, iterable):
        return norm.atom(lower_dict_view(norm, iterable, out), out, "items")
    iterable.consumed = True
    return norm._bind(_runtime_call(runtime.items_of, [norm.atom(iterable, out, "seq")]), out, "seq")


def _items(norm, iterable, out):
    """The items of ``iterable`` as a new list (the comprehension itself when it is one)."""
    if isinstance(iterable, (gast.ListComp, gast.GeneratorExp)):
        return lower(norm, _as_list(iterable), out)
    if isinstance(iterable, gast.Call) and _is_dict_view(norm, iterable):
        return lower_dict_view(norm, iterable, out)  # a new list already
    item = _local(norm, "item")
    seq = _sequence(norm, iterable, out)
    return lower(norm, _comprehension(name(item), name(item, store=True), seq), out)


def _is_dict_view(norm, e):
    """Whether ``e`` is ``d.keys()``, ``d.values()`` or ``d.items()`` of a local ``d``."""
    func = e.func
    return isinstance(func, gast.Attribute) and func.attr in ("keys", "values", "items") \
        and not e.args and not e.keywords and not norm._global_ref(func)


def lower_dict_view(norm, e, out):
    """``d.keys()`` iterated at once -> ``keys_of(d)``; ``d.values()`` -> ``[d[k] for k in
    keys_of(d)]``; ``d.items()`` -> ``[(k, d[k]) for k in keys_of(d)]``."""
    d = norm.atom(e.func.value, out, "seq")
    if not isinstance(d, gast.Name):
        d = norm._bind(d, out, "seq")
    keys = norm._bind(_runtime_call(runtime.keys_of, [d]), out, "keys")
    if e.func.attr == "keys":
        return keys
    key = _local(norm, "key")
    value = gast.Subscript(value=d, slice=name(key), ctx=gast.Load())
    item = value if e.func.attr == "values" else gast.Tuple(elts=[name(key), value], ctx=gast.Load())
    return lower(norm, _comprehension(item, name(key, store=True), keys), out)


def lower_list(norm, e, out):
    """``list()`` -> ``[]``; ``list(xs)`` -> ``[x for x in xs]``."""
    args = _args(norm, e, 1)
    if not args:
        return gast.List(elts=[], ctx=gast.Load())
    return _items(norm, args[0], out)


def lower_tuple(norm, e, out):
    """``tuple(xs)`` -> ``tuple(items)`` of the list ``[x for x in xs]``."""
    args = _args(norm, e, 1)
    if not args:
        return gast.Tuple(elts=[], ctx=gast.Load())
    return norm._call(tuple, "tuple", [norm.atom(_items(norm, args[0], out), out, "items")])


def lower_dict(norm, e, out):
    """``dict(pairs_or_mapping, k=v)`` -> a dict comprehension (mapping: by its keys)."""
    args = _args(norm, e, 1, [k.arg for k in e.keywords if k.arg is not None])
    if any(k.arg is None for k in e.keywords):
        unsupported("dict(**...)", at_line(e, norm.line), norm.filename, "name the keys one by one")
    if not args:
        return norm.op(gast.Dict(keys=[const(k.arg) for k in e.keywords],
                                 values=[k.value for k in e.keywords]), out)
    if e.keywords:
        unsupported("dict(...) with both an argument and keywords", at_line(e, norm.line), norm.filename,
                    "build the dict, then set the other keys")
    source = args[0]
    key, value = _local(norm, "key"), _local(norm, "value")
    if _is_pairs(norm, source):
        target = gast.Tuple(elts=[name(key, store=True), name(value, store=True)], ctx=gast.Store())
        gen = gast.comprehension(target=target, iter=source, ifs=[], is_async=0)
        return lower(norm, gast.DictComp(key=name(key), value=name(value), generators=[gen]), out)
    mapping = norm.atom(source, out, "seq")
    keys = norm._bind(_runtime_call(runtime.keys_of, [mapping]), out, "keys")
    gen = gast.comprehension(target=name(key, store=True), iter=keys, ifs=[], is_async=0)
    item = gast.Subscript(value=mapping, slice=name(key), ctx=gast.Load())
    return lower(norm, gast.DictComp(key=name(key), value=item, generators=[gen]), out)


def _is_pairs(norm, source):
    """Whether ``dict(source)`` reads pairs: a display, a comprehension, ``zip``/``enumerate``."""
    if isinstance(source, (gast.List, gast.Tuple, gast.ListComp, gast.GeneratorExp)):
        return True
    if isinstance(source, gast.Call) and _is_dict_view(norm, source):
        return source.func.attr == "items"
    if isinstance(source, gast.Call):
        callee = norm.resolver.resolve(source.func)
        return _known(callee, {builtins.zip, builtins.enumerate, builtins.list, builtins.sorted})
    return False


def lower_sorted(norm, e, out):
    """``sorted(xs, key=f, reverse=r)`` -> ``[items[i] for i in sort_order(keys, r)]``, with
    ``keys`` the items or ``[f(x) for x in items]``: Python's stable order, item by item."""
    args = _args(norm, e, 1, ("key", "reverse"))
    items = _sequence(norm, args[0], out)
    keys = items
    key = _keyword(e, "key")
    if key is not None and not _is_none(key):
        item = _local(norm, "item")
        keyed = gast.Call(func=key, args=[name(item)], keywords=[])
        keys = norm.atom(lower(norm, _comprehension(keyed, name(item, store=True), items), out), out)
    reverse = _keyword(e, "reverse") or const(False)
    order = norm._bind(_runtime_call(runtime.sort_order, [keys, norm.atom(reverse, out)]), out, "order")
    at = _local(norm, "i")
    picked = gast.Subscript(value=items, slice=name(at), ctx=gast.Load())
    return lower(norm, _comprehension(picked, name(at, store=True), order), out)


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def lower_extremum(norm, e, out):
    """``max(a, b, c)`` -> ``max(max(a, b), c)``; with ``key=`` the loop keeping the first
    item whose key is largest (smallest for ``min``), as Python does. None: a plain call."""
    key = _keyword(e, "key")
    if key is None or _is_none(key):
        if len(e.args) <= 2 or e.keywords:
            return None
        first = gast.Call(func=e.func, args=e.args[:2], keywords=[])
        return norm.op(gast.Call(func=e.func, args=[first] + e.args[2:], keywords=[]), out)
    args = _args(norm, e, len(e.args), ("key",))
    if len(args) == 1:
        items = _sequence(norm, args[0], out)
    else:
        items = norm.atom(gast.List(elts=args, ctx=gast.Load()), out, "items")
    return _keyed_extremum(norm, e, items, key, out)


def _keyed_extremum(norm, e, items, key, out):
    better = gast.Gt() if norm.resolver.resolve(e.func) is builtins.max else gast.Lt()
    best, best_key = _local(norm, "best"), _local(norm, "best_key")
    item, item_key = _local(norm, "item"), _local(norm, "item_key")
    n, k = _local(norm, "n"), _local(norm, "k")
    first = gast.Subscript(value=items, slice=const(0), ctx=gast.Load())
    found = gast.Compare(left=name(item_key), ops=[better], comparators=[name(best_key)])
    trip = [_assign(item, gast.Subscript(value=items, slice=name(k), ctx=gast.Load())),
            _assign(item_key, gast.Call(func=clone(key), args=[name(item)], keywords=[])),
            gast.If(test=found, body=[_assign(best, name(item)), _assign(best_key, name(item_key))],
                    orelse=[])]
    stmts = [_assign(best, first), _assign(best_key, gast.Call(func=key, args=[name(best)], keywords=[])),
             _assign(n, gast.Call(func=name("len"), args=[items], keywords=[])),
             gast.For(target=name(k, store=True), iter=_range(const(1), name(n)), body=trip, orelse=[],
                      type_comment=None)]
    _emit(norm, stmts, out)
    return name(best)


def _range(*args):
    return gast.Call(func=name("range"), args=list(args), keywords=[])


def lower_any_all(norm, e, out):
    """``any(e for x in xs)`` -> ``found = False`` and a loop that sets it and breaks at the
    first true ``e`` (``all``: at the first false one); other arguments: a plain call."""
    if len(e.args) != 1 or e.keywords or not isinstance(e.args[0], gast.GeneratorExp):
        return None
    wanted = norm.resolver.resolve(e.func) is builtins.any
    gen = _scoped(norm, e.args[0])
    found = _local(norm, "found")
    test = gen.elt if wanted else gast.UnaryOp(op=gast.Not(), operand=gen.elt)
    body = [gast.If(test=test, body=[_assign(found, const(True)), gast.Break()], orelse=[])]
    for g in reversed(gen.generators):
        for cond in reversed(g.ifs):
            body = [gast.If(test=cond, body=body, orelse=[])]
        g.iter.consumed = True
        body = [gast.For(target=g.target, iter=g.iter, body=body, orelse=[], type_comment=None)]
        if g is not gen.generators[0]:
            body.append(gast.If(test=name(found), body=[gast.Break()], orelse=[]))
    _emit(norm, [_assign(found, const(False))] + body, out)
    return name(found) if wanted else gast.UnaryOp(op=gast.Not(), operand=name(found))


def lower_divmod(norm, e, out):
    """``divmod(a, b)`` -> ``(a // b, a % b)``: Python defines it so, for numbers and arrays."""
    a, b = (norm.atom(x, out) for x in _args(norm, e, 2))
    return gast.Tuple(elts=[norm.atom(gast.BinOp(left=a, op=gast.FloorDiv(), right=b), out),
                            norm.atom(gast.BinOp(left=a, op=gast.Mod(), right=b), out)], ctx=gast.Load())


def lower_zip(norm, e, out):
    """``zip(a, b)`` iterated at once -> ``[(x, y) for x, y in zip(a, b)]``."""
    args = _args(norm, e, len(e.args))
    if not args:
        return gast.List(elts=[], ctx=gast.Load())
    parts = [_local(norm, "item") for _ in args]
    target = gast.Tuple(elts=[name(p, store=True) for p in parts], ctx=gast.Store())
    pair = gast.Tuple(elts=[name(p) for p in parts], ctx=gast.Load())
    inner = gast.Call(func=e.func, args=args, keywords=[])
    return lower(norm, _comprehension(pair, target, inner), out)


def lower_enumerate(norm, e, out):
    """``enumerate(xs, start)`` iterated at once -> ``[(i + start, x) for i, x in enumerate(xs)]``."""
    args = _args(norm, e, 2, ("start",))
    start = args[1] if len(args) > 1 else _keyword(e, "start")
    i, x = _local(norm, "i"), _local(norm, "item")
    target = gast.Tuple(elts=[name(i, store=True), name(x, store=True)], ctx=gast.Store())
    count = name(i) if start is None else gast.BinOp(left=name(i), op=gast.Add(), right=start)
    pair = gast.Tuple(elts=[count, name(x)], ctx=gast.Load())
    inner = gast.Call(func=e.func, args=args[:1], keywords=[])
    return lower(norm, _comprehension(pair, target, inner), out)


def lower_product(norm, e, out):
    """``itertools.product(a, b)`` iterated at once -> ``[(x, y) for x in a for y in b]``, each
    iterable evaluated once first (``repeat=n`` for a literal ``n`` repeats them)."""
    args = _args(norm, e, len(e.args), ("repeat",))
    repeat = _keyword(e, "repeat")
    if repeat is not None and not (isinstance(repeat, gast.Constant) and type(repeat.value) is int):
        unsupported("itertools.product with a computed repeat=", at_line(e, norm.line), norm.filename,
                    "repeat the iterables by hand")
    seqs = [norm.atom(a, out, "seq") for a in args] * (1 if repeat is None else repeat.value)
    parts = [_local(norm, "item") for _ in seqs]
    gens = [gast.comprehension(target=name(p, store=True), iter=s, ifs=[], is_async=0)
            for p, s in zip(parts, seqs)]
    pair = gast.Tuple(elts=[name(p) for p in parts], ctx=gast.Load())
    return lower(norm, gast.ListComp(elt=pair, generators=gens), out)


def lower_accumulate(norm, e, out):
    """``itertools.accumulate(xs, initial=c)`` iterated at once -> the running sums as a list,
    ``total = total + x`` item by item (the first item itself when there is no ``initial``)."""
    args = _args(norm, e, 1, ("initial",))
    initial = _keyword(e, "initial")
    sums, total, item, k = (_local(norm, b) for b in ("sums", "total", "item", "k"))
    added = gast.BinOp(left=name(total), op=gast.Add(), right=name(item))
    if initial is None or _is_none(initial):
        start = [_assign(sums, gast.List(elts=[], ctx=gast.Load()))]
        step = gast.IfExp(test=gast.Compare(left=name(k), ops=[gast.Eq()], comparators=[const(0)]),
                          body=name(item), orelse=added)
    else:
        start = [_assign(total, initial), _assign(sums, gast.List(elts=[name(total)], ctx=gast.Load()))]
        step = added
    target = gast.Tuple(elts=[name(k, store=True), name(item, store=True)], ctx=gast.Store())
    counted = gast.Call(func=name("enumerate"), args=args, keywords=[])
    loop = gast.For(target=target, iter=counted, body=[_assign(total, step), _append(sums, name(total))],
                    orelse=[], type_comment=None)
    _emit(norm, start + [loop], out)
    return name(sums)


_ITERATORS = {builtins.zip, builtins.enumerate, itertools.product, itertools.accumulate}
_CALLS = {builtins.list: lower_list, builtins.tuple: lower_tuple, builtins.dict: lower_dict,
          builtins.sorted: lower_sorted, builtins.max: lower_extremum, builtins.min: lower_extremum,
          builtins.any: lower_any_all, builtins.all: lower_any_all, builtins.divmod: lower_divmod,
          builtins.zip: lower_zip, builtins.enumerate: lower_enumerate,
          itertools.product: lower_product, itertools.accumulate: lower_accumulate}
