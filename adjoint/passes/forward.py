"""Forward-mode transformation.

Contract: accepts a normalised body (see ``normalize``), its active names and
dense names. Returns the body with, after each statement that binds an active
name, the statement computing its tangent ``x_dot``: the primal statement runs
first, so a rule's tangent may use the output (``ans``). Control flow keeps its
shape - forward mode needs no tape. An active name bound to a value that
carries no derivative gets a zero tangent, so every ``x_dot`` read was bound on
the same path.

Every tangent has its primal's shape: a zero tangent is ``0.0`` only for a
name proven to be a number (``zeros_like`` otherwise, and in containers, list
appends and helper calls, which index, join and multiply them); the tangent of
an elementwise operation with an operand that carries none is broadcast to the
result (``tangent_fit``). Tangent arrays alias exactly where their primals do:
a name written in place whose tangent would be another name's tangent (``y = x
+ 1.0`` gives ``y_dot = x_dot``) gets a private copy (``tangent_like``), and so does a
name that may share its array with one written in place (``a = x + 1.0; a, r = r, a;
r[m] = 0.0``: ``a_dot`` is not ``x_dot``).

Tangent expressions come from the rule registry: an elementwise rule's
adjoint template with ``g`` replaced by the argument's tangent and ``conj``
dropped; a structural rule's ``jvp`` ("linear": the call with the argument
replaced by its tangent; or templates in ``t``).
"""
from __future__ import annotations

import copy
import inspect

import gast

