"""Rank inference from the arguments of the first call.

Contract: accepts a normalised body and the ranks (``ndim``) of the
parameters as seen in a call (``None`` when unknown: containers, arrays whose
rank may change). Returns, for every name it can prove it for, the rank of the
value the name holds; a name gets a rank only when all its bindings agree.
An item ``d[k]`` of a tuple display (or of a list display never changed) is
ranked as the item put there, and ``np.array([...])`` of items of one rank has
one more.

The reverse pass uses it for one thing: between two rank-0 values nothing
broadcasts, so ``unbroadcast`` (and the tape entries kept only to know a
shape) disappear from scalar code such as recurrences. Derivatives are
compiled per tuple of argument ranks, so a call with other ranks gets code of
its own.
"""
from __future__ import annotations

import math

import gast
import numpy as np

from ..astutil import attribute_chain, const, root_name, walk, walk_stmts
from ..rules import lookup
from ..rules.registry import CUSTOM

_SCALAR_RESULT = {len, int, float, abs, min, max, round, bool}
_AXIS_REDUCTIONS = {np.sum, np.mean, np.max, np.min, np.amax, np.amin, np.prod, np.std, np.var}
_FULL_REDUCTIONS = _AXIS_REDUCTIONS | {np.linalg.norm, np.vdot, np.trace}


_SAME_RANK = {np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.copy}
_ARRAY_BUILDERS = {np.array, np.asarray}
_FROM_SHAPE = {np.zeros, np.ones, np.empty, np.full}  # their first argument is the shape

_TOP = "top"  # not decided yet: optimistic, so loop-carried values can be proven


