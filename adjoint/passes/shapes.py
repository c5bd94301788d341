"""Shape facts: which values provably share a shape, for the arguments the code is made for.

Contract: accepts a finished real function (plain statements) and the symbolic
shape of each parameter as the call's *shape pattern* gives it (``pattern``):
a tuple of dimensions per array or number, each dimension ``1`` or a symbol
that two arguments share exactly when their sizes are equal (so a symbol is
never 1). Infers the shape of every name whose bindings all agree
(elementwise operations broadcast, ``@`` contracts, reductions drop or keep
axes, ``.T`` reverses, the runtime helpers keep their operand's shape) and
rewrites the backward sweep where the facts prove a helper does nothing:

- ``unbroadcast(g, x)`` and ``unreduce(g, x, ...)`` of a ``g`` shaped like
  ``x`` are ``g``; an ``unbroadcast`` that only sums leading or unit axes is
  ``g.sum(axis=..., keepdims=...)`` (on the NumPy backend);
- ``count(t, axis)`` is the product of the dimensions it counts, read from a
  parameter (``X.shape[0]``);
- a scalar spread by ``unreduce`` (the seed of a mean) stays a scalar where
  every reader of it is an elementwise operation whose other operand already
  has the spread shape (the values and shapes are the same either way).

Derivatives are compiled per shape pattern (``api``'s call key holds the
arguments' shapes), so a call whose dimensions coincide differently gets code
of its own.
"""
from __future__ import annotations

import gast
import numpy as np

from ..astutil import attribute_chain, name, quote_expr, walk, walk_stmts
from ..rules import lookup
from . import kinds

_TOP = kinds._TOP  # not decided yet: optimistic, so values carried around loops can be proven
_ARITHMETIC = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.FloorDiv, gast.Mod, gast.Pow,
               gast.BitAnd, gast.BitOr, gast.BitXor)
_REDUCTIONS = {np.sum, np.mean, np.max, np.min, np.amax, np.amin, np.prod, np.std, np.var,
               np.all, np.any}
_SAME_SHAPE = {np.zeros_like, np.ones_like, np.empty_like, np.copy, np.real, np.imag,
               np.conj, np.conjugate}
# runtime helpers (called by plain name) -> the position of the argument whose shape the
# result has
_LIKE_ARGUMENT = {"unreduce": 1, "zeros_like": 0, "grad_like": 1,
                  "extremum_grad": 1, "matmul_grad_a": 1, "matmul_grad_b": 2, "dot_grad_a": 1,
                  "dot_grad_b": 2, "snapshot": 0, "conj": 0, "writable_copy": 0}


# -- the pattern of a call -----------------------------------------------------------------
def pattern(args) -> tuple:
    """Each argument's symbolic shape (None: not an array or a number): sizes equal across
    the arguments share a symbol, a size 1 stays 1."""
    symbols = {1: 1}
    out = []
    for a in args:
        kind = type(a)
        if kind is np.ndarray:
            out.append(tuple(symbols.setdefault(n, f"d{len(symbols)}") for n in a.shape))
        elif kind is float or kind is int or kind is np.float64 or kind is np.float32:
            out.append(())
        else:
            out.append(None)
    return tuple(out)


# -- inference -----------------------------------------------------------------------------
def infer(body, params: dict) -> dict:
    """name -> shape for every name whose bindings in ``body`` agree (``params``: the
    parameters' shapes, None where unknown)."""
    bindings = _bindings(body)
    displays = kinds.displays(body, bindings, params)
    bindings = {k: [_through_display(v, displays) for v in vs] for k, vs in bindings.items()}
    state = {ident: _TOP for ident in bindings}
    state.update(params)
    changed = True
    while changed:
        changed = False
        for ident, values in bindings.items():
            if state.get(ident, _TOP) is None:
                continue
            given = [params[ident]] if ident in params else []
            new = _join(given + [v if isinstance(v, tuple) else shape(v, state) for v in values])
            if new != state.get(ident):
                state[ident] = new
                changed = True
    return {k: v for k, v in state.items() if isinstance(v, tuple)}


