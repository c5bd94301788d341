"""Lowering, during normalisation, of constructs that have no rule of their own.

Calls that change an array in place (``np.add.at``, a ufunc's ``out=``, ``np.copyto``,
``np.put``, ``a.fill``, ``a.sort()``) become a pure call and a whole-array write
``a[...] = t``: an in-place write, which reverse mode differentiates and tapes like any
other. ``np.r_``/``np.c_`` become ``np.concatenate``, loops over a dict's ``items()``,
``values()`` or ``keys()`` loop over its keys, and a method of a frozen SciPy distribution,
``norm(loc, scale).logpdf(x)``, becomes the distribution's ``norm.logpdf(x, loc, scale)``.
What cannot be lowered is refused at the user's line: a call whose effect on a value
adjoint cannot see would give a wrong derivative with no error.

Each function takes the ``Normalizer`` (``norm``) and the list ``out`` that receives the
statements computing its operands, like the normaliser's own methods.
"""
from __future__ import annotations

import types
import warnings

import numpy as np
import gast

from .. import runtime
from ..astutil import at_line, const, dotted, loaded_names, name, with_line
from ..frontend import LOCAL, unsupported
from ..rules import lookup

_SCATTERS = {np.add: False, np.subtract: True}  # ufunc -> whether ``.at`` adds the negation
_PURE_STATEMENTS = {print, warnings.warn}  # calls with effects on nothing adjoint differentiates


# -- expression statements ---------------------------------------------------------------
def statement_call(norm, s, out) -> list:
    """The statements of the expression statement ``s``: a mutating call lowered, a call
    that may change a local value refused, anything else kept as written."""
    call = s.value
    if not isinstance(call, gast.Call):
        return [s]
    if isinstance(call.func, gast.Attribute) and not norm._global_ref(call.func):
        return _method_statement(norm, s, call, out)
    callee = norm.resolver.resolve(call.func)
    lower = _LOWERINGS.get(_key(callee))
    if lower is not None:
        lower(norm, call, callee, out)
        return []
    if writes_out(callee, call):
        norm.op(call, out)  # lowered by op_Call; the value (the out array) is unused
        return []
    if _is_pure(callee) or not _reads_locals(norm, call):
        return [s]
    _refuse_call(norm, call, f"calling '{dotted(call.func)}' as a statement")


def _is_pure(callee) -> bool:
    """Whether a call of ``callee`` changes no value of the function: a function with a rule
    (given no ``out``), ``print``, ``warnings.warn`` or a ``logging`` call."""
    if getattr(callee, "__module__", None) == "logging":
        return True
    return _key(callee) in _PURE_STATEMENTS or lookup(callee) is not None


def _key(callee):
    """``callee`` itself, or ``(ufunc, 'at')`` for a ufunc's ``at`` method."""
    owner = getattr(callee, "__self__", None)
    if isinstance(owner, np.ufunc) and getattr(callee, "__name__", "") == "at":
        return (owner, "at") if owner in _SCATTERS else ("ufunc", "at")
    try:
        hash(callee)
    except TypeError:
        return None
    return callee


def _method_statement(norm, s, call, out):
    attr = call.func.attr
    if attr in _METHOD_LOWERINGS:
        _METHOD_LOWERINGS[attr](norm, call, out)
        return []
    if attr == "pop" and not call.args and not call.keywords:
        norm.atom(call, out)  # ``lst.pop()`` for its effect: a popped value nobody reads
        return []
    from .normalize import METHODS
    if attr in METHODS:
        return [s]  # an array method with no effect; its value is unused
    _refuse_call(norm, call, f"calling the method '.{attr}()' as a statement")


def _reads_locals(norm, call) -> bool:
    return any(norm.resolver.lookup(n) is LOCAL for n in loaded_names(call))


def _refuse_call(norm, call, what):
    unsupported(what, at_line(call, norm.line), norm.filename,
                "it may change its arguments in place, which adjoint cannot follow; "
                "use a function that returns the new value")


