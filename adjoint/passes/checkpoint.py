"""Checkpointed loops: ``for t in adjoint.checkpointed(range(...), snapshots=k):``.

Contract: accepts a fenced FunctionDef (reserved names already renamed) and
its ``Parsed``; rewrites each checkpointed loop, outermost first, into one
statement ``(s1, s2) = f_loop(start, stop, step, k, memory, s1, s2, r1, r2)`` and
returns the functions it made. The loop's *state* ``s`` are the names the
body rebinds or writes into that a trip may read before binding them, or
code outside the loop reads (each must be bound before the loop); its
*reads* ``r`` are the function's other locals the body reads. Two real
Python functions are made from the body, with the user's line numbers and
closure cells: ``f_step(t, *s, *r)`` (one trip, returning the new state) and
``f_loop`` (the whole loop, for analyses and forward mode); ``f_loop``
carries ``checkpointed_step``, which tells the reverse pass to call the revolve
driver (``runtime/checkpoint.py``) with ``f_step``'s split pair. Refused
at the loop's line: a target other than a name, ``break``/``continue`` of
the loop itself, ``return`` in it, a target read after it, and a state name
unbound before it.

With a memory budget (``grad(f, checkpoint_memory=...)``) and no loop marked,
the first top-level loop of the function with a trip count that is not a
literal (a ``while``, or a ``for`` over ``range(...)`` with a bound that is no
number literal) is rewritten as if marked ``checkpointed(..., memory=budget)``;
a loop this pass (or a later one) refuses makes ``api`` build the plain tape
instead, with a ``CheckpointWarning``.
"""
from __future__ import annotations

import ast
import textwrap
import types

import gast

from .. import frontend
from ..astutil import clone, const, loaded_names, name, stored_names
from ..checkpoint import checkpointed
from ..errors import UnsupportedSyntaxError
from ..frontend import unsupported


def rewrite(node, parsed, memory=None):
    """Rewrite the checkpointed loops of ``node`` in place; return the functions made.
    ``memory`` (bytes): the budget of the loop chosen when none is marked."""
    made = []
    _rewrite_block(node.body, node, parsed, made)
    if memory is not None and not made:
        _rewrite_automatic(node, parsed, memory, made)
    return made


def automatic_loop(node, parsed):
    """(index in ``node.body``, loop) of the loop ``checkpoint_memory`` checkpoints, or None:
    the first top-level ``while``, or ``for`` over ``range`` whose trip count is no literal."""
    for k, s in enumerate(node.body):
        if isinstance(s, gast.While) or isinstance(s, gast.For) and _long_range(s.iter, parsed):
            return k, s
    return None


def _long_range(it, parsed):
    """Whether ``it`` is ``range(...)`` with a bound other than a number literal."""
    if not (isinstance(it, gast.Call) and parsed.resolver.resolve(it.func) is range):
        return False
    literal = (gast.Constant, gast.UnaryOp)  # 10, -1
    return any(not (isinstance(a, literal) and isinstance(getattr(a, "operand", a), gast.Constant))
               for a in it.args)


def _rewrite_automatic(node, parsed, memory, made):
    """Checkpoint ``automatic_loop`` with ``memory`` bytes as if marked; the refusals are a
    marked loop's (``api`` then builds the plain tape and warns)."""
    found = automatic_loop(node, parsed)
    if found is None:
        return
    k, loop = found
    head = "iter" if isinstance(loop, gast.For) else "test"
    setattr(loop, head, gast.Call(func=name("checkpointed"), args=[getattr(loop, head)],
                                  keywords=[gast.keyword(arg="memory", value=const(memory))]))
    node.body[k] = (_rewrite_for if head == "iter" else _rewrite_while)(loop, node, parsed, made)


def _rewrite_block(stmts, top, parsed, made):
    for k, s in enumerate(stmts):
        if isinstance(s, gast.For) and _is_checkpointed(s.iter, parsed):
            stmts[k] = _rewrite_for(s, top, parsed, made)
            continue
        if isinstance(s, gast.While) and _is_checkpointed(s.test, parsed):
            stmts[k] = _rewrite_while(s, top, parsed, made)
            continue
        for field in ("body", "orelse"):
            _rewrite_block(getattr(s, field, None) or [], top, parsed, made)


