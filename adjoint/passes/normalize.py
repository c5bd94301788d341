"""Normalisation to one operation per statement.

Contract: accepts a fenced, jump-normalised FunctionDef body. Returns a body in
which every statement is one of

* ``name = op`` where ``op`` is an atom (a name, a constant or a global
  reference such as ``np.pi``), ``a <binop> b``, ``<unaryop> a``, ``a <cmp> b``,
  a call ``f(a, k=b)`` with atomic arguments, a subscript ``a[index]``, an
  attribute read ``a.shape``, or a tuple/list display of atoms;
* ``name[index] = atom`` (an in-place write; ``index`` holds only atoms and
  slices of atoms);
* ``lst.append(atom)`` or an expression statement with no effect on values
  (``print(...)``), kept as the user wrote it (calls that change a value in place are
  lowered or refused by ``lowering``);
* ``if name:``, ``for name in range(atom, atom, atom):``, ``while name:``,
  ``break`` (tail position only), ``pass``, ``raise``, ``assert``, and the final
  ``return atom``.

Calls carry ``callee``: the object the function expression resolved to (None
for a method of a local value). Methods of arrays (``x.sum()``, ``x.T``) become
calls of the NumPy function. Short-circuit ``and``/``or`` and conditional
expressions become if-statements, so nothing is evaluated that the user's code
would not evaluate. Every statement keeps the ``lineno`` of the user's line.
"""
from __future__ import annotations

import builtins
import types

import numpy as np
import gast

from ..astutil import (at_line, clone, const, dotted, loaded_names, name, stored_names, subst, walk, walk_stmts,
                       with_line)
from .. import runtime
from ..errors import UnsupportedSyntaxError, undefined_call
from ..frontend import LOCAL, UNKNOWN, unsupported
from . import comprehensions, lists, lowering, objects
from .scopes import live_after_loops

# Array methods rewritten as the NumPy function of the same meaning; True marks
# methods whose extra positional arguments form one tuple (x.reshape(2, 3)).
METHODS = {
    "sum": (np.sum, False), "mean": (np.mean, False), "max": (np.max, False),
    "min": (np.min, False), "prod": (np.prod, False), "std": (np.std, False),
    "var": (np.var, False), "cumsum": (np.cumsum, False), "cumprod": (np.cumprod, False),
    "dot": (np.dot, False), "clip": (np.clip, False), "squeeze": (np.squeeze, False),
    "ravel": (np.ravel, False), "flatten": (np.ravel, False), "copy": (np.copy, False),
    "reshape": (np.reshape, True), "transpose": (np.transpose, True),
    "argmax": (np.argmax, False), "argmin": (np.argmin, False), "any": (np.any, False),
    "all": (np.all, False), "conj": (np.conj, False), "conjugate": (np.conj, False),
    "round": (np.round, False), "trace": (np.trace, False), "diagonal": (np.diagonal, False),
    "swapaxes": (np.swapaxes, False), "astype": (None, False), "item": (None, False),
    "repeat": (np.repeat, False), "take": (np.take, False), "nonzero": (np.nonzero, False),
    "argsort": (np.argsort, False), "cumprod_": (None, False),
}
ATTRIBUTES = {"T": np.transpose, "real": np.real, "imag": np.imag}
INERT_ATTRIBUTES = objects.INERT_ATTRIBUTES
# Operations that may return their first argument or a view of it (see passes/aliases.py).
VIEWS = {np.reshape, np.transpose, np.ravel, np.squeeze, np.expand_dims, np.swapaxes,
         np.moveaxis, np.broadcast_to, np.asarray, np.asanyarray, np.ascontiguousarray,
         np.diagonal, np.atleast_1d, np.atleast_2d, np.atleast_3d, np.real, np.imag,
         np.flip, np.fliplr, np.flipud, np.rot90, np.split, np.array_split, np.hsplit,
         np.vsplit, np.rollaxis, np.real_if_close, np.block, np.meshgrid, runtime.items_of}