def _bindings(body):
    """name -> what each of its bindings gives: an expression, or a shape (a loop counter)."""
    found = {}

    def bind(target, value):
        if isinstance(target, gast.Name):
            found.setdefault(target.id, []).append(value)
        elif isinstance(target, (gast.Tuple, gast.List)):
            for t in target.elts:
                bind(t, gast.Constant(value=None, kind=None))  # unknown
    for s in walk_stmts(body):
        if isinstance(s, gast.Assign):
            for t in s.targets:
                bind(t, s.value)
        elif isinstance(s, gast.AugAssign):
            bind(s.target, gast.BinOp(left=name(s.target.id) if isinstance(s.target, gast.Name)
                                      else s.target, op=s.op, right=s.value))
        elif isinstance(s, gast.For):
            counter = _named_call(s.iter, "range")
            bind(s.target, () if counter else gast.Constant(value=None, kind=None))
    return found


def _through_display(v, displays):
    """``d[k]`` of a display ``d`` read as its item, ``np.array(d)`` as ``np.array([...])``,
    for shapes only."""
    if isinstance(v, gast.Subscript) and isinstance(v.value, gast.Name) and v.value.id in displays:
        return kinds.item_of(v, displays)
    if isinstance(v, gast.Call) and _np_function(v.func) in (np.array, np.asarray) and v.args \
            and isinstance(v.args[0], gast.Name) and v.args[0].id in displays:
        return gast.Call(func=v.func, args=[displays[v.args[0].id]] + v.args[1:], keywords=v.keywords)
    return v


_join = kinds._join  # one shape where every binding agrees, as ranks are joined


def shape(node, env):
    """The shape of expression ``node`` given ``env`` (name -> shape; ``id(node)`` may
    override a node's), None when not proven, ``_TOP`` when a name is not decided yet."""
    if id(node) in env:
        return env[id(node)]
    if isinstance(node, gast.Constant):
        ok = isinstance(node.value, (int, float)) and not isinstance(node.value, complex)
        return () if ok else None
    if isinstance(node, gast.Name):
        return env.get(node.id)
    if isinstance(node, gast.BinOp):
        if isinstance(node.op, gast.MatMult):
            return _matmul(shape(node.left, env), shape(node.right, env))
        return broadcast(shape(node.left, env), shape(node.right, env)) \
            if isinstance(node.op, _ARITHMETIC) else None
    if isinstance(node, gast.UnaryOp):
        return shape(node.operand, env) if isinstance(node.op, (gast.USub, gast.UAdd)) else None
    if isinstance(node, gast.Compare) and len(node.comparators) == 1:
        return broadcast(shape(node.left, env), shape(node.comparators[0], env))
    if isinstance(node, gast.Attribute):
        return _attribute(node, env)
    if isinstance(node, gast.Subscript):
        return () if _shape_item(node) else None
    if isinstance(node, gast.IfExp):
        return _join([shape(node.body, env), shape(node.orelse, env)])
    if isinstance(node, gast.Call):
        return _call(node, env)
    return None


def _attribute(node, env):
    if node.attr in ("size", "ndim"):
        return ()
    if node.attr in ("real", "imag"):
        return shape(node.value, env)
    if node.attr == "T":
        s = shape(node.value, env)
        return s[::-1] if isinstance(s, tuple) else s
    return None


def _shape_item(node) -> bool:
    """Whether ``node`` is ``x.shape[k]`` (a number)."""
    return isinstance(node.value, gast.Attribute) and node.value.attr == "shape" and \
        isinstance(node.slice, gast.Constant) and type(node.slice.value) is int


def broadcast(a, b):
    """NumPy's broadcast of two symbolic shapes (None where sizes may differ)."""
    if a is None or b is None:
        return None
    if a is _TOP or b is _TOP:
        return _TOP
    if len(a) < len(b):
        a, b = b, a
    b = (1,) * (len(a) - len(b)) + b
    out = []
    for m, n in zip(a, b):
        if m != n and m != 1 and n != 1:
            return None
        out.append(n if m == 1 else m)
    return tuple(out)