def has_checkpointed(parsed, memory=None):
    """Whether the parsed function has a checkpointed loop (the backend choice asks), marked
    or, with a ``memory`` budget, chosen by ``automatic_loop``."""
    if memory is not None and automatic_loop(parsed.node, parsed) is not None:
        return True
    return any(isinstance(s, gast.For) and _is_checkpointed(s.iter, parsed)
               or isinstance(s, gast.While) and _is_checkpointed(s.test, parsed)
               for s in gast.walk(parsed.node))


def _is_checkpointed(it, parsed):
    return isinstance(it, gast.Call) and parsed.resolver.resolve(it.func) is checkpointed


def _rewrite_for(loop, top, parsed, made):
    """``(s...) = f_loop(start, stop, stride, snapshots, memory, s..., r...)`` for a
    checkpointed for."""
    filename = parsed.filename
    bounds, limits = _bounds(loop, parsed)
    if not isinstance(loop.target, gast.Name):
        unsupported("a checkpointed loop over anything but one name", loop, filename,
                    "write 'for t in adjoint.checkpointed(range(n)):'")
    target = loop.target.id
    if target in _outside(top, loop, _loaded):
        unsupported(f"reading the checkpointed loop's variable '{target}' after the loop", loop,
                    filename, "keep its last value in a variable of your own")
    state, reads = _carried(loop, loop.body, top, parsed, target)
    base = _base(top, parsed, made)
    names = _fresh(("start", "stop", "stride", "snapshots", "memory"), all_ids(top))
    inner = gast.For(target=name(target, store=True),
                     iter=gast.Call(func=name("range"), args=[name(n) for n in names[:3]],
                                    keywords=[]),
                     body=clone(loop.body), orelse=[], type_comment=None)
    return _install(loop, inner, base, target, names, bounds + limits, state, reads,
                    parsed, made)


def _rewrite_while(loop, top, parsed, made):
    """``(s...) = f_loop(snapshots, memory, s..., r...)`` for ``while
    adjoint.checkpointed(test):``; ``f_loop.checkpointed_cond(s..., r...)`` evaluates the test."""
    args, limits = _limits(loop.test)
    if len(args) != 1:
        unsupported("adjoint.checkpointed without its condition", loop, parsed.filename,
                    "write 'while adjoint.checkpointed(condition, snapshots=k):'")
    test = args[0]
    target, snap, memory = _fresh(("trip", "snapshots", "memory"), all_ids(top))
    head = gast.Expr(value=clone(test))
    head.lineno = loop.lineno
    state, reads = _carried(loop, [head] + loop.body, top, parsed, target)
    base = _base(top, parsed, made)
    inner = gast.While(test=clone(test), body=clone(loop.body), orelse=[])
    out = _install(loop, inner, base, target, [snap, memory], limits, state, reads,
                   parsed, made)
    cond = _function(f"{base}_cond", state + reads, [], clone(test), loop, parsed)
    made[-1].checkpointed_cond = cond
    made.append(cond)
    return out


def _carried(loop, body, top, parsed, target):
    """(state, reads) of a checkpointed loop whose trip runs ``body``; refusals at its line."""
    filename = parsed.filename
    _refuse_jumps(loop.body, filename, 0)
    outside = _outside(top, loop, _loaded)
    exposed, _ = _exposed(body, {target})
    written = stored_names(gast.Module(body=loop.body, type_ignores=[])) | _written_bases(loop.body)
    state = sorted((written & (exposed | outside)) - {target})
    bound_before = _params(top) | _outside(top, loop, stored_names)
    for s in state:
        if s not in bound_before:
            raise UnsupportedSyntaxError(f"'{s}' is carried by the checkpointed loop but not "
                                         f"bound before it; give it a value before the loop",
                                         filename, loop.lineno)
    if not state:
        raise UnsupportedSyntaxError("this checkpointed loop carries no value from trip to "
                                     "trip; remove adjoint.checkpointed", filename, loop.lineno)
    return state, sorted((exposed & parsed.resolver.locals) - set(state) - {target})


def _base(top, parsed, made):
    """The loop function's name: ``f_loop1`` for the first checkpointed loop of ``f``."""
    base = f"{top.name}_loop{sum(hasattr(f, 'state_size') for f in made) + 1}"
    while base in parsed.resolver.locals or base in parsed.fn.__globals__ \
            or base in parsed.resolver.extra:
        base += "_"
    return base


