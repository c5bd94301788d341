"""Shifts that cancel: the max subtracted in a softmax, a log-softmax or a log-sum-exp.

Contract: accepts a normalised body and the ranks of its names (``passes.kinds``).
Returns the names ``m`` whose value provably does not change any value read
after it: ``m = np.max(z, axis=a, keepdims=True)`` (or ``np.min``, or over
every entry) is subtracted, and every value computed from a ``u - m`` ends, in
the same block, in one where ``m`` cancels:

* ``(u - m) - log(sum(exp(v - m)))`` (log-softmax),
* ``exp(u - m) / sum(exp(v - m))`` (softmax),
* ``m + log(sum(exp(v - m)))`` (log-sum-exp),

the sums over the axis along which ``m`` is constant. The derivative with
respect to ``m`` is then zero in exact arithmetic, so the reverse sweep treats
``m`` as a constant: no adjoint flows into the max (no ``extremum_grad``), as
a careful person writes the gradient and as ``jax.nn.logsumexp`` stops it.
One read of ``m`` or of a value still shifted by it anywhere else (another
operation, another block, a second binding) keeps ``m`` active.
"""
from __future__ import annotations

from collections import Counter

import gast
import numpy as np

from ..astutil import blocks, name_nodes, walk_stmts

SHIFTED, SCALED = "shifted", "scaled"  # u - m, and u * exp(-m)
_UNKNOWN = object()  # an option that is not a constant
_EXTREMA = {np.max, np.amax, np.min, np.amin}


def cancelled(body, ranks: dict) -> set:
    """The names whose shift cancels in every value read after them (see the module)."""
    stores, loads = _counts(body)
    known = _constants(body, stores)
    out = set()
    for block in _blocks(body):
        for k, s in enumerate(block):
            axis = _extremum_axis(s, ranks, known)
            m = s.targets[0].id if axis is not False else None
            if m and stores[m] == 1 and \
                    _Chain(m, axis, {**ranks, m: ranks.get(s.value.args[0].id)}, stores, known) \
                    .cancels(block[k + 1:], loads):
                out.add(s.targets[0].id)
    return out


def _blocks(body):
    yield body
    for s in walk_stmts(body):
        yield from blocks(s)


def _counts(body):
    stores, loads = Counter(), Counter()
    for node in name_nodes(gast.Module(body=body, type_ignores=[])):
        (stores if isinstance(node.ctx, gast.Store) else loads)[node.id] += 1
    return stores, loads


def _constants(body, stores):
    """Names bound once to a number (normalisation binds ``axis=-1``'s ``-1`` to a name)."""
    out = {}
    for s in walk_stmts(body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                and stores[s.targets[0].id] == 1 and _number(s.value) is not None:
            out[s.targets[0].id] = _number(s.value)
    return out


def _number(node):
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float, bool)):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub) \
            and isinstance(node.operand, gast.Constant) and type(node.operand.value) is int:
        return -node.operand.value
    return None


def _extremum_axis(s, ranks, known):
    """The axis, counted from the end, along which ``s``'s target ``m = np.max(...)`` is
    constant; None when it is constant everywhere (one number, or every axis kept); False
    when ``s`` is no such binding."""
    if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
            and isinstance(s.value, gast.Call) and getattr(s.value, "callee", None) in _EXTREMA
            and s.value.args and isinstance(s.value.args[0], gast.Name)):
        return False
    options = _options(s.value, ("a", "axis", "out", "keepdims"), known)
    if options is None or set(options) - {"axis", "keepdims"}:
        return False
    if options.get("axis") is None:
        return None
    return _from_end(options["axis"], ranks.get(s.value.args[0].id)) \
        if options.get("keepdims") is True else False


def _options(call, names, known):
    """The constant options of ``call`` by parameter name (the first argument excluded)."""
    given = list(zip(names[1:], call.args[1:])) + [(k.arg, k.value) for k in call.keywords]
    values = {k: v.value if isinstance(v, gast.Constant) else
              known.get(v.id, _UNKNOWN) if isinstance(v, gast.Name) else _UNKNOWN
              for k, v in given}
    return None if _UNKNOWN in values.values() else values