def _matmul(a, b):
    if a is None or b is None or a is _TOP or b is _TOP:
        return None if None in (a, b) else _TOP
    if not a or not b:
        return None
    left, right = (a if len(a) > 1 else (1,) + a), (b + (1,) if len(b) == 1 else b)
    if len(right) < 2 or left[-1] != right[-2]:
        return None
    batch = broadcast(left[:-2], right[:-2])
    if batch is None:
        return None
    return batch + left[-2:-1] * (len(a) > 1) + right[-1:] * (len(b) > 1)


def _call(node, env):
    if _named_call(node, "unbroadcast") and len(node.args) == 2:
        return _summed_shape(shape(node.args[0], env), shape(node.args[1], env))
    if isinstance(node.func, gast.Name) and node.func.id in _LIKE_ARGUMENT:
        k = _LIKE_ARGUMENT[node.func.id]
        return shape(node.args[k], env) if k < len(node.args) else None
    if _named_call(node, "elementwise_shape"):
        return _broadcast_all(node.args, env)
    if _named_call(node, "count"):
        return ()
    if _named_call(node, "unit_seed") and len(node.args) == 1:
        seen = shape(node.args[0], env)
        return seen if seen in ((), _TOP) else None
    fn = _np_function(node.func)
    if fn is None:
        return None
    if fn in (np.array, np.asarray) and len(node.args) == 1 and all(k.arg == "dtype" for k in node.keywords) \
            and isinstance(node.args[0], (gast.Tuple, gast.List)):
        return _stacked(node.args[0].elts, env)
    if fn in _REDUCTIONS:
        return _reduction(node, env)
    if fn in (np.matmul, np.dot) and len(node.args) == 2 and not node.keywords:
        return _product(fn, shape(node.args[0], env), shape(node.args[1], env))
    if fn in _SAME_SHAPE and len(node.args) == 1 and not node.keywords:
        return shape(node.args[0], env)
    if fn is np.transpose and len(node.args) == 1 and not node.keywords:
        s = shape(node.args[0], env)
        return s[::-1] if isinstance(s, tuple) else s
    rule = lookup(fn)
    if rule is not None and rule.kind == "elementwise" and not node.keywords:
        return _broadcast_all(node.args, env)
    return None


def _summed_shape(have, want):
    """The shape of ``unbroadcast(g, x)``: ``x``'s where ``g`` broadcasts from it (a ``g``
    with fewer axes keeps its own sizes)."""
    if _TOP in (have, want):
        return _TOP
    if _known(have) and _known(want) and len(have) >= len(want) and broadcast(have, want) == have:
        return want
    return None


def _product(fn, a, b):
    """The shape of ``np.matmul(a, b)`` or ``np.dot(a, b)`` (``dot`` only up to matrices)."""
    if fn is np.dot and () in (a, b):
        return broadcast(a, b)
    if fn is np.dot and any(_known(s) and len(s) > 2 for s in (a, b)):
        return None
    return _matmul(a, b)


def _stacked(items, env):
    """The shape of ``np.array([items...])`` of numbers: ``(len(items),)``."""
    found = [shape(n, env) for n in items]
    if not items or any(f not in ((), _TOP) for f in found):
        return None
    return _TOP if _TOP in found else (len(items),)


def _broadcast_all(args, env):
    out = ()
    for a in args:
        out = broadcast(out, shape(a, env))
    return out


def _reduction(node, env):
    """``np.sum(a, axis=None, keepdims=False)`` and its kind, with constant options."""
    options = dict(zip(("axis", "dtype", "out", "keepdims"), node.args[1:]))
    options.update({k.arg: k.value for k in node.keywords})
    if not node.args or set(options) - {"axis", "keepdims"} or \
            not all(isinstance(v, gast.Constant) for v in options.values()):
        return None
    s = shape(node.args[0], env)
    if not isinstance(s, tuple):
        return s
    axis = options["axis"].value if "axis" in options else None
    keep = options["keepdims"].value if "keepdims" in options else False
    axes = _axes(axis, len(s))
    if axes is None:
        return None
    return tuple(1 if i in axes else n for i, n in enumerate(s) if keep or i not in axes)