def _install(loop, inner, base, target, names, values, state, reads, parsed, made):
    """Make the step function and the loop function; return the call replacing ``loop``."""
    inner.lineno = loop.lineno
    tuple_ = gast.Tuple(elts=[name(v) for v in state], ctx=gast.Load())
    step = _function(f"{base}_step", [target] + state + reads, clone(loop.body), tuple_, loop,
                     parsed)
    whole = _function(base, names + state + reads, [inner], clone(tuple_), loop, parsed)
    whole.checkpointed_step = step
    step.checkpointed_reads = tuple(reads)
    whole.state_size = len(state)
    whole.bounds_size = len(names)
    made += [step, whole]
    parsed.resolver.extra[base] = whole
    call = gast.Call(func=name(base), args=values + [name(v) for v in state + reads],
                     keywords=[])
    out = gast.Assign(targets=[gast.Tuple(elts=[name(v, store=True) for v in state],
                                          ctx=gast.Store())], value=call, type_comment=None)
    out.lineno = loop.lineno
    return out


def add_reads_in_place(function, step, wrt):
    """Make the step's backward sweep ``function`` (adjoints of ``wrt``) add each read's adjoint
    into the sum revolve passes it (``W_bar_sum``, an array of revolve's own, after the
    parameters ``saved, seed``) and return that sum: a trip makes no array of the read's size.

    Where the adjoint ``W_bar`` starts at the top (``W_bar = zeros_like(W)`` or ``W_bar = E``)
    and is otherwise only added to (``W_bar = W_bar + E``, in any block), it holds the sum
    throughout: each contribution is added into it in place (``add_into``; a matmul's
    adjoint, an outer product, a block of rows at a time) and nothing else reads it. Any
    other adjoint is added into the sum at the return; one that gets nothing is the sum."""
    reads = getattr(step, "checkpointed_reads", None)
    if not reads:
        return
    taken = {n.id for s in function.body for n in gast.walk(s) if isinstance(n, gast.Name)}
    sums = _fresh([f"{r}_bar_sum" for r in reads], taken | set(function.params))
    function.params += sums
    returned = function.body[-1].value.elts
    for r, total in zip(reads, sums):
        k = wrt.index(r)
        returned[k] = _summed(function.body, returned[k], total)
    one = len(reads) == 1
    function.doc += (f" The adjoint{'' if one else 's'} of {', '.join(reads)}, which every "
                     f"trip reads, {'is' if one else 'are'} added in place into "
                     f"{', '.join(sums)}: the sum over the later trips.")


# the adjoint helpers with a twin that adds its result into a sum in place (runtime/checkpoint.py)
_ADDED = {"matmul_grad_a": "add_matmul_grad_a", "matmul_grad_b": "add_matmul_grad_b"}


def _summed(body, value, total):
    """The returned adjoint ``value`` of a read, its sum ``total`` added (see add_reads_in_place);
    ``body`` ends with the return."""
    if _is_zeros(value):
        return name(total)
    if isinstance(value, gast.Name) and _sum_in_place(body, value.id, total):
        return value
    return _added(name(total), value)


def _sum_in_place(body, ident, total):
    """Rewrite ``body`` so that ``ident`` holds the sum ``total`` throughout, if its first
    mention binds it at the top and every other one, but the return, adds to it; whether it did."""
    first = next((s for s in body[:-1] if ident in _ids(s)), None)
    if first is None or not _binds(first, ident):
        return False
    added = _mentions(body[:-1], ident, first)
    if added is None or not all(_adds_to(s, ident) for s in added):
        return False
    first.value = name(total) if _is_zeros(first.value) else _added(name(total), first.value)
    for s in added:
        rebound = gast.Assign(targets=[name(ident, store=True)], type_comment=None,
                              value=_added(name(ident), s.value.right if isinstance(s, gast.Assign)
                                           else s.value))
        _replace(body, s, gast.copy_location(rebound, s))
    return True


def _mentions(stmts, ident, skip):
    """The simple statements of ``stmts`` (nested blocks of for, while and if included) that
    mention ``ident``, but ``skip``; None if a loop's or an if's head mentions it."""
    out = []
    for s in stmts:
        nested = isinstance(s, (gast.For, gast.While, gast.If))
        if s is skip or ident not in _ids(s):
            continue
        if not nested:
            out.append(s)
            continue
        head = [getattr(s, f) for f in ("target", "iter", "test") if hasattr(s, f)]
        inner = [_mentions(b, ident, skip) for b in (s.body, s.orelse)]
        if any(ident in _ids(h) for h in head) or None in inner:
            return None
        out += inner[0] + inner[1]
    return out


