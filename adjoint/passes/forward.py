"""Forward-mode transformation.

Contract: accepts a normalised body (see ``normalize``), its active names and
dense names. Returns the body with, after each statement that binds an active
name, the statement computing its tangent ``x_dot``: the primal statement runs
first, so a rule's tangent may use the output (``ans``). Control flow keeps its
shape - forward mode needs no tape. An active name bound to a value that
carries no derivative gets a zero tangent (``zeros_like`` for names read or
written by subscript), so every ``x_dot`` read was bound on the same path.

Tangent expressions come from the rule registry: an elementwise rule's
adjoint template with ``g`` replaced by the argument's tangent and ``conj``
dropped; a structural rule's ``jvp`` ("linear": the call with the argument
replaced by its tangent; or templates in ``t``).
"""
from __future__ import annotations

import copy

import gast

from ..astutil import clone, const, name, quote, quote_expr, with_line
from ..errors import NotDifferentiableError
from ..rules import lookup
from .reverse import BINOPS, UNARYOPS, _fn_name
from .simplify import fold_constants


def dot(ident: str) -> str:
    return f"{ident}_dot"


class _DropConj(gast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, gast.Name) and node.func.id == "conj" and len(node.args) == 1:
            return node.args[0]
        return node


class Forward:
    def __init__(self, active, dense, filename, helper_jvp):
        self.active = active
        self.dense = dense
        self.filename = filename
        self.helper_jvp = helper_jvp  # fn -> (jvp function name, parameter names) or None

    def block(self, stmts):
        out = []
        for s in stmts:
            for new in self.stmt(s):
                with_line(new, s.lineno)
                out.append(new)
        return out

    def stmt(self, s):
        if isinstance(s, gast.If):
            return [gast.If(test=s.test, body=self.block(s.body) or [gast.Pass()],
                            orelse=self.block(s.orelse))]
        if isinstance(s, gast.For):
            return [gast.For(target=s.target, iter=s.iter, body=self.block(s.body) or [gast.Pass()],
                             orelse=[], type_comment=None)]
        if isinstance(s, gast.While):
            return [gast.While(test=s.test, body=self.block(s.body) or [gast.Pass()], orelse=[])]
        if isinstance(s, gast.Assign):
            return self.assign(s)
        if isinstance(s, gast.Expr):
            return [s] + self.expr(s)
        return [s]

    # -- statements ----------------------------------------------------------------
    def assign(self, s):
        target = s.targets[0]
        if isinstance(target, gast.Subscript):
            base = target.value.id
            if base not in self.active:
                return [s]
            tangent = self.tangent_of(s.value)
            sub = gast.Subscript(value=name(dot(base)), slice=clone(target.slice),
                                 ctx=gast.Store())
            return [s, gast.Assign(targets=[sub], value=tangent, type_comment=None)]
        ident = target.id
        if ident not in self.active:
            return [s]
        if getattr(s, "no_grad", False):
            return [s] + self.zero(ident)
        value = s.value
        if isinstance(value, gast.Call) and self._is_helper(value):
            return self.helper_call(ident, value, s)
        tangent = self.value_tangent(ident, value, s)
        if tangent is None:
            return [s] + self.zero(ident)
        return [s, gast.Assign(targets=[name(dot(ident), store=True)], value=tangent,
                               type_comment=None)]

    def expr(self, s):
        call = s.value
        callee = getattr(call, "callee", None)
        if callee is list.append:
            lst = call.func.value.id
            if lst in self.active:
                return quote("lst_dot.append(t)", lst_dot=dot(lst), t=self.tangent_of(call.args[0]))
        if callee is list.pop and call.func.value.id in self.active:
            return quote("lst_dot.pop()", lst_dot=dot(call.func.value.id))
        return []

    def zero(self, ident):
        if ident in self.dense:
            return quote("x_dot = zeros_like(x)", x_dot=dot(ident), x=ident)
        return quote("x_dot = 0.0", x_dot=dot(ident))

    # -- tangents of values ----------------------------------------------------------
    def tangent_of(self, atom):
        """The tangent of an atom: its ``_dot`` name, or 0.0 for a constant."""
        if isinstance(atom, gast.Name) and atom.id in self.active:
            return name(dot(atom.id))
        return const(0.0)

    def _varied(self, atom):
        return isinstance(atom, gast.Name) and atom.id in self.active

    def value_tangent(self, ident, value, s):
        """The tangent expression of ``ident = value``, or None when it is zero."""
        if isinstance(value, gast.Name):
            return self.tangent_of(value) if self._varied(value) else None
        if isinstance(value, gast.BinOp):
            return self.rule(BINOPS[type(value.op)], [value.left, value.right], [], ident, value, s)
        if isinstance(value, gast.UnaryOp):
            fn = UNARYOPS.get(type(value.op))
            return self.rule(fn, [value.operand], [], ident, value, s) if fn else None
        if isinstance(value, gast.Call):
            callee = getattr(value, "callee", None)
            if callee is list.pop:
                lst = value.func.value.id
                return quote_expr("lst_dot.pop()", lst_dot=dot(lst)) if lst in self.active else None
            receiver = [value.func.value] if callee is None else []  # a local value's method
            return self.rule(callee, receiver + value.args, value.keywords, ident, value, s)
        if isinstance(value, gast.Subscript):
            base = value.value
            if not self._varied(base):
                return None
            return gast.Subscript(value=name(dot(base.id)), slice=clone(value.slice),
                                  ctx=gast.Load())
        if isinstance(value, (gast.Tuple, gast.List)):
            if not any(self._varied(e) for e in value.elts):
                return None
            return type(value)(elts=[self.tangent_of(e) for e in value.elts], ctx=gast.Load())
        if isinstance(value, gast.Dict):
            if not any(self._varied(v) for v in value.values):
                return None
            return gast.Dict(keys=clone(value.keys),
                             values=[self.tangent_of(v) for v in value.values])
        return None

    def rule(self, fn, args, keywords, ident, call, s):
        atoms = list(args) + [k.value for k in keywords]
        if not any(self._varied(a) for a in atoms):
            return None
        rule = lookup(fn)
        if rule is None:
            raise NotDifferentiableError(_no_rule(fn), self.filename, s.lineno)
        if not rule.carries_derivative:
            return None
        bound = rule.bind(args, keywords)
        ans = name(ident)
        if isinstance(rule.jvp, dict) and "*" in rule.jvp:
            tangents = {f"{p}_dot": self.tangent_of(n) if n is not None else const(0.0)
                        for p, n in bound.items()}
            nodes = {k: v for k, v in bound.items() if v is not None}
            return quote_expr(rule.jvp["*"], ans=ans, **nodes, **tangents)
        terms = []
        for param, node in bound.items():
            if node is None or not self._varied(node) or not rule.differentiable(param):
                continue
            terms.append(self._contribution(rule, param, bound, node, call, ans, s))
        if not terms:
            return None
        total = terms[0]
        for t in terms[1:]:
            total = gast.BinOp(left=total, op=gast.Add(), right=t)
        return fold_constants(rule.cut(total, bound, ans))

    def _contribution(self, rule, param, bound, node, call, ans, s):
        t = name(dot(node.id))
        if rule.kind == "elementwise":
            return _DropConj().visit(rule.adjoint(param, bound, t, ans))
        if rule.jvp == "linear":
            return _replace_arg(call, node, t)
        if isinstance(rule.jvp, dict) and param in rule.jvp:
            nodes = {k: v for k, v in bound.items() if v is not None}
            return quote_expr(rule.jvp[param], t=t, ans=ans, **nodes)
        raise NotDifferentiableError(f"{rule.name} has no forward-mode rule for its argument "
                                     f"'{param}'", self.filename, s.lineno)

    # -- calls of the user's functions ------------------------------------------------
    def _is_helper(self, call):
        callee = getattr(call, "callee", None)
        return callee is not None and lookup(callee) is None and self.helper_jvp(callee) is not None

    def helper_call(self, ident, call, s):
        fname, params = self.helper_jvp(call.callee)
        keywords = list(call.keywords)
        for k, atom in enumerate(call.args):
            if self._varied(atom) and k < len(params):
                keywords.append(gast.keyword(arg=dot(params[k]), value=self.tangent_of(atom)))
        for kw in call.keywords:
            if self._varied(kw.value):
                keywords.append(gast.keyword(arg=dot(kw.arg), value=self.tangent_of(kw.value)))
        jvp_call = gast.Call(func=name(fname), args=list(call.args), keywords=keywords)
        return quote("y, y_dot = c", s.lineno, y=ident, y_dot=dot(ident), c=jvp_call)


def _no_rule(fn):
    what = _fn_name(fn) if fn is not None else "this call"
    if getattr(fn, "__module__", None) == "adjoint.runtime":
        return (f"differentiating derivative code again needs a forward-mode rule for {what}, "
                "which adjoint does not have yet; higher-order derivatives of this function are "
                "not supported")
    return f"no derivative rule for {what}; register one with adjoint.custom_jvp"


def _replace_arg(call, node, tangent):
    """A copy of ``call`` with the argument ``node`` (by identity) replaced by ``tangent``."""
    new = copy.copy(call)
    if isinstance(call, gast.BinOp):
        new.left = tangent if call.left is node else call.left
        new.right = tangent if call.right is node else call.right
        return new
    if isinstance(call, gast.UnaryOp):
        new.operand = tangent
        return new
    new.args = [tangent if a is node else a for a in call.args]
    new.keywords = [gast.keyword(arg=k.arg, value=tangent if k.value is node else k.value)
                    for k in call.keywords]
    return new
