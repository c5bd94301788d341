"""Values read only for their shape are not computed: ``grad`` of a loss computes no loss.

The backward sweep reads some forward values only for their shape or dtype:
the seed ``unit_seed(out)``, ``count(t)``, ``unreduce(g, t, ...)``,
``unbroadcast(g, t)``, ``zeros_like(t)``. This pass, run on a finished function:

- ``unit_seed(v)`` of a proven number is ``1.0`` (a number is a scalar output:
  the check cannot fail);
- a value of proven rank >= 1 that is read only so, and bound once by an
  elementwise expression (arithmetic, elementwise NumPy functions) of names
  and numbers, is bound to ``elementwise_shape(a, b, ...)`` of the expression's
  leaves instead: a zero-stride view of that shape and dtype;

repeatedly, since a stand-in reads its operands only for their shapes too.
Dead-code removal then drops whatever only the replaced values read (the
loss and its ``log1p``). Real functions only: a stand-in knows its dtype from
the operands, which decides what ``unbroadcast`` does only for complex values.
"""
from __future__ import annotations

from collections import Counter

import gast
import numpy as np

from ..astutil import name, walk
from ..rules import lookup
from . import simplify

# helper -> positions of its arguments read only for their shape and dtype
SHAPE_READS = {"count": (0,), "unreduce": (1,), "unbroadcast": (1,), "zeros_like": (0,)}
STAND_IN = "elementwise_shape"
_ELEMENTWISE_OPS = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)


def drop_shape_only(body, ranks, stand_ins=True, shares=None):
    """``body`` computing no value that only its shape is read for (see the module's doc);
    dead code is removed after each round (``shares`` as for ``simplify.dce``)."""
    body, _ = simplify.dce(_constant_seeds(body, ranks), set(), shares=shares)
    while stand_ins:
        bindings = _replaceable(body, ranks)
        if not bindings:
            break
        for stmt in bindings:
            stmt.value = _stand_in(stmt.value)
        body, _ = simplify.dce(body, set(), shares=shares)
    return body


def _constant_seeds(body, ranks):
    """``unit_seed(v)`` -> ``1.0`` where ``v`` is a proven number."""
    class Seeds(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            if _named_call(node, "unit_seed") and len(node.args) == 1 and \
                    isinstance(node.args[0], gast.Name) and ranks.get(node.args[0].id) == 0:
                return gast.Constant(value=1.0, kind=None)
            return node
    return [Seeds().visit(s) for s in body]


def _replaceable(body, ranks):
    """The bindings whose value is read only for its shape and can stand in by shape."""
    reads, shape_reads, stores, bindings = Counter(), Counter(), Counter(), {}
    for node in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Name):
            (stores if isinstance(node.ctx, gast.Store) else reads)[node.id] += 1
        elif isinstance(node, gast.Call):
            for arg in shape_args(node):
                shape_reads[arg.id] += 1
        elif isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name):
            bindings[node.targets[0].id] = node
    return [s for v, s in bindings.items()
            if stores[v] == 1 and reads[v] and reads[v] == shape_reads[v] and (ranks.get(v) or 0) >= 1
            and not _named_call(s.value, STAND_IN) and _elementwise(s.value)]


def shape_args(call):
    """The plain names ``call`` reads only for their shape."""
    if not isinstance(call.func, gast.Name) or call.keywords:
        return []
    if call.func.id == STAND_IN:
        positions = range(len(call.args))
    else:
        positions = SHAPE_READS.get(call.func.id, ())
    return [call.args[k] for k in positions if k < len(call.args) and isinstance(call.args[k], gast.Name)]


def _elementwise(node) -> bool:
    """Whether ``node`` is an elementwise expression of names and numbers (its result has
    their broadcast shape)."""
    if isinstance(node, gast.Name):
        return True
    if isinstance(node, gast.Constant):
        return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    if isinstance(node, gast.BinOp):
        return isinstance(node.op, _ELEMENTWISE_OPS) and _elementwise(node.left) and _elementwise(node.right)
    if isinstance(node, gast.UnaryOp):
        return isinstance(node.op, (gast.USub, gast.UAdd)) and _elementwise(node.operand)
    if isinstance(node, gast.Call):
        return _elementwise_function(node.func) and not node.keywords and all(map(_elementwise, node.args))
    return False


def _elementwise_function(func) -> bool:
    """Whether ``func`` is ``np.<name>`` with an elementwise rule (generated code's ``np`` is NumPy)."""
    if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) and func.value.id == "np"):
        return False
    rule = lookup(getattr(np, func.attr, None))
    return rule is not None and rule.kind == "elementwise"


def _stand_in(value):
    """``elementwise_shape(leaves...)`` for an elementwise expression, its names in reading order."""
    leaves = list(dict.fromkeys(_leaves(value)))
    return gast.Call(func=name(STAND_IN), args=[name(v) for v in leaves], keywords=[])


def _leaves(node):
    """The names an elementwise expression reads, left to right (``np`` of ``np.exp`` is none)."""
    if isinstance(node, gast.Name):
        return [node.id]
    if isinstance(node, gast.BinOp):
        return _leaves(node.left) + _leaves(node.right)
    if isinstance(node, gast.UnaryOp):
        return _leaves(node.operand)
    if isinstance(node, gast.Call):
        return [v for a in node.args for v in _leaves(a)]
    return []


def _named_call(node, ident) -> bool:
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == ident