def _replace(stmts, old, new):
    for k, s in enumerate(stmts):
        if s is old:
            stmts[k] = new
            return
        for b in (getattr(s, "body", None), getattr(s, "orelse", None)):
            if isinstance(b, list):
                _replace(b, old, new)


def _ids(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}


def _is_zeros(value):
    return isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
        and value.func.id == "zeros_like"


def _binds(s, ident):
    """Whether ``s`` is ``ident = E`` with ``E`` not reading ``ident``."""
    return isinstance(s, gast.Assign) and len(s.targets) == 1 \
        and isinstance(s.targets[0], gast.Name) and s.targets[0].id == ident \
        and ident not in _ids(s.value)


def _adds_to(s, ident):
    """Whether ``s`` is ``ident = ident + E`` or ``ident += E``, ``E`` not reading ``ident``."""
    if isinstance(s, gast.AugAssign):
        return isinstance(s.op, gast.Add) and isinstance(s.target, gast.Name) \
            and s.target.id == ident and ident not in _ids(s.value)
    value = getattr(s, "value", None)
    return isinstance(s, gast.Assign) and len(s.targets) == 1 \
        and isinstance(s.targets[0], gast.Name) and s.targets[0].id == ident \
        and isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add) \
        and isinstance(value.left, gast.Name) and value.left.id == ident \
        and ident not in _ids(value.right)


def _added(total, value):
    """``add_into(total, value)``, or the in-place twin of ``value``'s helper."""
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
            and value.func.id in _ADDED and not value.keywords:
        return gast.Call(func=name(_ADDED[value.func.id]), args=[total] + value.args, keywords=[])
    return gast.Call(func=name("add_into"), args=[total, value], keywords=[])


def _bounds(loop, parsed):
    """(start, stop, step) of the range and the ``_limits``."""
    args, limits = _limits(loop.iter)
    it = args[0] if len(args) == 1 else None
    if not (isinstance(it, gast.Call) and parsed.resolver.resolve(it.func) is range
            and 1 <= len(it.args) <= 3 and not it.keywords):
        unsupported("adjoint.checkpointed over anything but range(...)", loop, parsed.filename,
                    "write 'for t in adjoint.checkpointed(range(n), snapshots=k):'")
    r = list(it.args)
    start, stop, step = ([const(0)] + r + [const(1)]) if len(r) == 1 else \
        (r + [const(1)]) if len(r) == 2 else r
    return [start, stop, step], limits


def _limits(mark):
    """The positional arguments of ``checkpointed(...)`` but ``snapshots``, and the
    expressions of ``snapshots`` and ``memory`` (None where not given)."""
    args = list(mark.args)
    given = {k.arg: k.value for k in mark.keywords}
    if len(args) == 2 and "snapshots" not in given:
        given["snapshots"] = args.pop()
    return args, [given.get(k, const(None)) for k in ("snapshots", "memory")]


def _refuse_jumps(stmts, filename, depth):
    """No ``return`` in the loop, and no ``break``/``continue`` of the loop itself."""
    for s in stmts:
        if isinstance(s, gast.Return):
            unsupported("return inside a checkpointed loop", s, filename,
                        "return after the loop")
        if isinstance(s, (gast.Break, gast.Continue)) and depth == 0:
            unsupported(f"{type(s).__name__.lower()} in a checkpointed loop", s, filename,
                        "a checkpointed loop runs all its trips; use a plain loop or an if")
        inner = depth + isinstance(s, (gast.For, gast.While))
        for field in ("body", "orelse"):
            _refuse_jumps(getattr(s, field, None) or [], filename, inner)


def _exposed(stmts, bound):
    """(names a pass through ``stmts`` may read before binding them, names surely bound after)."""
    exposed, bound = set(), set(bound)
    for s in stmts:
        if isinstance(s, gast.If):
            exposed |= _loaded(s.test) - bound
            e1, b1 = _exposed(s.body, bound)
            e2, b2 = _exposed(s.orelse, bound)
            exposed |= e1 | e2
            bound = b1 & b2
        elif isinstance(s, (gast.For, gast.While)):
            head = s.iter if isinstance(s, gast.For) else s.test
            exposed |= _loaded(head) - bound
            inner = bound | (stored_names(s.target) if isinstance(s, gast.For) else set())
            exposed |= _exposed(s.body, inner)[0]  # a later trip may read what an earlier bound
        else:
            reads = _loaded(s)
            if isinstance(s, gast.AugAssign) and isinstance(s.target, gast.Name):
                reads.add(s.target.id)
            exposed |= reads - bound
            bound |= stored_names(s)
    return exposed, bound