def _axes(axis, rank):
    """The set of axes ``axis`` names in an array of ``rank`` axes (None: not a constant one)."""
    if axis is None:
        return set(range(rank))
    if type(axis) is int and -rank <= axis < rank:
        return {axis % rank}
    return None


def _np_function(func):
    """The NumPy function ``np.<name>`` (``np.linalg.<name>``) names, else None."""
    chain = attribute_chain(func)
    if chain is None or chain[0] != "np" or not chain[1]:
        return None
    value = np
    for part in chain[1]:
        value = getattr(value, part, None)
    return value


def _named_call(node, ident) -> bool:
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == ident


# -- rewriting ---------------------------------------------------------------------------
def specialise(body, params: dict, fixed: set, sums=True):
    """``body`` without the shape helpers its shape facts make idle (see the module's doc).
    ``params``: parameter -> shape; ``fixed``: the parameters ``body`` never binds again
    (their dimensions can be read from them); ``sums``: an ``unbroadcast`` that sums may
    become ``g.sum(...)`` (Numba has no ``keepdims``: it keeps the helper). Returns the new
    body and whether it changed."""
    env = infer(body, params)
    dims = _dimension_sources(params, fixed)
    alike = {s: p for p, s in reversed(params.items()) if p in fixed and _known(s)}
    rewriter = _Rewrite(env, dims, alike, sums, _read_for_shape_only(body))
    body = [rewriter.visit(s) for s in body]
    changed = rewriter.changed
    while _keep_scalar(body, env):
        changed = True
    return body, changed


def _dimension_sources(params, fixed):
    """symbol -> the first parameter axis that has it, as ``(parameter, axis)``."""
    out = {}
    for p, s in params.items():
        if p in fixed and isinstance(s, tuple):
            for k, n in enumerate(s):
                out.setdefault(n, (p, k))
    return out


class _Rewrite(gast.NodeTransformer):
    """The helpers the facts make idle, inner calls first."""

    def __init__(self, env, dims, alike, sums, shape_only):
        self.env, self.dims, self.changed, self.sums = env, dims, False, sums
        self.alike = alike  # shape -> the first parameter of that shape
        self.shape_only = shape_only  # the names read only for their shapes

    def visit_Call(self, node):
        self.generic_visit(node)
        new = self._rewritten(node)
        if new is not node:
            self.changed = True
        return new

    def _rewritten(self, node):
        if _named_call(node, "unbroadcast") and len(node.args) == 2 and not node.keywords:
            return _summed(node.args[0], shape(node.args[0], self.env), shape(node.args[1], self.env),
                           self.sums) or self._shaped_by_parameter(node)
        if _named_call(node, "unreduce") and len(node.args) >= 2:
            same = _known(shape(node.args[0], self.env)) and \
                shape(node.args[0], self.env) == shape(node.args[1], self.env)
            return node.args[0] if same else self._shaped_by_parameter(node)
        if _named_call(node, "count") and node.args and not node.keywords:
            return self._count(node)
        return node

    def _shaped_by_parameter(self, node):
        """``node`` (``unbroadcast`` or ``unreduce``, which read their second argument only
        for its shape) reading a parameter of that shape instead: the value it stood in for
        need not be computed."""
        like = self.alike.get(shape(node.args[1], self.env))
        if like is not None and isinstance(node.args[1], gast.Name) and node.args[1].id != like \
                and node.args[1].id in self.shape_only:
            node.args[1] = name(like)
            self.changed = True
        return node

    def _count(self, node):
        s = shape(node.args[0], self.env)
        if len(node.args) > 2 or len(node.args) == 2 and not isinstance(node.args[1], gast.Constant):
            return node
        axis = node.args[1].value if len(node.args) == 2 else None
        axes = _axes(axis, len(s)) if _known(s) else None
        if axes is None:
            return node
        if len(axes) == len(s) > 1 and s in self.alike:
            return quote_expr(f"{self.alike[s]}.size")
        factors = [self._dimension(s[k]) for k in sorted(axes) if s[k] != 1]
        if None in factors:
            return node
        out = factors[0] if factors else gast.Constant(value=1, kind=None)
        for f in factors[1:]:
            out = gast.BinOp(left=out, op=gast.Mult(), right=f)
        return out

    def _dimension(self, n):
        if n not in self.dims:
            return None
        p, k = self.dims[n]
        return quote_expr(f"{p}.shape[{k}]")