def _from_end(axis, rank):
    if not isinstance(axis, int) or isinstance(axis, bool):
        return False
    if axis < 0:
        return axis
    return axis - rank if isinstance(rank, int) and axis < rank else False


class _Chain:
    """The values shifted (``u - m``) or scaled (``u * exp(-m)``) by one ``m``, followed
    statement by statement through one block."""

    def __init__(self, m, axis, ranks, stores, known):
        """``ranks`` holds ``m``'s rank (its argument's, as its axes are kept) and the chain
        values' ranks join it as they are found: a sum's axis is placed from their end."""
        self.m, self.axis, self.ranks, self.stores, self.known = m, axis, dict(ranks), stores, known
        self.kinds = {}
        self.reads = Counter()

    def cancels(self, later, loads) -> bool:
        for s in later:
            if not self._follow(s):
                return False
        return all(self.reads[n] == loads[n] for n in [self.m, *self.kinds])

    def _follow(self, s) -> bool:
        """Take in ``s``: False where it reads the chain other than by a known step."""
        watched = {self.m, *self.kinds}
        if not any(n.id in watched for n in name_nodes(s)):
            return True
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                and self.stores[s.targets[0].id] == 1):
            return False
        kind = self._step(s.value)
        if kind is False:
            return False
        self.reads.update(n.id for n in name_nodes(s.value) if n.id in watched)
        if kind is not None:
            self.kinds[s.targets[0].id] = kind
            self.ranks[s.targets[0].id] = _joined_rank(s.value, self.ranks)
        return True

    def _kind(self, node):
        """``SHIFTED``/``SCALED`` for a chain value, ``m`` for ``m``, None for a value free of it."""
        if isinstance(node, gast.Name):
            return "m" if node.id == self.m else self.kinds.get(node.id)
        return None if isinstance(node, gast.Constant) else False

    def _step(self, value):
        """The kind of ``value`` (None: free of ``m``), or False for a step not known to cancel."""
        if isinstance(value, gast.BinOp):
            return _BINARY.get((type(value.op), self._kind(value.left), self._kind(value.right)), False)
        if isinstance(value, gast.Call) and len(value.args) >= 1:
            callee, kind = getattr(value, "callee", None), self._kind(value.args[0])
            if callee is np.exp and len(value.args) == 1 and not value.keywords and kind == SHIFTED:
                return SCALED
            if callee is np.log and len(value.args) == 1 and not value.keywords and kind == SCALED:
                return SHIFTED
            if callee is np.sum and kind == SCALED and self._sums_along(value):
                return SCALED
        return False

    def _sums_along(self, call) -> bool:
        """A sum of a scaled value over axes along which ``m`` is constant, its axes kept."""
        options = _options(call, ("a", "axis", "dtype", "out", "keepdims"), self.known)
        if options is None or set(options) - {"axis", "keepdims"}:
            return False
        if self.axis is None:
            return True
        return options.get("keepdims") is True and \
            _from_end(options.get("axis"), self.ranks.get(call.args[0].id)) == self.axis


def _joined_rank(value, ranks):
    """The rank of an elementwise ``value`` (a sum keeps its axes): its operands' largest."""
    operands = [value.left, value.right] if isinstance(value, gast.BinOp) else value.args[:1]
    found = [0 if isinstance(a, gast.Constant) else ranks.get(a.id) for a in operands]
    return None if None in found else max(found)


# (operator, left kind, right kind) -> kind of the result; None: m cancelled
_BINARY = {
    (gast.Sub, None, "m"): SHIFTED,
    (gast.Add, SHIFTED, None): SHIFTED,
    (gast.Add, None, SHIFTED): SHIFTED,
    (gast.Sub, SHIFTED, None): SHIFTED,
    (gast.Sub, SHIFTED, SHIFTED): None,
    (gast.Add, "m", SHIFTED): None,
    (gast.Add, SHIFTED, "m"): None,
    (gast.Mult, SCALED, None): SCALED,
    (gast.Mult, None, SCALED): SCALED,
    (gast.Div, SCALED, None): SCALED,
    (gast.Div, SCALED, SCALED): None,
}
