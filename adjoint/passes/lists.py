"""List concatenation and repetition, lowered to helpers whose rules split the adjoint.

Contract: ``known(body, resolver, params, stores)`` names the locals every binding of which is
a list (a display, a comprehension, ``list(...)``, or such lists joined by ``+`` or repeated by
``*``).
The normaliser calls ``lower`` for every ``a + b`` and ``a * n``; where ``a + b`` joins two
lists it is sure of, or ``a * n`` (``n * a``) repeats one ``n`` times for a count it is sure
is an integer, ``lower`` returns the call ``joined(a, b)`` or ``repeated(a, n)`` (runtime
helpers computing the same list, whose rules split its adjoint: ``rules/builtins.py``), else
None. The operands are evaluated left to right, as Python does. ``a += b`` on a list is
``a = joined(a, b)`` marked augmented, so the alias pass refuses it where another name sees
``a``.

Python's ``+`` on a list and an array, or ``*`` of a list by an array, is NumPy's arithmetic,
not a list operation; an operand whose kind is not known here reaches the arithmetic rules,
whose helper refuses a list's adjoint (``runtime.unbroadcast``) rather than add it as numbers.
"""
from __future__ import annotations

import builtins

import gast

from .. import runtime
from ..astutil import name, walk


def known(body, resolver, params, stores) -> set:
    """The names every binding of which is a list (see the module docstring); ``stores``: name ->
    how many statements bind it (the normaliser's count)."""
    bindings = {}
    for n in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(n, gast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], gast.Name):
            bindings.setdefault(n.targets[0].id, []).append(n.value)
        elif isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            bindings.setdefault(n.target.id, []).append(extension(name(n.target.id), n.op, n.value))
    lists = {k for k, vs in bindings.items() if len(vs) == stores.get(k) and k not in params}
    changed = True
    while changed:
        kept = {k for k in lists if all(is_list(v, lists, resolver) for v in bindings[k])}
        changed, lists = kept != lists, kept
    return lists


def extension(target, op, value):
    """The ``target <op> value`` that ``target <op>= value`` computes: on a list, ``+=`` extends
    it by any iterable (``a += (x, y)``), where ``a + (x, y)`` would raise."""
    e = gast.BinOp(left=target, op=op, right=value)
    e.extends = isinstance(op, gast.Add)
    return e


def is_list(e, lists, resolver) -> bool:
    """Whether ``e`` surely evaluates to a list, given the names ``lists`` that hold one."""
    if isinstance(e, (gast.List, gast.ListComp)):
        return True
    if isinstance(e, gast.Name):
        return e.id in lists
    if isinstance(e, gast.Call):
        return resolver.resolve(e.func) is builtins.list
    if isinstance(e, gast.BinOp) and isinstance(e.op, gast.Add):
        return is_list(e.left, lists, resolver) and (getattr(e, "extends", False)
                                                     or is_list(e.right, lists, resolver))
    if isinstance(e, gast.BinOp) and isinstance(e.op, gast.Mult):
        return _repeated(e, lists, resolver) is not None
    return False


def _repeated(e, lists, resolver):
    """``(list, count)`` of ``list * count`` or ``count * list`` with a count surely an int."""
    for items, count in ((e.left, e.right), (e.right, e.left)):
        if is_list(items, lists, resolver) and _integer(count, resolver):
            return items, count
    return None


def _integer(e, resolver) -> bool:
    if isinstance(e, gast.Constant):
        return type(e.value) is int
    return isinstance(e, gast.Call) and resolver.resolve(e.func) is builtins.len


def lower(norm, e, out):
    """``joined(a, b)`` or ``repeated(a, n)`` for the list ``e`` (a ``BinOp``) builds, or None
    where it is not surely a list operation."""
    if isinstance(e.op, gast.Add) and is_list(e, norm.lists, norm.resolver):
        return norm._call(runtime.joined, "joined", [norm.atom(e.left, out), norm.atom(e.right, out)])
    repeated = _repeated(e, norm.lists, norm.resolver) if isinstance(e.op, gast.Mult) else None
    if repeated is None:
        return None
    left, right = norm.atom(e.left, out), norm.atom(e.right, out)  # in Python's order
    items, count = (left, right) if repeated[0] is e.left else (right, left)
    return norm._call(runtime.repeated, "repeated", [items, count])