def _read_for_shape_only(body):
    """The names every read of which is one of a helper's shape arguments (dead values')."""
    from .dead_values import shape_args
    reads, shape_reads = {}, {}
    for node in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            reads[node.id] = reads.get(node.id, 0) + 1
        elif isinstance(node, gast.Call):
            for arg in shape_args(node):
                shape_reads[arg.id] = shape_reads.get(arg.id, 0) + 1
    return {v for v, n in reads.items() if shape_reads.get(v) == n}


def _known(s) -> bool:
    return isinstance(s, tuple)


def _summed(g, have, want, sums=True):
    """``unbroadcast(g, x)`` as plain code where ``g``'s shape ``have`` and ``x``'s ``want``
    are known: ``g`` itself, or (``sums``) one ``g.sum(...)`` (None: leave the helper)."""
    if not (_known(have) and _known(want)) or len(have) < len(want):
        return None
    if have == want:
        return g
    if not sums:
        return None
    lead = len(have) - len(want)
    if broadcast(have, want) != have:
        return None
    units = tuple(lead + i for i, n in enumerate(want) if n == 1 and have[lead + i] != 1)
    if lead and units:
        return None  # two reductions: the helper reads as well
    if isinstance(g, gast.UnaryOp) and isinstance(g.op, gast.USub):
        # -(g.sum()) negates the smaller array, and is the same number: rounding is symmetric
        return gast.UnaryOp(op=gast.USub(), operand=_sum_call(g.operand, lead, units))
    return _sum_call(g, lead, units)


def _sum_call(g, lead, units):
    """``g.sum(...)`` over the ``lead`` axes, or over ``units`` keeping them (length 1)."""
    axes = tuple(range(lead)) if lead else units
    axis = gast.Constant(value=axes[0], kind=None) if len(axes) == 1 else \
        gast.Tuple(elts=[gast.Constant(value=a, kind=None) for a in axes], ctx=gast.Load())
    keywords = [gast.keyword(arg="axis", value=axis)]
    if units:
        keywords.append(gast.keyword(arg="keepdims", value=gast.Constant(value=True, kind=None)))
    return gast.Call(func=gast.Attribute(value=g, attr="sum", ctx=gast.Load()), args=[],
                     keywords=keywords)  # an array's method: no np.sum wrapper to pass through


# -- a spread scalar kept a scalar ----------------------------------------------------------
def _keep_scalar(body, env) -> bool:
    """Replace one ``unreduce(g, x, ...)`` whose spread every reader undoes by ``g``; whether
    one was found. ``env`` is updated with the binding's new shape."""
    readers = _readers(body)
    stores = _store_counts(body)
    for parent, field, index, call in _unreduce_calls(body):
        relaxed = _restored_shape(call, env)
        if relaxed is None:
            continue
        target = _bound_name(parent, field)
        if target is not None and stores.get(target) == 1:
            uses = readers.get(target, [])
            trial = dict(env)
            trial[target] = relaxed
            if uses and all(_undone(chain, env, trial) for chain in uses):
                parent.value = call.args[0]
                env[target] = relaxed
                return True
        elif target is None:
            chain = _chain_to(body, call)
            trial = dict(env)
            trial[id(call)] = relaxed
            if chain is not None and _undone(chain, env, trial):
                _replace(parent, field, index, call.args[0])
                return True
    return False