# -- in-place calls, as a pure call and a whole-array write -------------------------------
def _write_whole(norm, target, value, out, index=Ellipsis):
    """``target[...] = value`` (an in-place write the view check and reverse mode know)."""
    if not isinstance(target, gast.Name) or norm.resolver.lookup(target.id) is not LOCAL:
        unsupported("changing a value that is not a local variable in place",
                    at_line(target, norm.line), norm.filename, "write into a local array")
    slot = const(Ellipsis) if index is Ellipsis else gast.Slice(lower=None, upper=None, step=None)
    sub = gast.Subscript(value=name(target.id), slice=slot, ctx=gast.Store())
    norm.assign(sub, value, out)


def _helper(norm, fn, args, keywords, out, hint="t"):
    """A call of ``fn`` on atoms, bound to a fresh name."""
    ident = fn.__name__
    call = gast.Call(func=name(ident), args=args, keywords=keywords)
    call.callee = fn
    return norm._bind(call, out, hint)


def _atoms(norm, call, out):
    args = [norm.atom(a, out) for a in call.args]
    keywords = {k.arg: norm.atom(k.value, out) for k in call.keywords}
    return args, keywords


def _bound(norm, call, params, out):
    """The call's arguments by parameter name (atoms), for a known signature ``params``."""
    args, keywords = _atoms(norm, call, out)
    if len(args) > len(params) or set(keywords) - set(params):
        unsupported(f"this call of '{dotted(call.func)}'", at_line(call, norm.line), norm.filename)
    bound = dict(zip(params, args))
    bound.update(keywords)
    return bound


def lower_scatter(norm, call, callee, out):
    """``np.add.at(a, i, v)`` -> ``t = scatter_add(a, i, v); a[...] = t`` (repeated indices
    add up, as in NumPy); ``np.subtract.at`` adds ``-v``."""
    owner = getattr(callee, "__self__", None)
    if owner not in _SCATTERS:
        unsupported(f"'{dotted(call.func)}'", at_line(call, norm.line), norm.filename,
                    "only np.add.at and np.subtract.at are differentiated")
    b = _bound(norm, call, ["a", "indices", "b"], out)
    if "b" not in b:
        unsupported(f"'{dotted(call.func)}' without values", at_line(call, norm.line), norm.filename)
    v = b["b"]
    if _SCATTERS[owner]:
        v = norm._bind(gast.UnaryOp(op=gast.USub(), operand=v), out)
    t = _helper(norm, runtime.scatter_add, [b["a"], b["indices"], v], [], out)
    _write_whole(norm, b["a"], t, out)


def lower_copyto(norm, call, callee, out):
    """``np.copyto(dst, src, where=m)`` -> ``dst[...] = np.where(m, src, dst)`` (or ``src``)."""
    b = _bound(norm, call, ["dst", "src", "casting", "where"], out)
    value = b["src"]
    if "where" in b:
        value = norm._bind(norm._np_call(np.where, [b["where"], value, b["dst"]], []), out)
    _write_whole(norm, b["dst"], value, out)


def lower_put(norm, call, callee, out):
    """``np.put(a, ind, v, mode)`` -> ``t = put_into(a, ind, v, mode); a[...] = t``."""
    b = _bound(norm, call, ["a", "ind", "v", "mode"], out)
    args = [b["a"], b["ind"], b["v"]] + ([b["mode"]] if "mode" in b else [])
    _write_whole(norm, b["a"], _helper(norm, runtime.put_into, args, [], out), out)


def lower_fill(norm, call, out):
    """``a.fill(v)`` -> ``t = np.full_like(a, v); a[...] = t``."""
    receiver = norm.atom(call.func.value, out)
    args, keywords = _atoms(norm, call, out)
    if len(args) != 1 or keywords:
        unsupported("this call of '.fill()'", at_line(call, norm.line), norm.filename)
    value = norm._bind(norm._np_call(np.full_like, [receiver, args[0]], []), out)
    _write_whole(norm, receiver, value, out)