# What generated names append to a variable's: adjoints, tapes, tangents.
SUFFIXES = ("_bar", "_tape", "_dot", "_tape_items")


class Namer:
    """Deterministic fresh names that avoid every name of the user's function."""

    def __init__(self, taken):
        self.taken = set(taken)
        self.counts = {}
        self.generated = set()

    def fresh(self, base: str) -> str:
        while True:
            self.counts[base] = self.counts.get(base, 0) + 1
            candidate = f"{base}{self.counts[base]}"
            if self._free(candidate):
                self.taken.add(candidate)
                self.generated.add(candidate)
                return candidate

    def exact(self, ident: str) -> str:
        """``ident`` itself if free, else a numbered variant."""
        if self._free(ident):
            self.taken.add(ident)
            return ident
        return self.fresh(ident)

    def _free(self, ident):
        """Neither ``ident`` nor a name derived from it (``ident_bar``, ...) is taken."""
        taken = self.taken  # a loop, not any() over a generator: called for every fresh name
        if ident in taken:
            return False
        for suffix in SUFFIXES:
            if ident + suffix in taken:
                return False
        return True


class Normalizer:
    def __init__(self, parsed, namer: Namer):
        self.parsed = parsed
        self.resolver = parsed.resolver
        self.filename = parsed.filename
        self.namer = namer
        self.line = None
        self.classes = {}  # parameter -> the class of this build's argument (objects only)
        self.methods = None  # an objects.Methods: how calls of methods and properties are spelled
        self.lists = set()  # names every binding of which is a list (``lists.known``)

    # -- statements -------------------------------------------------------
    def block(self, stmts) -> list:
        out = []
        for s in stmts:
            self.line = s.lineno
            out += self.stmt(s)
        return out

    def stmt(self, s) -> list:
        method = getattr(self, "stmt_" + type(s).__name__, None)
        if method is None:
            unsupported(f"the statement '{type(s).__name__}'", s, self.filename)
        out = []
        result = method(s, out)
        out += result or []
        for o in out:
            with_line(o, s.lineno)
        return out

    def stmt_Assign(self, s, out):
        value = s.value
        if len(s.targets) > 1:
            value = self.atom(value, out)
        for target in s.targets:
            self.assign(target, value, out)

    def stmt_AnnAssign(self, s, out):
        if s.value is not None:
            self.assign(s.target, s.value, out)

    def stmt_AugAssign(self, s, out):
        target = s.target
        if isinstance(target, gast.Attribute):
            value = gast.BinOp(left=objects.loaded(target), op=s.op, right=s.value)
            return objects.attribute_write(self, target, value, out)
        if isinstance(target, gast.Name):
            self.assign(target, lists.extension(name(target.id), s.op, s.value), out)
            out[-1].augmented = True  # in place on an array: the alias pass checks who sees it
            return
        index = self.index(target.slice, out)
        current = self.atom(gast.Subscript(value=target.value, slice=index, ctx=gast.Load()), out)
        target = gast.Subscript(value=target.value, slice=index, ctx=gast.Store())
        self.assign(target, gast.BinOp(left=current, op=s.op, right=s.value), out)
        out[-1].augmented_item = current.id  # an item of a list may be an array, changed in place

    def assign(self, target, value, out):
        if isinstance(target, gast.Name):
            op = self.op(value, out)
            if isinstance(op, gast.Name) and op.id == target.id:
                return  # x = x changes nothing
            if target.id in loaded_names(op) and not self._is_atom(op):
                # x = x * w: the reverse sweep needs the old x and the new x's adjoint apart.
                op = self._bind(op, out)
            if self.stores.get(target.id) == 1 and target.id not in self.classes:
                if getattr(op, "held", None) is not None:
                    self.classes[target.id] = op.held  # enc = self.encoder, bound once
                if getattr(op, "items", None) is not None:
                    self.item_classes[target.id] = op.items
            out.append(gast.Assign(targets=[name(target.id, store=True)], value=op, type_comment=None))
        elif isinstance(target, gast.Subscript):
            index = self.index(target.slice, out)
            v = self.atom(value, out)
            base = target.value.id
            if isinstance(v, gast.Name) and v.id == base:
                v = self._bind(v, out)  # a[i] = a: the value's adjoint is another name's
            sub = gast.Subscript(value=name(base), slice=index, ctx=gast.Store())
            out.append(gast.Assign(targets=[sub], value=v, type_comment=None))
        elif isinstance(target, gast.Attribute):
            objects.attribute_write(self, target, value, out)
        else:  # tuple / list unpacking
            whole = self.atom(value, out, hint="unpacked")
            for k, elt in enumerate(target.elts):
                item = gast.Subscript(value=whole, slice=const(k), ctx=gast.Load())
                self.assign(elt, item, out)

    def stmt_Expr(self, s, out):
        v = s.value
        if isinstance(v, gast.Constant):
            return []  # docstring
        if isinstance(v, gast.Call) and isinstance(v.func, gast.Attribute) and v.func.attr == "append" \
                and self.resolver.resolve(v.func.value) is LOCAL and len(v.args) == 1:
            lst = self.atom(v.func.value, out)
            item = self.atom(v.args[0], out)
            call = gast.Call(func=gast.Attribute(value=lst, attr="append", ctx=gast.Load()),
                             args=[item], keywords=[])
            call.callee = list.append
            return [gast.Expr(value=call)]
        if isinstance(v, gast.Call) and v.args and isinstance(v.args[0], gast.Name) \
                and self.resolver.resolve(v.func) is _add_at():
            # generated code accumulates in place; as an assignment the data flow is visible
            target = gast.Name(id=v.args[0].id, ctx=gast.Store(), annotation=None, type_comment=None)
            return self.stmt_Assign(gast.Assign(targets=[target], value=v, type_comment=None), out)
        return lowering.statement_call(self, s, out)

    def stmt_If(self, s, out):
        test = self.atom(s.test, out, hint="cond")
        body = self.block(s.body) or [gast.Pass()]
        orelse = self.block(s.orelse)
        self._if(test, body, orelse, out)

    def _if(self, test, body, orelse, out):
        """``if test: body else: orelse``, its decision in a name neither branch rebinds.

        The backward sweep replays the decision by reading that name again, so a
        branch that rebinds it (``c = a or b`` becomes ``c = a; if not c: c = b``)
        decides on a copy.
        """
        branches = gast.Module(body=body + orelse, type_ignores=[])
        if isinstance(test, gast.Name) and test.id in stored_names(branches):
            test = self._bind(test, out, "cond")
        out.append(gast.If(test=test, body=body, orelse=orelse))

    def stmt_While(self, s, out):
        test_stmts = []
        test = self.atom(s.test, test_stmts, hint="cond")
        if not isinstance(test, gast.Name):
            test = self._bind(test, test_stmts, "cond")
        out += test_stmts
        body = self.block(s.body)
        for t in test_stmts:
            with_line(t, s.lineno)
        self.line = s.lineno
        return [gast.While(test=test, body=_on_to_the_end(body, test_stmts), orelse=[])]

    def stmt_For(self, s, out):
        if lowering.is_dict_loop(self, s):
            return lowering.lower_dict_loop(self, s, out)
        it = s.iter
        callee = self.resolver.resolve(it.func) if isinstance(it, gast.Call) else None
        if callee is reversed and self._reversed_range(it) and isinstance(s.target, gast.Name):
            args, callee = self._backwards(it.args[0], out), range
        elif callee is range:
            args = [self.atom(a, out) for a in it.args]
        if callee is range and isinstance(s.target, gast.Name):
            return [gast.For(target=name(s.target.id, store=True), iter=self._range_call(args),
                             body=self.block(s.body), orelse=[], type_comment=None)]
        if callee is enumerate and isinstance(s.target, gast.Tuple) and len(s.target.elts) == 2 \
                and len(it.args) == 1 and not it.keywords:
            counter, items = s.target.elts[0], [(s.target.elts[1], it.args[0])]
            items = self._unzip(items[0]) or items
        elif callee is zip and not it.keywords and isinstance(s.target, gast.Tuple) \
                and len(s.target.elts) == len(it.args):
            counter, items = None, self._unzip((s.target, it))
        else:
            counter, items = None, [(s.target, it)]
        index = counter if isinstance(counter, gast.Name) else name(self.namer.fresh("k"))
        backwards = [self._reversed_arg(expr) is not None for _, expr in items]
        items = [(t, self._seq(self._reversed_arg(expr) or expr, out, s.body)) for t, expr in items]
        lengths = [self._bind(self._call(len, "len", [seq]), out, "n") for _, seq in items]
        stop = lengths[0] if len(lengths) == 1 else self._bind(self._call(min, "min", lengths), out, "n")
        body = []
        for (target, seq), n, back in zip(items, lengths, backwards):
            at = name(index.id)
            if back:  # reversed(seq): item n - 1 - k
                last = self._bind(gast.BinOp(left=n, op=gast.Sub(), right=const(1)), body, "index")
                at = self._bind(gast.BinOp(left=last, op=gast.Sub(), right=at), body, "index")
            self.assign(target, gast.Subscript(value=seq, slice=at, ctx=gast.Load()), body)
        for b in body:
            with_line(b, s.lineno)
        body += self.block(s.body)
        return [gast.For(target=name(index.id, store=True), iter=self._range_call([stop]),
                         body=body, orelse=[], type_comment=None)]

    def _unzip(self, item):
        """``(a, b)`` over ``zip(x, y)`` as the items ``a`` over ``x`` and ``b`` over ``y``."""
        target, expr = item
        if isinstance(expr, gast.Call) and not expr.keywords and isinstance(target, gast.Tuple) \
                and self.resolver.resolve(expr.func) is zip and len(target.elts) == len(expr.args):
            return list(zip(target.elts, expr.args))
        return None

    def _reversed_range(self, call):
        inner = call.args[0] if len(call.args) == 1 and not call.keywords else None
        return isinstance(inner, gast.Call) and self.resolver.resolve(inner.func) is range \
            and len(inner.args) <= 2 and not inner.keywords

    def _backwards(self, rng, out):
        """``range(a, b)`` reversed: ``range(b - 1, a - 1, -1)``."""
        args = [self.atom(a, out) for a in rng.args]
        start, stop = (const(0), args[0]) if len(args) == 1 else args
        first = self.atom(gast.BinOp(left=stop, op=gast.Sub(), right=const(1)), out, "n")
        last = self.atom(gast.BinOp(left=start, op=gast.Sub(), right=const(1)), out, "n")
        return [first, last, const(-1)]

    def _reversed_arg(self, expr):
        """``seq`` of ``reversed(seq)``, else None."""
        if isinstance(expr, gast.Call) and len(expr.args) == 1 and not expr.keywords \
                and self.resolver.resolve(expr.func) is reversed:
            return expr.args[0]
        return None

    def _seq(self, expr, out, body):
        """The sequence a loop iterates, evaluated once: a name the body does not rebind."""
        expr.consumed = True  # iterated at once: zip(...), itertools.product(...) become lists
        a = self.atom(expr, out, hint="seq")
        if not self._indexable(expr):  # a dict gives its keys, a set its members, as in Python
            seq = self._bind(self._call(runtime.items_of, "items_of", [a]), out, "seq")
        elif isinstance(a, gast.Name) and a.id not in stored_names(gast.Module(body=body, type_ignores=[])):
            return a
        else:
            seq = self._bind(a, out, "seq")
        if isinstance(a, gast.Name) and a.id in self.item_classes:
            self.item_classes[seq.id] = self.item_classes[a.id]  # for layer in self.layers
        return seq

    def _indexable(self, expr):
        """Whether ``expr`` is known to give a sequence whose items ``seq[k]`` reads (a list or
        tuple display, a NumPy result, or a built-in that makes a list); anything else (a name,
        which may hold a dict) is iterated through ``items_of``."""
        if isinstance(expr, (gast.List, gast.Tuple)):
            return True
        callee = self.resolver.resolve(expr.func) if isinstance(expr, gast.Call) else None
        return callee in (zip, list, tuple, sorted, range) or \
            getattr(callee, "__module__", None) == "numpy" or isinstance(callee, np.ufunc)

    def _range_call(self, args):
        call = gast.Call(func=name("range"), args=args, keywords=[])
        call.callee = range
        return call

    def _call(self, fn, ident, args):
        call = gast.Call(func=name(ident), args=args, keywords=[])
        call.callee = fn
        return call

    def stmt_Return(self, s, out):
        value = s.value if s.value is not None else const(None)
        return [gast.Return(value=self.atom(value, out, hint="out"))]

    def stmt_Pass(self, s, out):
        return [s]

    def stmt_Break(self, s, out):
        return [s]

    def stmt_Raise(self, s, out):
        return [s]

    def stmt_Assert(self, s, out):
        return [s]

    def stmt_With(self, s, out):
        inner = self.block(s.body)
        for stmt in inner:
            for sub in walk(stmt):
                if isinstance(sub, gast.stmt):
                    sub.no_grad = True
        return inner

    # -- expressions ------------------------------------------------------
    def _bind(self, op, out, hint="t"):
        ident = self.namer.fresh(hint)
        if getattr(op, "held", None) is not None:  # a temporary bound once to self.encoder
            self.classes[ident] = op.held
        if getattr(op, "items", None) is not None:  # ... or to self.layers
            self.item_classes[ident] = op.items
        out.append(gast.Assign(targets=[name(ident, store=True)], value=op, type_comment=None))
        return name(ident)

    def atom(self, expr, out, hint="t"):
        """An atom holding the value of ``expr``; statements computing it go to ``out``."""
        if isinstance(expr, gast.Attribute) and getattr(self, "written_attributes", None) \
                and self._global_ref(expr) and objects.written_read(self, expr) is not None:
            return self._bind(objects.written_read(self, expr), out, hint)
        if self._is_atom(expr):
            return expr
        op = self.op(expr, out)
        if self._is_atom(op):
            return op
        return self._bind(op, out, hint)

    def _is_atom(self, expr):
        if isinstance(expr, gast.Constant):
            return True
        if isinstance(expr, (gast.Name, gast.Attribute)):
            return self._global_ref(expr) or isinstance(expr, gast.Name)
        return False

    def _global_ref(self, expr):
        if isinstance(expr, gast.Attribute):
            return self._global_ref(expr.value)
        return isinstance(expr, gast.Name) and expr.id not in self.namer.generated \
            and self.resolver.lookup(expr.id) is not LOCAL  # a temporary is a local too

    def op(self, expr, out):
        method = getattr(self, "op_" + type(expr).__name__, None)
        if method is None:
            unsupported(f"the expression '{type(expr).__name__}'", at_line(expr, self.line), self.filename)
        return method(expr, out)

    def op_Name(self, e, out):
        return e

    def op_Constant(self, e, out):
        return e

    def op_BinOp(self, e, out):
        joined = lists.lower(self, e, out)  # a + b of two lists, a * n of a list
        if joined is not None:
            return joined
        return gast.BinOp(left=self.atom(e.left, out), op=e.op, right=self.atom(e.right, out))

    def op_UnaryOp(self, e, out):
        operand = self.atom(e.operand, out)
        if isinstance(e.op, gast.UAdd):
            return operand
        return gast.UnaryOp(op=e.op, operand=operand)

    def op_Compare(self, e, out):
        if len(e.ops) == 1:
            return gast.Compare(left=self.atom(e.left, out), ops=e.ops,
                                comparators=[self.atom(e.comparators[0], out)])
        parts, left = [], e.left
        for op, right in zip(e.ops, e.comparators):
            parts.append(gast.Compare(left=left, ops=[op], comparators=[right]))
            left = right
        return self.op(gast.BoolOp(op=gast.And(), values=parts), out)

    def op_BoolOp(self, e, out):
        result = self.namer.fresh("cond")
        first = self.atom(e.values[0], out)
        out.append(gast.Assign(targets=[name(result, store=True)], value=first, type_comment=None))
        if len(e.values) == 1:
            return name(result)
        rest = gast.BoolOp(op=e.op, values=e.values[1:]) if len(e.values) > 2 else e.values[1]
        inner = []
        self.assign(name(result, store=True), rest, inner)
        test = name(result)
        if isinstance(e.op, gast.Or):
            body, orelse = [gast.Pass()], inner
        else:
            body, orelse = inner, []
        self._if(test, body, orelse, out)
        return name(result)

    def op_IfExp(self, e, out):
        result = self.namer.fresh("choice")
        test = self.atom(e.test, out, hint="cond")
        body, orelse = [], []
        self.assign(name(result, store=True), e.body, body)
        self.assign(name(result, store=True), e.orelse, orelse)
        self._if(test, body, orelse, out)
        return name(result)

    def op_Tuple(self, e, out):
        return gast.Tuple(elts=[self.atom(x, out) for x in e.elts], ctx=gast.Load())

    def op_List(self, e, out):
        return gast.List(elts=[self.atom(x, out) for x in e.elts], ctx=gast.Load())

    def op_Dict(self, e, out):
        if any(k is None for k in e.keys):
            unsupported("** in a dict display", at_line(e, self.line), self.filename)
        return gast.Dict(keys=[self.atom(k, out) for k in e.keys],
                         values=[self.atom(v, out) for v in e.values])

    def op_Set(self, e, out):
        """``{a, b}``: ``set([a, b])``, as a set comprehension is (its members are numbers at most,
        so a differentiable one has no rule, and is refused)."""
        members = gast.List(elts=[self.atom(x, out) for x in e.elts], ctx=gast.Load())
        return self._call(set, "set", [self._bind(members, out, "members")])

    op_ListComp = op_SetComp = op_DictComp = op_GeneratorExp = comprehensions.lower

    def op_JoinedStr(self, e, out):
        return e

    def op_Subscript(self, e, out):
        lowered = lowering.index_trick(self, e, out)
        if lowered is not None:
            return lowered
        base = self.atom(e.value, out)
        if not isinstance(base, gast.Name):
            base = self._bind(base, out)
        sub = gast.Subscript(value=base, slice=self.index(e.slice, out), ctx=gast.Load())
        held = self.item_classes.get(base.id)
        if held is not None:  # an item of self.layers, or a slice of it
            setattr(sub, "items" if isinstance(e.slice, gast.Slice) else "held", held)
        return sub

    def index(self, idx, out):
        if isinstance(idx, gast.Slice):
            parts = [None if p is None else self.atom(p, out) for p in (idx.lower, idx.upper, idx.step)]
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(idx, gast.Tuple):
            return gast.Tuple(elts=[self.index(x, out) for x in idx.elts], ctx=gast.Load())
        return self.atom(idx, out, hint="index")

    def op_Attribute(self, e, out):
        if self._global_ref(e):
            return (objects.written_read(self, e) if getattr(self, "written_attributes", None) else None) or e
        base = self.atom(e.value, out)
        member = objects.class_member(self.class_of(base), e.attr)
        if member is not None and member[0] == "property":
            return self.methods.call(self, member[1], base, [], [], e.attr)
        if self.class_of(base) is not None:  # a user object: every attribute is its own
            read = objects.field_read(base, e.attr)
            read.held = self.methods.held(self.class_of(base), e.attr)  # self.encoder: Encoder
            read.items = self.methods.held(self.class_of(base), e.attr + "[]")  # self.layers
            return read
        if e.attr in ATTRIBUTES:
            fn = ATTRIBUTES[e.attr]
            return self._np_call(fn, [base], [])
        if e.attr in INERT_ATTRIBUTES:
            return gast.Attribute(value=base, attr=e.attr, ctx=gast.Load())
        if not isinstance(base, gast.Name):
            base = self._bind(base, out)
        return objects.field_read(base, e.attr)

    def class_of(self, atom):
        """The class of the object ``atom`` holds, where this build knows it (a parameter)."""
        if isinstance(atom, gast.Name) and atom.id in self.classes:
            return self.classes[atom.id]
        return None

    def op_Call(self, e, out):
        e = lowering.unfreeze(self, e)
        lowered = comprehensions.call(self, e, out)
        if lowered is not None:
            return lowered
        func = e.func
        if isinstance(func, gast.Attribute) and not self._global_ref(func):
            return self._method(e, out)
        callee = self.resolver.resolve(func)
        if callee is UNKNOWN:
            raise UnsupportedSyntaxError(self._undefined(func), self.filename,
                                         getattr(at_line(e, self.line), "lineno", None))
        if callee is LOCAL:
            unsupported("calling a function held in a local variable", at_line(e, self.line),
                        self.filename, "call a module-level function by its name")
        if lowering.writes_out(callee, e):
            return lowering.lower_out(self, e, callee, out)
        args = [self.atom(a, out) for a in e.args]
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value, out)) for k in e.keywords]
        if objects.replaces(callee, args, keywords):  # dataclasses.replace(obj, x=v)
            return objects.replace_call(args[0], keywords)
        call = gast.Call(func=func, args=args, keywords=keywords)
        call.callee = callee
        return call

    def _undefined(self, func):
        """Why ``func`` names nothing, with the name the user probably meant."""
        owner = self.resolver.resolve(func.value) if isinstance(func, gast.Attribute) else None
        if owner is UNKNOWN or owner is LOCAL:
            return f"'{dotted(func)}' is not defined"
        label = f"module '{owner.__name__}'" if isinstance(owner, types.ModuleType) else \
            f"'{dotted(func.value)}'" if owner is not None else ""
        names = [*self.resolver.cells, *self.resolver.globals, *dir(builtins)]  # Python's order
        return undefined_call(dotted(func), owner, label, names)

    def _method(self, e, out):
        receiver = self.atom(e.func.value, out)
        attr = e.func.attr
        args = [self.atom(a, out) for a in e.args]
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value, out)) for k in e.keywords]
        if attr == "_replace" and not args and objects.replaceable(self.class_of(receiver)):
            return objects.replace_call(receiver, keywords)  # a named tuple's obj._replace(x=v)
        if attr == "astype":
            return self._np_call(None, [receiver] + args, keywords, ident="astype")
        if attr == "item":
            return self._np_call(float, [receiver], [], ident="float")
        member = objects.class_member(self.class_of(receiver), attr)
        if member is not None and member[0] in ("method", "static"):
            return self.methods.call(self, member[1], receiver, args, keywords, attr,
                                     static=member[0] == "static")
        if attr in METHODS and METHODS[attr][0] is not None:
            fn, packs = METHODS[attr]
            if packs and len(args) > 1:
                args = [gast.Tuple(elts=args, ctx=gast.Load())]
            return self._np_call(fn, [receiver] + args, keywords)
        call = gast.Call(func=gast.Attribute(value=receiver, attr=attr, ctx=gast.Load()),
                         args=args, keywords=keywords)
        local = isinstance(receiver, gast.Name) and not self._global_ref(receiver)
        call.callee = list.pop if attr == "pop" and not args and not keywords and local else None
        return call

    def _np_call(self, fn, args, keywords, ident=None):
        if ident is None:
            func = gast.Attribute(value=name("np"), attr=fn.__name__, ctx=gast.Load())
        else:
            func = name(ident)
        call = gast.Call(func=func, args=args, keywords=keywords)
        if ident == "astype":
            from ..runtime import astype
            fn = astype
        call.callee = fn
        return call