def _restored_shape(call, env):
    """The shape of ``g`` in ``unreduce(g, x, axis, keepdims)`` where it broadcasts to ``x``'s
    without moving axes (axis None, or keepdims) and is smaller; else None."""
    options = call.args[2:4] + [k.value for k in call.keywords]
    if len(call.args) < 2 or not all(isinstance(o, gast.Constant) for o in options):
        return None
    axis = call.args[2].value if len(call.args) > 2 else None
    keep = call.args[3].value if len(call.args) > 3 else False
    if call.keywords or not (axis is None or keep is True):
        return None
    have, want = shape(call.args[0], env), shape(call.args[1], env)
    if not (_known(have) and _known(want)) or have == want or broadcast(have, want) != want:
        return None
    return have if len(have) <= len(want) else None


def _undone(chain, full, relaxed) -> bool:
    """Whether, going up ``chain`` (a node, then its enclosing expressions), an elementwise
    operation gives the same shape with the smaller operand as with the spread one before
    anything else reads it."""
    for node in chain[1:]:
        if not _elementwise(node):
            return False
        if shape(node, relaxed) == shape(node, full) and _known(shape(node, full)):
            return True
    return False


def _elementwise(node) -> bool:
    if isinstance(node, gast.BinOp):
        return isinstance(node.op, _ARITHMETIC)
    if isinstance(node, gast.UnaryOp):
        return isinstance(node.op, (gast.USub, gast.UAdd))
    if isinstance(node, gast.Call) and not node.keywords:
        rule = lookup(_np_function(node.func))
        return rule is not None and rule.kind == "elementwise"
    return False


def _parents(root):
    """child id -> parent, for the expressions under statement ``root``."""
    out = {}
    for node in walk(root):
        for child in gast.iter_child_nodes(node):
            out[id(child)] = node
    return out


def _chain(node, parents):
    chain = [node]
    while id(chain[-1]) in parents and isinstance(parents[id(chain[-1])], gast.expr):
        chain.append(parents[id(chain[-1])])
    return chain


def _readers(body):
    """name -> for each read of it, the chain of expressions enclosing the read."""
    out = {}
    for s in walk_stmts(body):
        for part in _own_parts(s):
            parents = _parents(part)
            for node in walk(part):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                    out.setdefault(node.id, []).append(_chain(node, parents))
    return out


def _own_parts(s):
    """The expressions of statement ``s`` itself, not of blocks nested in it."""
    if isinstance(s, (gast.If, gast.While)):
        return [s.test]
    if isinstance(s, gast.For):
        return [s.iter]
    if isinstance(s, (gast.Assign, gast.AugAssign)):
        targets = s.targets if isinstance(s, gast.Assign) else [s.target]
        return [t for t in targets if not isinstance(t, gast.Name)] + [s.value]
    return [n for n in gast.iter_child_nodes(s) if isinstance(n, gast.expr)]


def _store_counts(body):
    out = {}
    for node in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            out[node.id] = out.get(node.id, 0) + 1
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            out[node.target.id] = out.get(node.target.id, 0) + 1
    return out


def _unreduce_calls(body):
    """(parent, field, index in a list field or None, call) for every ``unreduce`` call."""
    for s in walk_stmts(body):
        holders = [s] + [n for part in _own_parts(s) for n in walk(part)]
        for holder in holders:
            for field in holder._fields:
                value = getattr(holder, field, None)
                items = value if isinstance(value, list) else [value]
                for k, item in enumerate(items):
                    if _named_call(item, "unreduce"):
                        yield holder, field, k if isinstance(value, list) else None, item


def _bound_name(parent, field):
    """The name an assignment binds when ``parent.field`` is its whole value, else None."""
    if isinstance(parent, gast.Assign) and field == "value" and len(parent.targets) == 1 \
            and isinstance(parent.targets[0], gast.Name):
        return parent.targets[0].id
    return None


def _chain_to(body, call):
    for s in walk_stmts(body):
        for part in _own_parts(s):
            parents = _parents(part)
            if id(call) in parents or part is call:
                return _chain(call, parents)
    return None


def _replace(parent, field, index, new):
    if index is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[index] = new