def lower_sort(norm, call, out):
    """``a.sort(axis, kind)`` -> ``t = np.sort(a, axis, kind); a[:] = t`` (also for a list)."""
    if any(k.arg in ("key", "reverse") for k in call.keywords):
        unsupported("sorting with key= or reverse=", at_line(call, norm.line), norm.filename,
                    "sort with np.sort, and reverse with [::-1]")
    receiver = norm.atom(call.func.value, out)
    args, keywords = _atoms(norm, call, out)
    kw = [gast.keyword(arg=k, value=v) for k, v in keywords.items()]
    value = norm._bind(norm._np_call(np.sort, [receiver] + args, kw), out)
    _write_whole(norm, receiver, value, out, index=slice(None))


_LOWERINGS = {(np.add, "at"): lower_scatter, (np.subtract, "at"): lower_scatter,
              ("ufunc", "at"): lower_scatter, np.copyto: lower_copyto, np.put: lower_put}
_METHOD_LOWERINGS = {"fill": lower_fill, "sort": lower_sort}


# -- out= ----------------------------------------------------------------------------------
def writes_out(callee, call) -> bool:
    """Whether ``call`` writes its result into an ``out`` array (keyword, a ufunc's positional
    output, or the positional ``out`` of a function with a rule, ``np.clip(a, lo, hi, y)``)."""
    if isinstance(callee, np.ufunc) and len(call.args) > callee.nin:
        return True
    if any(k.arg == "out" and not _is_none(k.value) for k in call.keywords) \
            and not _users_function(callee):  # a parameter of the user's called 'out' is a parameter
        return True
    return _out_position(callee, call) is not None


def _users_function(callee) -> bool:
    return isinstance(callee, types.FunctionType) and lookup(callee) is None \
        and not (callee.__module__ or "").startswith("numpy")


def _out_position(callee, call):
    """The index of a positional ``out`` argument of a function with a rule, or None."""
    rule = lookup(callee)
    params = list(rule.signature.parameters) if rule is not None else []
    if "out" not in params or params.index("out") >= len(call.args):
        return None
    return None if _is_none(call.args[params.index("out")]) else params.index("out")


def lower_out(norm, e, callee, out):
    """``f(x, out=y)`` -> ``t = f(x); y[...] = t``, with ``y`` the call's value."""
    target = None
    args, keywords = list(e.args), []
    k_out = _out_position(callee, e)
    if isinstance(callee, np.ufunc) and len(args) > callee.nin:
        args, target = args[:callee.nin], args[callee.nin]
    elif k_out is not None:  # the arguments after ``out`` go by name
        params = list(lookup(callee).signature.parameters)
        keywords = [gast.keyword(arg=params[i], value=a) for i, a in enumerate(args) if i > k_out]
        args, target = args[:k_out], args[k_out]
    for k in e.keywords:
        if k.arg == "out":
            target = k.value
        elif k.arg == "where":
            unsupported("out= with where=", at_line(e, norm.line), norm.filename,
                        "compute np.where(mask, f(x), y) instead")
        else:
            keywords.append(k)
    if isinstance(target, gast.Tuple) and len(target.elts) == 1:
        target = target.elts[0]
    pure = gast.Call(func=e.func, args=args, keywords=keywords)
    value = norm.atom(pure, out)
    _write_whole(norm, target, value, out)
    return name(target.id)


def _is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


# -- np.r_ and np.c_ ---------------------------------------------------------------------------
def index_trick(norm, e, out):
    """``np.r_[a, b]`` -> ``np.concatenate([np.atleast_1d(a), ...])``; ``np.c_[a, b]`` joins
    columns along the last axis; None for any other subscript. Slices and string directives
    are refused when they meet values of the function (the result would carry no derivative)."""
    if not _is_index_trick(norm, e.value):
        return None
    trick = norm.resolver.resolve(e.value)
    parts = e.slice.elts if isinstance(e.slice, gast.Tuple) else [e.slice]
    if any(isinstance(p, gast.Slice) or _is_str(p) for p in parts):
        if any(norm.resolver.lookup(n) is LOCAL for n in loaded_names(e.slice)):
            unsupported(f"{dotted(e.value)}[...] with slices or directives on values of the "
                        "function", at_line(e, norm.line), norm.filename,
                        "use np.concatenate, np.stack or np.arange")
        return None
    row = trick is np.r_
    pieces = []
    for p in parts:
        a = norm.atom(p, out)
        pieces.append(norm._bind(norm._np_call(np.atleast_1d, [a], []) if row else
                                 _column_call(a), out))
    joined = norm._bind(gast.List(elts=pieces, ctx=gast.Load()), out)
    axis = gast.keyword(arg="axis", value=const(0 if row else -1))
    return norm._np_call(np.concatenate, [joined], [axis])