def _on_to_the_end(body, stmts):
    """``body`` followed by copies of ``stmts`` on every path that does not break.

    A while loop's test is evaluated again at the end of its body; a trip that
    breaks must not evaluate it, or the tapes it pushes would not match the trips.
    The jumps pass leaves a break only as the tail of an if-branch ending its block.
    """
    last = body[-1] if body else None
    if isinstance(last, gast.Break):
        return body
    if isinstance(last, gast.If) and (_breaks(last.body) or _breaks(last.orelse)):
        last.body = _on_to_the_end(last.body, stmts)
        last.orelse = _on_to_the_end(last.orelse, stmts)
        return body
    return body + [clone(t) for t in stmts]


def _breaks(block):
    return any(isinstance(s, gast.Break) or isinstance(s, gast.If) and
               (_breaks(s.body) or _breaks(s.orelse)) for s in block)


def _add_at():
    from ..runtime import add_at
    return add_at






def normalize(parsed, body, namer: Namer, classes=None, methods=None) -> tuple[list, "Normalizer"]:
    """Normalise ``body`` (see module docstring); returns the body and the normaliser.

    ``classes`` maps parameters to the classes of the arguments the build is for
    (see ``objects``); ``methods`` spells the calls of their methods.
    """
    norm = Normalizer(parsed, namer)
    norm.classes = dict(classes or {})
    norm.methods = methods
    norm.written_attributes = objects.written_attributes(body)
    norm.item_classes = {}  # name -> the class of the objects the list or tuple it holds holds
    norm.stores = {}  # name -> how many statements bind it
    for n in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            norm.stores[n.id] = norm.stores.get(n.id, 0) + 1
    norm.lists = lists.known(body, norm.resolver, {a.id for a in _parameters(parsed)}, norm.stores)
    body = norm.block(body)
    _own_loop_counters(body, namer)
    _private_loop_targets(body, namer, {a.id for a in _parameters(parsed)})
    return body, norm