def infer(body, param_ranks: dict, integers: set) -> dict:
    bindings = {}
    for s in walk_stmts(body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            bindings.setdefault(s.targets[0].id, []).append(s.value)
        elif isinstance(s, gast.For):
            bindings.setdefault(s.target.id, []).append(gast.Constant(value=0, kind=None))
    shown = displays(body, bindings, param_ranks)
    bindings = {k: [_through_display(v, shown) for v in vs] for k, vs in bindings.items()}
    bindings.update(_tuple_items(bindings, param_ranks))
    state = {ident: _TOP for ident in bindings}
    state.update(param_ranks)
    state.update({("index", k): True for k, d in shown.items() if _int_list(d, {})})
    changed = True
    while changed:
        changed = False
        for ident, values in bindings.items():
            if state[ident] is None:
                continue
            given = [param_ranks[ident]] if ident in param_ranks else []  # a parameter bound again
            new = _join(given + [_rank(v, state, integers) for v in values])
            if new != state[ident]:
                state[ident] = new
                changed = True
    return {k: v for k, v in state.items() if isinstance(v, int) and isinstance(k, str)}


def _tuple_items(bindings, params):
    """For a local every binding of which is a tuple display of one length (``unpacked1 =
    (t1, t2, t3)`` of ``r0, r1, r2 = ...``): its items as names of their own, ``("item", name,
    k)``, bound to the displays' k-th elements, so that ``unpacked1[0]`` has a rank."""
    return {("item", ident, k): [v.elts[k] for v in bindings[ident]]
            for ident, n in _display_lengths(bindings, params).items() for k in range(n)}


def tuple_lengths(body, params) -> dict:
    """name -> n for each local every binding of which is a tuple display of ``n`` items: it
    always holds ``n`` values, so ``t[k]`` for a constant ``k`` names one of them."""
    bindings = {}
    for s in walk_stmts(body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            bindings.setdefault(s.targets[0].id, []).append(s.value)
        elif isinstance(s, gast.For):
            bindings.setdefault(s.target.id, []).append(None)
    return _display_lengths(bindings, set(params))


def _display_lengths(bindings, params):
    lengths = {}
    for ident, values in bindings.items():
        sizes = {len(v.elts) if isinstance(v, gast.Tuple) and
                 not any(isinstance(e, gast.Starred) for e in v.elts) else None for v in values}
        if ident not in params and len(sizes) == 1 and None not in sizes:
            lengths[ident] = sizes.pop()
    return lengths


def displays(body, bindings, params):
    """name -> the tuple or list display it holds, where it is bound once to one and (a list)
    never changed: an item of it is the name the display put there."""
    changed = set(params)
    for node in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Expr):  # lst.append(v), a call that may change its arguments
            changed |= {n.id for n in walk(node) if isinstance(n, gast.Name)}
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and isinstance(node.func.value, gast.Name):  # x = lst.pop()
            changed.add(node.func.value.id)
        elif isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(node.ctx, gast.Store):
            changed.update({root_name(node)} - {None})
    return {k: vs[0] for k, vs in bindings.items() if len(vs) == 1 and k not in changed
            and isinstance(vs[0], (gast.Tuple, gast.List))}


def _through_display(v, displays):
    """``v`` with ``d[k]`` of a display ``d`` read as its item, ``np.array(d)`` as
    ``np.array([...])`` and ``np.zeros(d)`` as ``np.zeros((...))``, for ranking only."""
    if isinstance(v, gast.Subscript) and isinstance(v.value, gast.Name) and v.value.id in displays:
        return item_of(v, displays)
    if isinstance(v, gast.Call) and getattr(v, "callee", None) in _ARRAY_BUILDERS | _FROM_SHAPE and v.args \
            and isinstance(v.args[0], gast.Name) and v.args[0].id in displays:
        built = gast.Call(func=v.func, args=[displays[v.args[0].id]] + v.args[1:], keywords=v.keywords)
        built.callee = v.callee
        return built
    return v


def item_of(v, displays):
    """The item ``d[k]`` (``k`` a number) of display ``d`` reads, else ``v`` itself."""
    items = displays[v.value.id].elts
    k = v.slice.value if isinstance(v.slice, gast.Constant) and type(v.slice.value) is int else None
    return items[k] if k is not None and -len(items) <= k < len(items) else v


def _join(found):
    found = [f for f in found if f is not _TOP]
    if not found:
        return _TOP
    if None in found or len(set(found)) > 1:
        return None
    return found[0]


def _rank(v, ranks, integers=frozenset()):
    if isinstance(v, gast.Constant):
        return 0 if isinstance(v.value, (int, float, complex, bool)) else None
    if isinstance(v, gast.Name):
        return ranks.get(v.id)
    if isinstance(v, gast.BinOp):
        if isinstance(v.op, gast.MatMult):
            return _product(v.left, v.right, ranks, integers, np.matmul)
        return _broadcast([v.left, v.right], ranks, integers)
    if isinstance(v, gast.UnaryOp):
        return _rank(v.operand, ranks, integers)
    if isinstance(v, gast.Compare):
        return _broadcast([v.left] + v.comparators, ranks, integers)
    if isinstance(v, gast.Subscript):
        return _subscript(v, ranks, integers)
    if isinstance(v, gast.Attribute):
        if v.attr in ("ndim", "size"):
            return 0
        if v.attr == "shape":
            return 1  # a tuple of ints: indexing it with an int gives a number
        if v.attr in ("T", "real", "imag"):
            return _rank(v.value, ranks, integers)
        return None
    if isinstance(v, gast.Call):
        return _call(v, ranks, integers)
    return None


def _stacked(items, ranks, integers):
    """The rank of ``np.array([items...])``: one more than the items' (all equal) rank."""
    found = [_rank(n, ranks, integers) for n in items]
    if not items or None in found:
        return None
    known = {f for f in found if f is not _TOP}
    if len(known) > 1:
        return None
    return known.pop() + 1 if known else _TOP


def _broadcast(nodes, ranks, integers):
    """The rank of the operands broadcast together; not decided while one of them is not (its
    rank may yet be the larger: ``seed * t3`` ranked before ``t3`` is not ``seed``'s rank)."""
    found = [_rank(n, ranks, integers) for n in nodes]
    if None in found:
        return None
    return _TOP if _TOP in found else max(found)


def _product(a, b, ranks, integers, fn):
    """The rank of ``np.matmul(a, b)`` or ``np.dot(a, b)``."""
    ra, rb = _rank(a, ranks, integers), _rank(b, ranks, integers)
    if ra is None or rb is None:
        return None
    if ra is _TOP or rb is _TOP:
        return _TOP
    if fn is np.dot:
        return ra + rb if 0 in (ra, rb) else ra + rb - 2
    if 0 in (ra, rb):
        return None  # matmul refuses scalars
    if ra == 1 or rb == 1:
        return ra + rb - 2
    return max(ra, rb)


def _subscript(v, ranks, integers):
    if isinstance(v.value, gast.Name) and isinstance(v.slice, gast.Constant) and \
            type(v.slice.value) is int and ("item", v.value.id, v.slice.value) in ranks:
        return ranks[("item", v.value.id, v.slice.value)]  # an item of a tuple display
    base = _rank(v.value, ranks, integers)
    if base is None or base is _TOP:
        return base
    parts = v.slice.elts if isinstance(v.slice, gast.Tuple) else [v.slice]
    ints = sum(_is_int(p, integers) for p in parts)
    new_axes = sum(isinstance(p, gast.Constant) and p.value is None for p in parts)
    slices = sum(isinstance(p, gast.Slice) for p in parts)
    lists = sum(_int_list(p, ranks) for p in parts)
    if ints + new_axes + slices + lists != len(parts) or ints + slices + lists > base:
        return None
    if lists:  # advanced indexing: the lists and numbers broadcast to one axis in their place
        return base - ints - lists + 1 + new_axes
    return base - ints + new_axes  # basic indexing: each number drops an axis


def _int_list(node, ranks) -> bool:
    """A list display of int literals, or a name bound once to one and never changed: an
    index array of one axis (``a[[2, 0, 2]]``)."""
    if isinstance(node, gast.Name):
        return ranks.get(("index", node.id), False)
    return isinstance(node, gast.List) and bool(node.elts) and all(
        isinstance(e, gast.Constant) and type(e.value) is int for e in node.elts)


def _is_int(node, integers):
    if isinstance(node, gast.Constant):
        return type(node.value) is int
    return isinstance(node, gast.Name) and node.id in integers


def _call(v, ranks, integers):
    fn = getattr(v, "callee", None)
    if fn in _SCALAR_RESULT:
        return 0
    if fn is np.outer:
        return 2  # of its operands flattened, whatever their ranks
    if fn in _ARRAY_BUILDERS and len(v.args) == 1 and isinstance(v.args[0], (gast.Tuple, gast.List)) \
            and all(k.arg == "dtype" for k in v.keywords):
        return _stacked(v.args[0].elts, ranks, integers)
    if fn in _FULL_REDUCTIONS and len(v.args) == 1 and not v.keywords:
        return 0
    if fn in _AXIS_REDUCTIONS and v.args:
        return _reduced(v, ranks, integers)
    if fn in _SAME_RANK and v.args and not v.keywords:
        return _rank(v.args[0], ranks, integers)
    if fn in _FROM_SHAPE and v.args:
        return _shape_length(v.args[0], ranks, integers)
    if fn in (np.matmul, np.dot) and len(v.args) == 2 and not v.keywords:
        return _product(v.args[0], v.args[1], ranks, integers, fn)
    rule = lookup(fn)
    if rule is not None and rule.kind in ("elementwise", "zero") and not v.keywords:
        return _broadcast(v.args, ranks, integers)
    if fn is not None and getattr(fn, "__module__", None) == "math" or \
            (fn is not None and fn in vars(math).values()):
        return 0
    return None


def _reduced(v, ranks, integers):
    """The rank of ``np.sum(x, axis=1)`` (an axis or a tuple of axes, given as numbers, with
    ``keepdims`` or without): ``x``'s, less the axes removed; unknown for anything else."""
    options = {k.arg: k.value for k in v.keywords}
    if len(v.args) == 2 and "axis" not in options:
        options["axis"] = v.args[1]
    if len(v.args) > 2 or set(options) - {"axis", "keepdims"}:
        return None
    keep = options.get("keepdims", const(False))
    removed = _axes_removed(options.get("axis", const(None)))
    if not (isinstance(keep, gast.Constant) and type(keep.value) is bool) or removed is None:
        return None
    found = _rank(v.args[0], ranks, integers)
    if found is None or found is _TOP or keep.value:
        return found
    if removed == "all":
        return 0
    return found - removed if found >= removed else None


def _axes_removed(axis):
    """How many axes ``axis=`` removes: "all" for None, else a count; None if not constant."""
    if isinstance(axis, gast.Constant) and axis.value is None:
        return "all"
    items = axis.elts if isinstance(axis, gast.Tuple) else [axis]
    if all(isinstance(a, gast.Constant) and type(a.value) is int for a in items):
        return len(items)
    return None


def _shape_length(shape, ranks, integers):
    """The rank of an array made from ``shape``: one axis for a number (``np.zeros(K)``, a
    0-d array too), one per item of a tuple or list display; else unknown."""
    if isinstance(shape, (gast.Tuple, gast.List)):
        return len(shape.elts) if not any(isinstance(e, gast.Starred) for e in shape.elts) else None
    found = _rank(shape, ranks, integers)
    return 1 if found == 0 else None if found is not _TOP else _TOP


def argument_rank(value):
    """The rank adjoint compiles for: 0 for real numbers, ndim for real arrays, None otherwise."""
    kind = type(value)
    if kind is float or kind is int or kind is np.float64 or kind is np.float32:
        return 0
    if kind is np.ndarray and value.dtype.kind != "c":
        return value.ndim
    return None  # containers, complex values: no rank (and no realness) is assumed


def call_key(value):
    """A cheap stand-in for one argument in the call cache of a compiled derivative.

    Equal keys mean equal ``argument_rank``, an equal shape pattern
    (``passes.shapes``) and an equal verdict on whether the value can be
    differentiated: float arrays by shape, other arrays by dtype kind and
    shape, anything else by its type. A shape costs no more than a rank here.
    """
    kind = type(value)
    if kind is float:
        return 0
    if kind is np.ndarray:
        return value.shape if value.dtype.kind == "f" else (value.dtype.kind, value.shape)
    return kind


# -- realness ----------------------------------------------------------------------
# Functions whose real arguments can give a complex result: the FFTs, eig and eigvals
# (NumPy 2.5's always do), a matrix square root of a matrix with negative eigenvalues.
_COMPLEX_SOURCES = ("numpy.fft.", "scipy.fft.")
_COMPLEX_RESULTS = {"numpy.linalg.eig", "numpy.linalg.eigvals", "scipy.linalg.eig",
                    "scipy.linalg.eigvals", "scipy.linalg.sqrtm"}


# Functions whose results are real whatever their arguments (the math module takes no complex).
_REAL_RESULTS = (np.real, np.imag, np.abs, np.angle, abs, np.linalg.norm, np.linalg.eigvalsh,
                 np.linalg.svdvals, len)
_REAL_MODULES = ("np", "numpy", "math")
_REAL_CONSTANTS = ("pi", "e", "inf", "nan", "euler_gamma", "tau")


def _always_real(fn) -> bool:
    from ..runtime import real_part
    try:
        return fn in _REAL_RESULTS or fn is real_part or getattr(fn, "__module__", None) == "math"
    except TypeError:  # an array's == compares elementwise
        return False


def keeps_real(rule) -> bool:
    """Whether ``rule``'s function gives real results for real arguments (a user's custom
    rule is not known to)."""
    return not (rule.name.startswith(_COMPLEX_SOURCES) or rule.name in _COMPLEX_RESULTS
                or rule.name.endswith("astype") or rule.notes == CUSTOM)


def infer_real(body, params, real_params: set) -> set:
    """Names proven to hold real (not complex) values when ``real_params`` are real.

    Adjoint templates follow the conjugate convention (``g * conj(f'(x))``); for
    real values ``conj`` is the identity, and the reverse pass drops it. A name
    is real only when every binding is proven real: an expression adjoint cannot
    read (an attribute such as ``np.complex128``, a call without a rule) is not.
    """
    bindings = {}
    for s in walk_stmts(body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            bindings.setdefault(s.targets[0].id, []).append(s.value)
        elif isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript) \
                and isinstance(s.targets[0].value, gast.Name):  # a list or dict may take it
            bindings.setdefault(s.targets[0].value.id, []).append(s.value)
        elif isinstance(s, gast.For):  # an item of a real sequence is real
            bindings.setdefault(s.target.id, []).append(s.iter)
        elif isinstance(s, gast.Expr) and getattr(s.value, "callee", None) is list.append:
            bindings.setdefault(s.value.func.value.id, []).append(s.value.args[0])
    # optimistic: every binding real until shown otherwise; parameters as the call says
    real = set(real_params) | (set(bindings) - set(params))
    changed = True
    while changed:
        changed = False
        for ident, values in bindings.items():
            if ident in real and not all(_is_real(v, real) for v in values):
                real.discard(ident)
                changed = True
    return real


def _is_real(v, real):
    if isinstance(v, gast.Constant):
        return not isinstance(v.value, complex)
    if isinstance(v, gast.Name):
        return v.id in real
    if isinstance(v, gast.Compare):  # booleans
        return True
    if isinstance(v, (gast.BinOp, gast.UnaryOp, gast.BoolOp, gast.IfExp, gast.Tuple, gast.List)):
        return all(_is_real(n, real) for n in gast.iter_child_nodes(v) if isinstance(n, gast.expr))
    if isinstance(v, gast.Subscript):
        return _is_real(v.value, real)
    if isinstance(v, gast.Attribute):
        return _real_attribute(v, real)
    if isinstance(v, gast.Call):
        return _real_call(v, real)
    return False


def _real_attribute(v, real):
    if v.attr in ("shape", "ndim", "size", "real", "imag"):
        return True
    if v.attr in ("T", "mT"):
        return _is_real(v.value, real)
    return isinstance(v.value, gast.Name) and v.value.id in _REAL_MODULES \
        and v.attr in _REAL_CONSTANTS


def _real_call(v, real):
    fn = getattr(v, "callee", None)
    if _always_real(fn):
        return True
    rule = lookup(fn)
    if rule is None or not keeps_real(rule) or any(k.arg == "dtype" for k in v.keywords):
        return False
    return all(_is_real(a, real) for a in list(v.args) + [k.value for k in v.keywords])


def real_template(expr, real) -> bool:
    """Whether generated code ``expr`` surely makes a real value from the names in ``real``
    and the adjoints of those (which the reverse pass keeps real)."""
    if isinstance(expr, gast.Name):
        base = expr.id[:-4] if expr.id.endswith("_bar") else expr.id
        return base in real
    if isinstance(expr, gast.Call):
        fn = _template_function(expr.func)
        rule = lookup(fn)
        if not (_always_real(fn) or rule is not None and keeps_real(rule)):
            return False
        return all(real_template(a, real) for a in list(expr.args) + [k.value for k in expr.keywords])
    if isinstance(expr, (gast.Constant, gast.Compare, gast.Attribute)):
        return _is_real(expr, real)
    if isinstance(expr, (gast.BinOp, gast.UnaryOp, gast.Tuple, gast.List, gast.Subscript,
                         gast.Slice, gast.IfExp)):
        return all(real_template(n, real) for n in gast.iter_child_nodes(expr)
                   if isinstance(n, gast.expr))
    return False


def _template_function(func):
    """The function a template's ``np.linalg.solve`` or ``unreduce`` (a runtime helper) names."""
    from .. import runtime
    chain = attribute_chain(func)
    if chain is None:
        return None
    value = np if chain[0] == "np" else getattr(runtime, chain[0], None)
    for part in chain[1]:
        value = getattr(value, part, None)
    return value