def _is_index_trick(norm, base) -> bool:
    """Whether ``base`` (the value of a subscript) is ``np.r_`` or ``np.c_``."""
    if not isinstance(base, gast.Attribute) or not norm._global_ref(base):
        return False
    obj = norm.resolver.resolve(base)
    return obj is np.r_ or obj is np.c_


def _column_call(a):
    call = gast.Call(func=name("as_column"), args=[a], keywords=[])
    call.callee = runtime.as_column
    return call


def _is_str(node):
    return isinstance(node, gast.Constant) and isinstance(node.value, str)


# -- loops over a dict ---------------------------------------------------------------------------
_DICT_VIEWS = ("items", "values", "keys")


def is_dict_loop(norm, s) -> bool:
    """Whether ``s`` is ``for ... in d.items()`` (or ``values()``, ``keys()``) of a local ``d``."""
    it = s.iter
    return isinstance(it, gast.Call) and isinstance(it.func, gast.Attribute) \
        and it.func.attr in _DICT_VIEWS and not it.args and not it.keywords \
        and not norm._global_ref(it.func)


def lower_dict_loop(norm, s, out):
    """``for k, v in d.items(): body`` -> ``keys = keys_of(d)`` and
    ``for i in range(len(keys)): k = keys[i]; v = d[k]; body``: a loop over the keys that reads
    each value by its key, so the value's adjoint goes back to its entry of ``d``."""
    view = s.iter.func.attr
    d = norm.atom(s.iter.func.value, out)
    if not isinstance(d, gast.Name):
        d = norm._bind(d, out, "seq")
    keys = _helper(norm, runtime.keys_of, [d], [], out, "keys")
    n = norm._bind(norm._call(len, "len", [keys]), out, "n")
    index = norm.namer.fresh("k")
    body = []
    key = norm.atom(gast.Subscript(value=keys, slice=name(index), ctx=gast.Load()), body, "key")
    value = gast.Subscript(value=d, slice=key, ctx=gast.Load())
    if view == "keys":
        norm.assign(s.target, key, body)
    elif view == "values":
        norm.assign(s.target, value, body)
    elif isinstance(s.target, gast.Tuple) and len(s.target.elts) == 2:
        norm.assign(s.target.elts[0], key, body)
        norm.assign(s.target.elts[1], value, body)
    else:
        norm.assign(s.target, gast.Tuple(elts=[key, value], ctx=gast.Load()), body)
    for b in body:
        with_line(b, s.lineno)
    body += norm.block(s.body)
    return [gast.For(target=name(index, store=True), iter=norm._range_call([n]), body=body,
                     orelse=[], type_comment=None)]


# -- frozen SciPy distributions ------------------------------------------------------------
_FROZEN_METHODS = {"logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "logpmf", "pmf"}


def unfreeze(norm, call):
    """``dist(*a, **k).method(x)`` as ``dist.method(x, *a, **k)``, which is what the frozen
    distribution computes, when ``dist`` is a SciPy distribution with a rule for ``method``;
    any other call unchanged."""
    func = call.func
    if not (isinstance(func, gast.Attribute) and func.attr in _FROZEN_METHODS
            and isinstance(func.value, gast.Call) and norm._global_ref(func.value.func)
            and len(call.args) == 1 and not call.keywords):
        return call
    dist = norm.resolver.resolve(func.value.func)
    if not type(dist).__module__.startswith("scipy.stats") or \
            lookup(getattr(dist, func.attr, None)) is None:
        return call
    frozen = func.value
    method = gast.Attribute(value=frozen.func, attr=func.attr, ctx=gast.Load())
    return gast.Call(func=method, args=call.args + frozen.args, keywords=frozen.keywords)