def _parameters(parsed):
    args = parsed.node.args
    return args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]


def _private_loop_targets(body, namer, params):
    """A loop target that a parameter or an assignment also binds, whose values no read after
    the loop sees (``scopes.live_after_loops``), is renamed apart in its loop (``for i in r``
    -> ``for i_1 in r``): the name's other values, maybe of another type (an int counter here,
    an array there), are then a name of their own, which is taped and typed alone."""
    bound = set(params) | {s.targets[0].id for s in walk_stmts(body)
                           if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)}
    live = live_after_loops(body)
    for s in walk_stmts(body):
        if isinstance(s, gast.For) and s.target.id in bound and s.target.id not in live[id(s)]:
            renamed = {s.target.id: namer.fresh(s.target.id + "_")}
            s.target = name(renamed[s.target.id], store=True)
            s.body = [subst(b, renamed) for b in s.body]


def _own_loop_counters(body, namer):
    """A loop whose body binds its target again iterates a fresh counter and binds the target
    from it first (``for k in r: ... k = ...`` -> ``for k1 in r: k = k1 ...``): the reversed loop
    then rebinds only the counter, and the target is an ordinary name the tape keeps."""
    for s in walk_stmts(body):
        if isinstance(s, gast.For) and s.target.id in stored_names(gast.Module(body=s.body, type_ignores=[])):
            counter = namer.fresh(s.target.id)
            bind = gast.Assign(targets=[name(s.target.id, store=True)], value=name(counter))
            s.body.insert(0, with_line(bind, s.lineno))
            s.target = name(counter, store=True)