_COMPREHENSIONS = (gast.ListComp, gast.SetComp, gast.GeneratorExp, gast.DictComp)


def _loaded(node):
    """The names ``node`` reads from the function's scope: a comprehension's own variables,
    local to it, are left out (they are no state, and no value the loop reads)."""
    out = set()
    _visit_loads(node, frozenset(), out)
    return out


def _visit_loads(n, hidden, out):
    if isinstance(n, gast.Name):
        if isinstance(n.ctx, gast.Load) and n.id not in hidden:
            out.add(n.id)
        return
    if not isinstance(n, _COMPREHENSIONS):
        for child in gast.iter_child_nodes(n):
            _visit_loads(child, hidden, out)
        return
    own = hidden | {t.id for g in n.generators for t in gast.walk(g.target)
                    if isinstance(t, gast.Name)}
    for k, g in enumerate(n.generators):  # the first iterable is evaluated outside
        _visit_loads(g.iter, hidden if k == 0 else own, out)
        for c in g.ifs:
            _visit_loads(c, own, out)
    for field in ("elt", "key", "value"):
        if getattr(n, field, None) is not None:
            _visit_loads(getattr(n, field), own, out)


def _written_bases(stmts):
    """Names written into in place: subscript targets, method calls on a name."""
    out = set()
    for s in gast.walk(gast.Module(body=stmts, type_ignores=[])):
        if isinstance(s, (gast.Assign, gast.AugAssign)):
            for t in (s.targets if isinstance(s, gast.Assign) else [s.target]):
                while isinstance(t, (gast.Subscript, gast.Attribute)):
                    t = t.value
                if isinstance(t, gast.Name):
                    out.add(t.id)
        elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call):
            func = s.value.func
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
                out.add(func.value.id)
    return out


def _outside(top, loop, names):
    """``names(...)`` (loaded or stored) of ``top`` outside ``loop``."""
    head = "iter" if isinstance(loop, gast.For) else "test"
    saved = loop.body, getattr(loop, head)
    loop.body = []
    setattr(loop, head, const(None))
    try:
        return names(top) - (names(loop.target) if isinstance(loop, gast.For) else set())
    finally:
        loop.body = saved[0]
        setattr(loop, head, saved[1])


def _params(fn):
    a = fn.args
    return {p.id for p in a.posonlyargs + a.args + a.kwonlyargs}


def all_ids(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)} | {node.name}


def _fresh(bases, taken):
    out = []
    for b in bases:
        ident = b
        while ident in taken:
            ident += "_"
        out.append(ident)
    return out


def _function(fname, params, body, returned, loop, parsed):
    """A real Python function ``fname(params)`` running ``body`` and returning ``returned``,
    with the user's globals and closure cells; its tree (user line numbers) is what adjoint
    parses."""
    ret = gast.Return(value=returned)
    ret.lineno = loop.lineno
    node = gast.FunctionDef(name=fname, args=gast.arguments(
        args=[name(p, store=False) for p in params], posonlyargs=[], vararg=None, kwonlyargs=[],
        kw_defaults=[], kwarg=None, defaults=[]), body=body + [ret], decorator_list=[],
        returns=None, type_comment=None, type_params=[])
    for a in node.args.args:
        a.ctx = gast.Param()
    node.lineno = loop.lineno
    fn = _compile(node, parsed)
    fn.__qualname__ = f"{parsed.qualname} (checkpointed loop, line {loop.lineno})"
    frontend.seed_parsed(fn, node, parsed.filename)
    return fn


def _compile(node, parsed):
    """Compile ``node`` inside a maker function that declares the user's free variables, then
    rebind the inner code to the user's cells and those ``closures`` made (lifted functions)."""
    user = parsed.fn
    cells = parsed.resolver.cells
    freevars = [v for v in cells if v in loaded_names(node)]
    text = ast.unparse(gast.gast_to_ast(gast.Module(body=[clone(node)], type_ignores=[])))
    text = textwrap.indent(text, "    ")
    maker = f"def maker():\n    {' = '.join(freevars + ['None'])}\n{text}\n"
    code = compile(maker, f"<adjoint checkpointed loop of {parsed.qualname}>", "exec")
    maker_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    inner = next(c for c in maker_code.co_consts if isinstance(c, types.CodeType))
    closure = tuple(cells[v] for v in inner.co_freevars) or None
    return types.FunctionType(inner, user.__globals__, node.name, None, closure)