from ..astutil import clone, const, name, own_keywords, quote, quote_expr, with_line
from ..errors import NotDifferentiableError
from ..rules import lookup
from .objects import as_subscript, bound_fields, constructor_fields, is_field_read, is_replace
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
    def __init__(self, active, dense, filename, helper_jvp, ranks=None, written=()):
        self.active = active
        self.dense = dense
        self.filename = filename
        self.helper_jvp = helper_jvp  # (fn, wrt) -> (jvp name, parameters, own_names) or None
        self.ranks = ranks or {}  # name -> proven rank (see passes.kinds)
        self.written = set(written)  # names written in place (``x[i] = v``), or through an alias

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
            tangent = self.tangent_of(s.value) if self._varied(s.value) else const(0.0)
            sub = gast.Subscript(value=name(dot(base)), slice=clone(target.slice),
                                 ctx=gast.Store())
            return [s, gast.Assign(targets=[sub], value=tangent, type_comment=None)]
        ident = target.id
        if ident not in self.active:
            return [s]
        if getattr(s, "no_grad", False):
            return [s] + self.zero(ident)
        value = s.value
        helper = self._helper(value, s) if isinstance(value, gast.Call) else None
        if helper is not None:
            return self.helper_call(ident, value, helper, s)
        tangent = self.value_tangent(ident, value, s)
        if tangent is None:
            return [s] + self.zero(ident)
        shared = _shared_tangent(tangent)
        if ident in self.written and shared is not None and \
                isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Call)):
            tangent = _call("tangent_like", shared, name(ident))  # y = x + 1.0: not x_dot itself
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

    def entry_zeros(self, params):
        """Zero tangents for parameters outside ``wrt`` that become active by a later binding.

        Activity is by name, so ``a, b = b, a`` with ``wrt=b`` makes ``a`` active
        from the first statement on: its tangent is read before any binding.
        """
        return [s for p in params for s in self.zero(p)]

    def zero(self, ident):
        return quote("x_dot = z", x_dot=dot(ident), z=self.zero_of(name(ident)))

    def zero_of(self, atom):
        """A zero tangent shaped like ``atom``: ``0.0`` for a constant or a proven number."""
        if isinstance(atom, gast.Name) and (atom.id in self.dense or self.ranks.get(atom.id) != 0):
            return gast.Call(func=name("zeros_like"), args=[name(atom.id)], keywords=[])
        return const(0.0)

    # -- tangents of values ----------------------------------------------------------
    def tangent_of(self, atom):
        """The tangent of an atom: its ``_dot`` name, or a zero of its shape."""
        if self._varied(atom):
            return name(dot(atom.id))
        return self.zero_of(atom)

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
            if constructor_fields(callee) is not None:
                return self._construct(callee, value, ident)
            if is_replace(value):
                return self._replace(value)
            if callee is list.pop:
                lst = value.func.value.id
                return quote_expr("lst_dot.pop()", lst_dot=dot(lst)) if lst in self.active else None
            receiver = [value.func.value] if callee is None else []  # a local value's method
            return self.rule(callee, receiver + value.args, value.keywords, ident, value, s)
        if is_field_read(value):
            value = as_subscript(value)  # obj.W: obj_dot["W"], the tangent's field
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

    def _construct(self, cls, call, ident):
        """``r = State(x, v=u)``: ``r_dot = tangent_record(r, x=x_dot, v=u_dot)``."""
        fields = bound_fields(cls, call)
        varied = [gast.keyword(arg=f, value=name(dot(a.id))) for f, a in fields.items()
                  if self._varied(a)]
        if not varied:
            return None
        return gast.Call(func=name("tangent_record"), args=[name(ident)], keywords=varied)

    def _replace(self, call):
        """``r = replace_fields(s, x=v)``: ``r_dot = replace_fields(s_dot, x=v_dot)``."""
        atoms = [call.args[0]] + [k.value for k in call.keywords]
        if not any(self._varied(a) for a in atoms):
            return None
        keywords = [gast.keyword(arg=k.arg, value=self.tangent_of(k.value)) for k in call.keywords]
        return gast.Call(func=name("replace_fields"), args=[self.tangent_of(call.args[0])],
                         keywords=keywords)

    def rule(self, fn, args, keywords, ident, call, s):
        atoms = list(args) + [k.value for k in keywords]
        if not any(self._varied(a) for a in atoms):
            return None
        rule = lookup(fn)
        if rule is None:
            raise NotDifferentiableError(_no_rule(fn), self.filename, s.lineno)
        if not rule.carries_derivative:
            return None
        try:
            bound = rule.bind(args, keywords)
        except TypeError as exc:
            raise NotDifferentiableError(f"{rule.name}: {exc}", self.filename, s.lineno) from None
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
        total = fold_constants(rule.cut(total, bound, ans))
        if rule.kind == "elementwise" and self._may_broadcast(rule, bound):
            return _call("tangent_fit", total, ans)
        return total

    def _may_broadcast(self, rule, bound):
        """Whether an operand that carries no tangent may give the output more axes or entries."""
        for param, node in bound.items():
            if isinstance(node, gast.Name) and self.ranks.get(node.id) != 0 \
                    and not (self._varied(node) and rule.differentiable(param)):
                return True
        return False

    def _contribution(self, rule, param, bound, node, call, ans, s):
        t = name(dot(node.id))
        if param not in rule.grads:
            raise NotDifferentiableError(
                f"{rule.name} is not differentiable with respect to its argument '{param}'",
                self.filename, s.lineno)
        if rule.kind == "elementwise" and not (isinstance(rule.jvp, dict) and param in rule.jvp):
            return _DropConj().visit(rule.adjoint(param, bound, t, ans))
        if rule.jvp == "linear":
            return _replace_arg(call, node, t)
        if isinstance(rule.jvp, dict) and param in rule.jvp:
            nodes = {k: v for k, v in bound.items() if v is not None}
            return quote_expr(rule.jvp[param], t=t, ans=ans, **nodes)
        raise NotDifferentiableError(f"{rule.name} has no forward-mode rule for its argument "
                                     f"'{param}'", self.filename, s.lineno)

    # -- calls of the user's functions ------------------------------------------------
    def _helper(self, call, s):
        """(jvp function, tangents to pass) for a call of the user's function, or None.

        The helper's tangent code is made for the arguments that carry a tangent
        at this call, so a constant argument costs nothing (not even a zero).
        """
        callee = getattr(call, "callee", None)
        if not hasattr(callee, "__code__") or lookup(callee) is not None:
            return None  # a rule's function, a method, or nothing known
        varied = self._varied_params(callee, call, s)
        made = self.helper_jvp(callee, tuple(varied))
        return None if made is None else (made[0], varied, made[2])

    def _varied_params(self, callee, call, s):
        try:
            bound = inspect.signature(callee).bind(*call.args, **{k.arg: k.value
                                                                  for k in call.keywords})
        except (TypeError, ValueError) as exc:
            raise NotDifferentiableError(f"{_fn_name(callee)}: {exc}", self.filename,
                                         s.lineno) from None
        return {p: atom for p, atom in bound.arguments.items() if self._varied(atom)}

    def helper_call(self, ident, call, helper, s):
        fname, varied, own_names = helper
        keywords = own_keywords(call.keywords, own_names) \
            + [gast.keyword(arg=dot(p), value=self.tangent_of(atom))
               for p, atom in zip(own_names(tuple(varied)), varied.values())]
        jvp_call = gast.Call(func=name(fname), args=list(call.args), keywords=keywords)
        return quote("y, y_dot = c", s.lineno, y=ident, y_dot=dot(ident), c=jvp_call)


def _no_rule(fn):
    what = _fn_name(fn) if fn is not None else "this call"
    if str(getattr(fn, "__module__", None)).startswith("adjoint.runtime"):
        return (f"differentiating derivative code again needs a forward-mode rule for {what}, "
                "which adjoint does not have yet; higher-order derivatives of this function are "
                "not supported")
    from .reverse import _library_note
    return f"no derivative rule for {what}{_library_note(fn)}; register one with adjoint.custom_jvp"


def _shared_tangent(tangent):
    """The name whose tangent ``tangent`` may be itself (``x_dot``, ``tangent_fit(x_dot, y)``)."""
    if isinstance(tangent, gast.Call) and isinstance(tangent.func, gast.Name) \
            and tangent.func.id == "tangent_fit":
        tangent = tangent.args[0]
    return tangent if isinstance(tangent, gast.Name) else None


def _call(fn, *args):
    return gast.Call(func=name(fn), args=list(args), keywords=[])


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
