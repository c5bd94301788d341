"""Activity analysis.

Contract: accepts a normalised body, the names of the differentiated
parameters and the name returned. Returns the set of *active* names: those
whose value depends on a differentiated parameter (varied) and can influence
the returned value (useful). Only active names get adjoints. The analysis is
by name and ignores statement order, so it errs on the side of activity.
Comparisons, boolean operators, integer-valued calls (``len``, ``argmax``)
and statements inside ``with adjoint.no_grad():`` never carry a derivative, nor do
the names ``no_derivative`` lists: a generated backward sweep's, unpacked from
its saved tuple, whose values its forward sweep computed from no parameter
(comparisons, integers, constants: see ``compile._without_derivative``).
"""
from __future__ import annotations

import gast

from ..astutil import loaded_names, walk_stmts
from ..rules import lookup
from .objects import is_field_read


def _edges(body, inert_calls, no_derivative=frozenset(), no_grad=True):
    """(target, sources) pairs: the value of ``target`` is computed from ``sources``; none into
    a name of ``no_derivative``, nor (``no_grad``) from a ``no_grad`` block's statements."""
    edges = []
    for s in walk_stmts(body):
        if no_grad and getattr(s, "no_grad", False):
            continue
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Name):
                value = s.value
                if _inert(value, inert_calls):
                    continue
                edges.append((target.id, _value_sources(value)))
            elif isinstance(target, gast.Subscript):
                edges.append((target.value.id, loaded_names(s.value) | {target.value.id}))
        elif isinstance(s, gast.Expr) and getattr(s.value, "callee", None) is list.append:
            edges.append((s.value.func.value.id, loaded_names(s.value.args[0])))
    return [(t, sources) for t, sources in edges if t not in no_derivative]


def _value_sources(value):
    if isinstance(value, gast.Subscript):
        return loaded_names(value.value)  # the index never carries a derivative
    if isinstance(value, gast.Call):
        names = set()
        for a in _derivative_args(value):
            names |= loaded_names(a)
        if getattr(value, "callee", None) in (None, list.pop):
            names |= loaded_names(value.func)  # a method of a local value
        return names
    return loaded_names(value)


def _derivative_args(call):
    """The argument nodes of ``call`` a derivative can flow through (not a rule's ``static`` ones)."""
    nodes = list(call.args) + [k.value for k in call.keywords]
    rule = lookup(getattr(call, "callee", None))
    if rule is None or not rule.static:
        return nodes
    try:
        bound = rule.bind(call.args, call.keywords)
    except TypeError:
        return nodes
    static = {id(bound[p]) for p in rule.static if bound.get(p) is not None}
    return [n for n in nodes if id(n) not in static]


def _inert(value, inert_calls):
    if isinstance(value, (gast.Compare, gast.BoolOp)):
        return True
    if isinstance(value, gast.Attribute):  # a global or a shape; an object's field is a value
        return not is_field_read(value)
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, (gast.Not, gast.Invert)):
        return True
    return isinstance(value, gast.Call) and inert_calls(getattr(value, "callee", None))


def varied_names(body, wrt, inert_calls, edges=None) -> set:
    """Names whose value depends on ``wrt``."""
    edges = _edges(body, inert_calls) if edges is None else edges
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for target, sources in edges:
            if target not in varied and sources & varied:
                varied.add(target)
                changed = True
    return varied


def computed_from(body, params, inert_calls) -> set:
    """Names whose value varies with ``params``: ``varied_names``, but through ``no_grad``
    blocks too, whose values do vary (the code generated from them keeps no mark of the
    block, so differentiating it again differentiates them)."""
    return varied_names(body, params, inert_calls, _edges(body, inert_calls, no_grad=False))


def active_names(body, wrt, output, inert_calls, no_derivative=frozenset()) -> set:
    """Names that are both varied (depend on ``wrt``) and useful (reach ``output``)."""
    edges = _edges(body, inert_calls, no_derivative)
    varied = varied_names(body, wrt, inert_calls, edges)
    useful = {output} if output else set()
    changed = True
    while changed:
        changed = False
        for target, sources in edges:
            if target in useful and not sources <= useful:
                useful |= sources
                changed = True
    return varied & useful


def sharing(body, views, user_function) -> dict:
    """name -> the names that may refer to the same array (itself included); by name, any order.

    adjoint's own output, differentiated again (second order), writes through
    one name and reads another bound to the same array (``h = t.T; h[i] = v``,
    a tape restore into ``h``, then a read of ``t``): its writes are not refused
    as a user's are, so dead-code removal must keep a write while any of those
    names is read later. ``b = a``, a subscript, an attribute, a view function,
    a method's or a user function's result, a container and ``lst.append(a)``
    join ``b`` (or ``lst``) to ``a``.
    """
    group = {}
    for s in walk_stmts(body):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            names = [t.id for t in getattr(target, "elts", [target]) if isinstance(t, gast.Name)]
            _join(group, names + sorted(_shared_sources(s.value, views, user_function)))
        elif isinstance(s, gast.Expr) and getattr(s.value, "callee", None) is list.append:
            item = _shared_sources(s.value.args[0], views, user_function)
            _join(group, [s.value.func.value.id] + sorted(item))
    return {n: frozenset(g) for n, g in group.items() if len(g) > 1}


def _join(group, names):
    merged = set(names)
    for n in names:
        merged |= group.get(n, set())
    for n in merged:
        group[n] = merged


def _shared_sources(value, views, user_function):
    """Names whose array ``value`` may be, or be a part or a view of."""
    if isinstance(value, gast.Name):
        return {value.id}
    if isinstance(value, (gast.Subscript, gast.Attribute)):
        return loaded_names(value.value)
    if isinstance(value, (gast.Tuple, gast.List)):
        return set().union(*(_shared_sources(e, views, user_function) for e in value.elts))
    if isinstance(value, gast.Dict):
        return set().union(*(_shared_sources(v, views, user_function) for v in value.values))
    if isinstance(value, gast.Call):
        callee = getattr(value, "callee", None)
        if callee is None or callee in views or callee is list.pop or user_function(callee):
            return loaded_names(value)
    return set()
