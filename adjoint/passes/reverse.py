"""Reverse-mode transformation.

Contract: accepts a normalised body (see ``normalize``), its scopes and its
active names. Produces a forward sweep (the primal statements plus what the
tape must record) and a backward sweep (adjoint statements in reverse order),
both in terms of the markers below, which ``placement`` turns into plain
statements once it knows which primal values the backward sweep reads:

* ``accumulate`` - ``x_bar`` receives a contribution;
* ``reset`` - ``x_bar`` goes back to zero once the binding it belonged to is
  undone (a variable rebound in a loop has one adjoint per binding);
* ``save``/``restore`` - push the value a binding overwrites, pop it back
  afterwards in the backward sweep;
* ``save_after``/``load`` - push the value of a block-local variable, pop it
  at the top of its reversed block;
* ``save_item``/``restore_item`` - the same for the element an in-place
  write overwrites.

The tape is explicit in the generated source: one Python list per variable,
``x_tape``, with ``append`` in the forward and ``pop`` in the backward sweep.
A branch's decision is a variable like any other, so it is taped when it is
overwritten in a loop; a loop's trip count is computed from its ``range``, or
counted when the loop can break or is a ``while``.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field

import gast

from ..astutil import (clone, const, item_read, name, name_nodes, own_keywords, quote, quote_expr,
                       walk, with_line)
from ..errors import NotDifferentiableError
from ..rules import lookup
from .objects import as_subscript, bound_fields, constructor_fields, is_field_read, is_replace
from . import kinds
from .simplify import strip_conj

NEUTRAL = {"np", "math", "scipy"}  # names in templates that are modules, never values

BINOPS = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
          gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
          gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod}
UNARYOPS = {gast.USub: operator.neg, gast.UAdd: operator.pos}


BAR = "_bar"


def bar(ident: str) -> str:
    return ident + BAR


def tape(ident: str) -> str:
    return f"{ident}_tape"


def item_tape(ident: str) -> str:
    """The tape of the items in-place writes overwrite in ``ident``."""
    return f"{ident}_tape_items"


def marker(kind: str, ident: str, lineno, **extra):
    node = gast.Pass()
    node.marker = kind
    node.var = ident
    node.lineno = lineno
    for k, v in extra.items():
        setattr(node, k, v)
    return node


@dataclass
class Reversed:
    fwd: list
    bwd: list
    dense: set
    prebind: set = field(default_factory=set)
    helpers: list = field(default_factory=list)


class Reverse:
    def __init__(self, scopes, active, dense, namer, filename, helper_pair):
        self.scopes = scopes
        self.active = active
        self.dense = dense
        self.namer = namer
        self.filename = filename
        self.helper_pair = helper_pair  # fn -> (fwd name, bwd name, params, wrt, real params)
        self.loop_depth = 0
        self.top_stmt = None
        self.prebind = set()
        self.blocks = []  # (primal block, helper residuals bound in it) being reversed
        self.scalars = set()  # names proven to hold rank-0 values
        self.real = set()  # names proven to hold real values
        self.ranks = {}  # name -> rank, where proven (see passes.kinds)
        self.specialise = True  # spell out matrix-product adjoints whose ranks are known
        self.params = []  # active parameters
        self.params_all = set()
        self.seen_defs = set()
        self.unchanged = set()  # parameters neither bound again nor written: read, never changed
        self.settled = {}  # array made and used by elements -> (its block, its last write there)
        self.positions = []  # (block id, position in it) of the statements being reversed
        self.counters = []  # the targets of the loops around the statement being reversed
        self.recomputed = {}  # loop local -> the read its reversed block repeats instead of a tape
        self.tape_sites = {}  # name -> the tapes of its bindings, in order
        self.item_sites = {}  # name -> the tapes of the items its in-place writes overwrite
        self.recompute_calls = False  # elementwise functions of stable numbers too (Numba)
        self.lists_concatenate = False  # list + list concatenates on this backend (Numba)
        self.seed = None  # the expression seeding the output's adjoint
        self.output = None  # the name whose adjoint the seed starts

    # -- blocks -----------------------------------------------------------
    def block(self, stmts, top=False):
        """Forward and backward sweeps of one block, with its locals' tape and adjoint set-up."""
        fwd, bwd = [], []
        self.blocks.append((stmts, []))
        self.positions.append(None)
        for at, s in enumerate(stmts):
            self.positions[-1] = (id(stmts), at)
            if top:
                self.top_stmt = s
            f, b = self.stmt(s, stmts)
            fwd += f
            bwd = b + bwd
        _, helper_saved = self.blocks.pop()
        self.positions.pop()
        in_loop = id(stmts) in self.scopes.loop_blocks
        saved = self._locals_bound(stmts) + helper_saved if in_loop else []
        loads = [marker("recompute", ident, stmts[0].lineno, value=clone(self.recomputed[ident]))
                 if ident in self.recomputed else marker("load", ident, stmts[0].lineno)
                 for ident in saved]
        locals_ = [v for v in self._locals_bound(stmts) + (self.params if top else [])
                   if v in self.active]
        return fwd, loads + self._place_inits(locals_, bwd)

    def _locals_bound(self, stmts):
        return [ident for s in stmts for ident in _bound_by(s) if self.scopes.is_local(ident, stmts)]

    def _place_inits(self, locals_, bwd):
        """Give each block-local adjoint its first value right where the reversed block needs it.

        The first contribution becomes a plain assignment when it is a top-level
        statement of the block; otherwise ``x_bar`` starts at zero just before
        the first statement that touches it. Nothing earlier in the block can
        read it, and the next pass through the block starts afresh.
        """
        touched = [_touched(stmt) for stmt in bwd]
        inits = {}  # statement index -> the adjoints that start there
        for ident in locals_:
            i = next((k for k, names in enumerate(touched) if ident in names), None)
            if i is None:
                continue
            stmt = bwd[i]
            if getattr(stmt, "marker", None) == "accumulate" and ident not in self.dense \
                    and stmt.var == ident:
                stmt.first = True
            else:
                inits.setdefault(i, []).append(marker("init", ident, stmt.lineno))
        out = []
        for i, stmt in enumerate(bwd):
            out += inits.get(i, []) + [stmt]
        return out

    def stmt(self, s, block):
        method = getattr(self, "stmt_" + type(s).__name__)
        f, b = method(s, block)
        for node in f + b:
            with_line(node, s.lineno)
        return f, b

    # -- bindings ---------------------------------------------------------
    def _bind_markers(self, ident, block, lineno):
        """The tape markers around a binding of ``ident`` in ``block``."""
        if self.scopes.is_local(ident, block):
            if id(block) in self.scopes.loop_blocks:
                return [], [marker("save_after", ident, lineno)], []
            return [], [], []
        if not self.scopes.overwritten(ident):
            return [], [], []
        first = ident not in self.seen_defs
        self.seen_defs.add(ident)
        if first and not self.loop_depth and ident not in self.params_all:
            return [], [], []  # the first binding: there is no older value to keep
        if ident not in self.scopes.bound_before.get(id(self.top_stmt), set()):
            self.prebind.add(ident)  # may be unbound when first saved
        t = self._site_tape(ident)
        return [marker("save", ident, lineno, tape=t)], [], [marker("restore", ident, lineno, tape=t)]

    def _site_tape(self, ident):
        """The tape of the values one binding of ``ident`` overwrites: one per binding, since the
        backward sweep undoes each binding's trips in the reverse order of that binding's own,
        so that a binding whose old values the backward sweep never reads (``v`` before
        ``v += ...`` whose adjoint passes through) is taped by nobody."""
        sites = self.tape_sites.setdefault(ident, [])
        sites.append(tape(ident) if not sites else tape(self.namer.fresh(ident + "_")))
        return sites[-1]

    def _item_site_tape(self, ident):
        """The tape of the items one in-place write into ``ident`` overwrites: one per write, as
        for bindings, so that each tape holds items of one kind (an element is a number, a
        slice an array of the slice's rank), which Numba's typed tapes need."""
        sites = self.item_sites.setdefault(ident, [])
        sites.append(item_tape(ident) if not sites else item_tape(self.namer.fresh(ident + "_")))
        return sites[-1]

    def _reset(self, ident, block, lineno):
        if ident in self.active and not self.scopes.is_local(ident, block):
            return [marker("reset", ident, lineno)]
        return []

    def stmt_Assign(self, s, block):
        target = s.targets[0]
        if isinstance(target, gast.Subscript):
            return self._write(s, target)
        ident = target.id
        before, after, restore = self._bind_markers(ident, block, s.lineno)
        if after and self._recomputable(ident, s.value):
            after, self.recomputed[ident] = [], s.value
        if ident in self.active and not getattr(s, "no_grad", False):
            forward, adjoint = self.assign_value(ident, s.value, s)
        else:
            forward, adjoint = [s], []
        # restored first: a dense adjoint starts again at zeros shaped like the older value
        return before + forward + after, adjoint + restore + self._reset(ident, block, s.lineno)

    def _recomputable(self, ident, value) -> bool:
        """Whether the loop local ``ident = value`` gives the same value when its reversed block
        evaluates it again, so that the block repeats it rather than taping it: an element of a
        parameter that never changes (or of an array no later statement writes, see
        ``scopes.settled_arrays``) at a stable index or its size along an axis, or arithmetic
        of stable numbers (``index[r, c] + d``, ``x[i, c] - means[k, c]`` through its operands;
        on Numba an elementwise function of them too, ``np.exp(icf[k, r])``, in an inner loop: its tape
        would grow with the product of the trip counts, while in a top-level loop it holds one
        number a trip, and storing and loading one costs less than an ``exp``)."""
        if self.scopes.defs.get(ident) != 1:
            return False
        if self._size_of_unchanged(value):
            return True
        if isinstance(value, gast.Subscript):
            parts = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
            return isinstance(value.value, gast.Name) and self._unchanged_here(value.value.id) and \
                self.ranks.get(value.value.id) == len(parts) and \
                all(self._stable(p, self.scopes.integers) for p in parts)
        if self.ranks.get(ident) != 0:
            return False
        if isinstance(value, gast.BinOp):
            return self._stable(value.left) and self._stable(value.right)
        if isinstance(value, gast.Call):
            rule = lookup(getattr(value, "callee", None))
            return self.recompute_calls and len(self.counters) > 1 and rule is not None and \
                rule.kind == "elementwise" \
                and not value.keywords and all(map(self._stable, value.args))
        return isinstance(value, gast.UnaryOp) and self._stable(value.operand)

    def _unchanged_here(self, ident) -> bool:
        """Whether ``ident`` holds the same array from the statement being reversed on."""
        if ident in self.unchanged:
            return True
        block, last = self.settled.get(ident, (None, None))
        return any(b == block and last < at for b, at in self.positions)

    def _size_of_unchanged(self, value) -> bool:
        """``x.shape`` of a parameter that never changes, or an item of it (``t4 = X.shape;
        t5 = t4[1]`` from ``range(X.shape[1])``)."""
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and \
                isinstance(value.slice, gast.Constant) and type(value.slice.value) is int:
            value = self.recomputed.get(value.value.id)
        return isinstance(value, gast.Attribute) and value.attr == "shape" and \
            isinstance(value.value, gast.Name) and value.value.id in self.unchanged

    def _stable(self, atom, kind=None) -> bool:
        """Whether ``atom`` holds the same number (one of ``kind``, if given) wherever the
        reversed block being built reads it: a constant, a counter of the loops around it, a
        parameter that never changes, or a local of that block or of one around it (bound once,
        restored at the top of its reversed block)."""
        if isinstance(atom, gast.Constant):
            return type(atom.value) is int if kind is not None else \
                type(atom.value) in (int, float)
        if not isinstance(atom, gast.Name) or self.ranks.get(atom.id) != 0 or \
                kind is not None and atom.id not in kind:
            return False
        blocks = {id(b) for b, _ in self.blocks}
        return atom.id in self.counters or atom.id in self.unchanged or \
            self.scopes.local_block.get(atom.id) in blocks

    def _write(self, s, target):
        base = target.value.id
        index = target.slice
        element = self._selects_element(base, index)
        t = self._item_site_tape(base)
        fwd = [marker("save_item", base, s.lineno, index=index, element=element, tape=t), s]
        bwd = []
        if base in self.active:
            if _is_active_atom(s.value, self.active):
                scalar = element and s.value.id in self.scalars
                bwd += self._accumulate(s.value.id, self._written_adjoint(base, index, element),
                                        elementwise_of=None if scalar else s.value)
            bwd += quote("x_bar[index] = 0.0", s.lineno, x_bar=bar(base), index=index)
        bwd.append(marker("restore_item", base, s.lineno, index=index, tape=t))
        return fwd, bwd

    def _written_adjoint(self, base, index, element):
        """The adjoint of the value ``base[index] = v`` wrote, copied before it is zeroed.

        An element is a number; other basic indexing gives a view, hence the copy
        (``snapshot``); with an index array NumPy keeps one of repeated writes, and
        only that one receives the adjoint (``last_writes``).
        """
        item = item_read(bar(base), index)
        if element:
            return item
        if self._int_index(index):
            return quote_expr("snapshot(item)", item=item)
        return quote_expr("item * last_writes(x_bar, index)", item=item, x_bar=name(bar(base)),
                          index=_index_value(index))

    def _selects_element(self, base, index):
        """Whether ``base[index]`` is one element of an array of known rank: an int per axis."""
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        ints = self.scopes.integers
        return self.ranks.get(base) == len(parts) and all(
            (isinstance(p, gast.Constant) and type(p.value) is int) or
            (isinstance(p, gast.Name) and p.id in ints) for p in parts)

    def _int_index(self, index):
        """Whether ``index`` is basic (ints, slices, None): no element is selected twice."""
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        for p in parts:
            if isinstance(p, gast.Constant) and (type(p.value) in (int, str) or p.value in (None, Ellipsis)):
                continue  # a str: one key of a dict
            if isinstance(p, gast.Name) and p.id in self.scopes.integers:
                continue
            if isinstance(p, gast.Slice):
                continue
            return False
        return True

    def _accumulate(self, ident, contribution, elementwise_of, target=None, real=False):
        """The marker adding ``contribution`` to ``ident``'s adjoint (``real``: known real)."""
        if self.specialise and any(n.id in _PRODUCT_HELPERS for n in name_nodes(contribution)):
            contribution = _Products(self.ranks, self.real).visit(contribution)
        contribution = _fold(strip_conj(contribution, self.real, NEUTRAL))
        real = real or kinds.real_template(contribution, self.real)
        if ident in self.real and not real:
            # a real value's adjoint is real: what later templates assume of ``x_bar``
            part = "np.real(c)" if self.ranks.get(ident) is not None else "real_part(c)"
            contribution = quote_expr(part, c=contribution)
        if elementwise_of is not None:
            contribution = quote_expr("unbroadcast(c, x)", c=contribution, x=name(ident))
        node = marker("accumulate", ident, None, value=contribution)
        node.real_part = self._real_part(ident, real)
        node.by_items = self._may_be_list(ident) and self._may_be_list_value(contribution)
        return [node]

    def _may_be_list(self, ident):
        """Whether ``ident``'s adjoint may be a list that ``+=`` would extend, not add to."""
        return self.lists_concatenate and self.ranks.get(ident) is None

    def _may_be_list_value(self, g):
        """Whether the adjoint expression ``g`` may be a whole list: another adjoint (``b = a``:
        ``a_bar += b_bar``) or an item of one, neither proven an array or a number."""
        if isinstance(g, gast.Name):
            return g.id.endswith(BAR) and self.ranks.get(g.id[:-len(BAR)]) is None
        if isinstance(g, gast.Subscript):
            base = g.value
            return not (isinstance(base, gast.Name) and base.id.endswith(BAR)
                        and self.ranks.get(base.id[:-len(BAR)]) is not None)
        return False

    def _real_part(self, ident, real):
        """How a contribution to ``ident``'s adjoint (``real``: proven real), added in place,
        keeps a real adjoint real (``None``: no need). Added by ``+``, an imaginary part would
        only be carried along; ``+=`` into a real array cannot hold it."""
        if real or ident in self.real:
            return None  # real already (``_accumulate`` takes the real part)
        return "real_like(g, x_bar)"  # its real part where the adjoint it adds to is real

    # -- values -----------------------------------------------------------
    def assign_value(self, ident, value, s):
        """Forward and adjoint statements of ``ident = value`` for an active ``ident``."""
        g = name(bar(ident))
        ans = name(ident)
        fwd = [s]
        if isinstance(value, gast.Name):
            return fwd, self._contrib(value, g) if value.id in self.active else []
        if is_field_read(value):  # obj.W: the subscript obj["W"] of its adjoint
            return fwd, self._read(as_subscript(value), g)
        if isinstance(value, gast.Constant) or _is_global_ref(value):
            return fwd, []
        if isinstance(value, gast.BinOp):
            return fwd, self._rule(BINOPS[type(value.op)], [value.left, value.right], [], g, ans, s)
        if isinstance(value, gast.UnaryOp):
            fn = UNARYOPS.get(type(value.op))
            return fwd, (self._rule(fn, [value.operand], [], g, ans, s) if fn else [])
        if isinstance(value, gast.Call):
            return self._call(ident, value, g, ans, s)
        if isinstance(value, gast.Subscript):
            return fwd, self._read(value, g)
        if isinstance(value, (gast.Tuple, gast.List)):
            out = []
            for k, elt in enumerate(value.elts):
                if _is_active_atom(elt, self.active):
                    item = gast.Subscript(value=g, slice=const(k), ctx=gast.Load())
                    out += self._contrib(elt, item)
            return fwd, out
        if isinstance(value, gast.Dict):
            out = []
            for k, v in zip(value.keys, value.values):
                if _is_active_atom(v, self.active):
                    out += self._contrib(v, gast.Subscript(value=g, slice=k, ctx=gast.Load()))
            return fwd, out
        return fwd, []

    def _contrib(self, atom, contribution, real=False):
        return self._accumulate(atom.id, contribution, None, real=real)

    def _read(self, value, g):
        base = value.value.id
        if base not in self.active:
            return []
        index = value.slice
        basic = self._int_index(index) or _constant_key(index)
        index = index if basic else _index_value(index)
        part = self._real_part(base, kinds.real_template(g, self.real))
        if part is not None and isinstance(index, gast.Constant) and isinstance(index.value, str):
            # a field of a pytree: a new value for it, of whatever dtype the sum has
            return quote("x_bar[index] = x_bar[index] + g", x_bar=bar(base), index=index, g=g)
        if part is not None:
            item = quote_expr("x_bar[index]", x_bar=bar(base), index=clone(index))
            g = quote_expr(part, g=g, x_bar=item)
        if basic:
            return quote("x_bar[index] += g", x_bar=bar(base), index=index, g=g)
        return quote("add_at(x_bar, index, g)", x_bar=bar(base), index=index, g=g)

    def _rule(self, fn, args, keywords, g, ans, s, display=None):
        active_args = [a for a in args if _is_active_atom(a, self.active)] + \
            [k.value for k in keywords if _is_active_atom(k.value, self.active)]
        if not active_args:
            return []
        rule = lookup(fn)
        if rule is None:
            raise NotDifferentiableError(
                f"no derivative rule for {display or _fn_name(fn)}{_library_note(fn)}; register one with "
                "adjoint.custom_vjp, or wrap the value in adjoint.stop_gradient", self.filename, s.lineno)
        if not rule.carries_derivative:
            return []
        try:
            bound = rule.bind(args, keywords)
        except TypeError as exc:
            raise NotDifferentiableError(f"{rule.name}: {exc}", self.filename, s.lineno) from None
        out = []
        for param, node in bound.items():
            if node is None or not _is_active_atom(node, self.active) \
                    or not rule.differentiable(param):
                continue
            if param not in rule.grads:
                raise NotDifferentiableError(
                    f"{rule.name} is not differentiable with respect to its argument '{param}'",
                    self.filename, s.lineno)
            contribution = rule.adjoint(param, bound, g, ans)
            broadcast = rule.kind == "elementwise" and _may_broadcast(param, bound, self.scalars)
            out += self._accumulate(node.id, contribution, node if broadcast else None)
        return out

    def _call(self, ident, call, g, ans, s):
        fn = call.callee
        if constructor_fields(fn) is not None:
            return [s], self._construct(fn, call, g, s)
        if is_replace(call):
            return [s], self._replace(call, g)
        if getattr(fn, "checkpointed_step", None) is not None:
            return self._checkpointed(ident, call, g, s)
        pair = self.helper_pair(fn, s, self._passes_active(call), self._passes_real(call)) \
            if fn is not None and lookup(fn) is None else None
        if pair is None:
            display, args = None, call.args
            if fn is None:  # a method of a local value: an active receiver needs a rule too
                display, args = _method_display(call.func.attr), [call.func.value] + call.args
            return [s], self._rule(fn, args, call.keywords, g, ans, s, display)
        fwd_name, bwd_name, params, wrt, reals, own_names = pair
        saved = self.namer.fresh(f"{_short(call.func)}_saved")
        fwd_call = gast.Call(func=name(fwd_name), args=call.args,
                             keywords=own_keywords(call.keywords, own_names))
        fwd = quote("ident, saved = call", s.lineno, ident=ident, saved=saved, call=fwd_call)
        block, helper_saved = self.blocks[-1]
        if id(block) in self.scopes.loop_blocks:
            fwd.append(marker("save_after", saved, s.lineno))
            helper_saved.append(saved)
        grads = self.namer.fresh(f"{_short(call.func)}_grads")
        bwd = quote("grads = helper(saved, g)", s.lineno, grads=grads, helper=bwd_name,
                    saved=saved, g=g)
        for k, node in self._bind_helper(params, call, own_names):
            if _is_active_atom(node, self.active):
                at = wrt.index(params[k]) if k < len(params) else k
                real = k < len(params) and params[k] in {p for p, _ in reals}  # kept real there
                bwd += self._contrib(node, gast.Subscript(value=name(grads), slice=const(at),
                                                          ctx=gast.Load()), real)
        return fwd, bwd

    def _passes_active(self, call):
        """For a helper's parameters: those this call passes an active value to (all of them
        where an argument goes to ``*args``)."""
        def active(params, own_names):
            bound = self._bind_helper(params, call, own_names)
            if any(k >= len(params) for k, _ in bound):
                return tuple(params)
            return tuple(params[k] for k, node in sorted(bound, key=lambda b: b[0])
                         if _is_active_atom(node, self.active))
        return active

    def _passes_real(self, call):
        """For a helper's parameters: (name, rank) of those this call passes a proven real value
        to (rank ``None`` where unknown)."""
        def real(params, own_names):
            bound = self._bind_helper(params, call, own_names)
            return tuple((params[k], self._rank_of(node)) for k, node in sorted(bound, key=lambda b: b[0])
                         if k < len(params) and kinds.real_template(node, self.real))
        return real

    def _rank_of(self, atom):
        if isinstance(atom, gast.Constant):
            return 0 if type(atom.value) in (int, float) else None
        return self.ranks.get(atom.id) if isinstance(atom, gast.Name) else None

    def _construct(self, cls, call, g, s):
        """``r = State(x, v=u)``: each argument gets its field's adjoint, ``x_bar += r_bar["x"]``."""
        try:
            fields = bound_fields(cls, call)
        except TypeError as exc:
            raise NotDifferentiableError(f"{cls.__qualname__}: {exc}", self.filename, s.lineno) from None
        out = []
        for field_name, atom in fields.items():
            if _is_active_atom(atom, self.active):
                out += self._contrib(atom, gast.Subscript(value=g, slice=const(field_name),
                                                          ctx=gast.Load()))
        return out

    def _replace(self, call, g):
        """``r = replace_fields(s, x=v)``: ``v`` gets ``r_bar["x"]``, ``s`` the rest of ``r_bar``."""
        out = []
        for k in call.keywords:
            if _is_active_atom(k.value, self.active):
                out += self._contrib(k.value, gast.Subscript(value=g, slice=const(k.arg),
                                                             ctx=gast.Load()))
        obj = call.args[0]
        if _is_active_atom(obj, self.active):
            kept = gast.Call(func=name("fields_cleared"), args=[g] + [const(k.arg) for k in call.keywords],
                             keywords=[])
            out += self._contrib(obj, kept)
        return out

    def _checkpointed(self, ident, call, g, s):
        """A checkpointed loop (``passes/checkpoint.py``): the forward sweep runs its trips
        keeping only the state it started from; the backward sweep reverses them by revolve,
        with the step function's split pair."""
        loop = call.callee
        fwd_name, bwd_name, *_ = self.helper_pair(loop.checkpointed_step, s)
        saved = self.namer.fresh("loop_saved")
        cut = [0, loop.bounds_size, loop.bounds_size + loop.state_size, len(call.args)]
        bounds, state, reads = [gast.Tuple(elts=call.args[a:b], ctx=gast.Load())
                                for a, b in zip(cut, cut[1:])]
        cond = getattr(loop, "checkpointed_cond", None)
        if cond is None:
            driver = quote_expr("checkpoint_forward(step_fwd, bounds, state, reads)",
                                step_fwd=name(fwd_name), bounds=bounds, state=state, reads=reads)
        else:
            driver = quote_expr("checkpoint_forward_while(step_fwd, cond, limits, state, reads)",
                                step_fwd=name(fwd_name), cond=name(cond.__name__),
                                limits=bounds, state=state, reads=reads)
        fwd = quote("ident, saved = driver", s.lineno, ident=ident, saved=saved, driver=driver)
        block, helper_saved = self.blocks[-1]
        if id(block) in self.scopes.loop_blocks:
            fwd.append(marker("save_after", saved, s.lineno))
            helper_saved.append(saved)
        grads = self.namer.fresh("loop_grads")
        bwd = quote("grads = revolve(step_fwd, step_bwd, saved, g)", s.lineno, grads=grads,
                    step_fwd=name(fwd_name), step_bwd=name(bwd_name), saved=saved, g=g)
        for k, node in enumerate(call.args):
            if _is_active_atom(node, self.active):
                bwd += self._contrib(node, gast.Subscript(value=name(grads), slice=const(k),
                                                          ctx=gast.Load()))
        return fwd, bwd

    def _bind_helper(self, params, call, own_names):
        """(parameter position, argument) for each argument ``call`` passes the helper whose
        transform names its parameters ``params``."""
        out = [(k, a) for k, a in enumerate(call.args)]
        for kw in own_keywords(call.keywords, own_names):
            if kw.arg in params:
                out.append((params.index(kw.arg), kw.value))
        return out

    # -- control flow ------------------------------------------------------
    def stmt_If(self, s, block):
        body_f, body_b = self.block(s.body)
        else_f, else_b = self.block(s.orelse) if s.orelse else ([], [])
        fwd = gast.If(test=s.test, body=body_f or [gast.Pass()], orelse=else_f)
        if not body_b and not else_b:
            return [fwd], []
        bwd = gast.If(test=clone(s.test), body=body_b or [gast.Pass()], orelse=else_b)
        return [fwd], [bwd]

    def stmt_For(self, s, block):
        self.loop_depth += 1
        self.counters.append(s.target.id)  # normalize leaves the body no binding of it
        body_f, body_b = self.block(s.body)
        self.counters.pop()
        self.loop_depth -= 1
        start, stop, step = _range_args(s.iter)
        breaks = _has_break(s.body)
        fwd, bwd = [], []
        if breaks or not _is_one(step):
            trips = self.namer.fresh("trips")
            if breaks:
                fwd += quote(f"{trips} = 0", s.lineno)
                body_f = quote(f"{trips} = {trips} + 1", s.lineno) + body_f
            else:
                fwd += quote(f"{trips} = len(r)", s.lineno, r=s.iter)
                fwd[-1].value.callee = len  # an int (scopes.integer_names)
            first = _fold(quote_expr("(n - 1) * step", n=trips, step=step)
                          if isinstance(start, gast.Constant) and start.value == 0 else
                          quote_expr("start + (n - 1) * step", start=start, n=trips, step=step))
            last = _fold(quote_expr("start - step", start=start, step=step))
            neg = _fold(quote_expr("-step", step=step))
            rev_iter = quote_expr("range(a, b, c)", a=first, b=last, c=neg)
            after = [marker("save_after", trips, s.lineno)] if self.loop_depth else []
            load = [marker("load", trips, s.lineno)] if self.loop_depth else []
        else:
            rev_iter = quote_expr("range(a, b, -1)", a=_fold(quote_expr("stop - 1", stop=stop)),
                                  b=_fold(quote_expr("start - 1", start=start)))
            after, load = [], []
        fwd.append(gast.For(target=s.target, iter=s.iter, body=body_f, orelse=[], type_comment=None))
        fwd += after
        if body_b:
            bwd = load + [gast.For(target=clone(s.target), iter=rev_iter, body=body_b,
                                   orelse=[], type_comment=None)]
        before, restore = self._keep_target(s, s.lineno)
        return before + fwd, bwd + restore

    def _keep_target(self, loop, lineno):
        """Both sweeps' loops rebind their target: a value it held before is taped around them
        (another binding's, or the one an earlier trip of an outer loop left to code after it)."""
        ident = loop.target.id
        if not self.scopes.defs.get(ident) and id(loop) not in self.scopes.target_read_outside:
            return [], []
        if ident not in self.scopes.bound_before.get(id(self.top_stmt), set()):
            self.prebind.add(ident)
        reset = [marker("reset", ident, lineno)] if ident in self.active else []
        t = self._site_tape(ident)
        return [marker("save", ident, lineno, tape=t)], \
            [marker("restore", ident, lineno, tape=t)] + reset

    def stmt_While(self, s, block):
        self.loop_depth += 1
        body_f, body_b = self.block(s.body)
        self.loop_depth -= 1
        trips = self.namer.fresh("trips")
        fwd = quote(f"{trips} = 0", s.lineno)
        body_f = quote(f"{trips} = {trips} + 1", s.lineno) + body_f
        fwd.append(gast.While(test=s.test, body=body_f, orelse=[]))
        if self.loop_depth:
            fwd.append(marker("save_after", trips, s.lineno))
        bwd = []
        if body_b:
            bwd = [marker("load", trips, s.lineno)] if self.loop_depth else []
            bwd += quote(f"for _ in range({trips}):\n    pass", s.lineno)
            bwd[-1].body = body_b
        return fwd, bwd

    def stmt_Expr(self, s, block):
        call = s.value
        if getattr(call, "callee", None) is list.append:
            lst = call.func.value.id
            item = call.args[0]
            bwd = []
            if lst in self.active and _is_active_atom(item, self.active):
                bwd += self._contrib(item, quote_expr("lst_bar.pop()", lst_bar=bar(lst)))
            elif lst in self.active:
                bwd += quote("lst_bar.pop()", lst_bar=bar(lst))
            bwd.append(marker("restore_append", lst, s.lineno))
            return [s], bwd
        return [s], []

    def stmt_Return(self, s, block):
        if self.output in self.active:
            return [s], self._contrib(name(self.output), self.seed)
        return [s], []

    def stmt_Pass(self, s, block):
        return [], []

    def stmt_Break(self, s, block):
        return [s], []

    def stmt_Raise(self, s, block):
        return [s], []

    def stmt_Assert(self, s, block):
        return [s], []


def _index_value(index):
    """A subscript's index as an expression that can be passed to a function (slices spelled out)."""
    if isinstance(index, gast.Slice):
        parts = [p if p is not None else const(None) for p in (index.lower, index.upper, index.step)]
        return gast.Call(func=name("slice"), args=parts, keywords=[])
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_index_value(e) for e in index.elts], ctx=gast.Load())
    return clone(index)


def _touched(stmt) -> set:
    """The names whose adjoints ``stmt`` reads or writes."""
    out = set()
    for node in walk(stmt):
        kind = getattr(node, "marker", None)
        if kind == "accumulate":
            out.add(node.var)
        if isinstance(node, gast.Name) and node.id.endswith(BAR):
            out.add(node.id[:-len(BAR)])
        value = getattr(node, "value", None)
        if kind and value is not None:
            out |= _touched(value)
    return out


def _bound_by(s):
    if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
        return [s.targets[0].id]
    return []


def _is_active_atom(node, active):
    return isinstance(node, gast.Name) and node.id in active


def _is_global_ref(node):
    return isinstance(node, gast.Attribute)


def _constant_key(index):
    return isinstance(index, gast.Constant) and isinstance(index.value, (str, int))


def _may_broadcast(param, bound, scalars):
    """Whether an elementwise output may have another shape than argument ``param``."""
    mine = bound[param]
    others = [n for p, n in bound.items() if p != param and n is not None]
    for n in others:
        if isinstance(n, gast.Constant) and isinstance(n.value, (int, float, complex)):
            continue
        if isinstance(mine, gast.Name) and mine.id in scalars and isinstance(n, gast.Name) \
                and n.id in scalars:
            continue
        return True
    return False


def _fn_name(fn):
    from ..rules.registry import display_name
    return display_name(fn) if fn is not None else "this call"


def _method_display(attr):
    return (f"the method '.{attr}' (adjoint knows the classes of the function's parameters and "
            "of the objects their attributes hold only; for another object, call it through its "
            f"class: Class.{attr}(obj, ...))")


def _library_note(fn):
    from .objects import is_library
    return " (library code, which adjoint does not transform)" if is_library(fn) else ""


def _short(func):
    if isinstance(func, gast.Attribute) and func.attr == "fget" and isinstance(func.value, gast.Attribute):
        func = func.value  # a property's getter: Gaussian.std.fget is 'std'
    return func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", "call")


def _range_args(call):
    args = call.args
    if len(args) == 1:
        return const(0), args[0], const(1)
    if len(args) == 2:
        return args[0], args[1], const(1)
    return args[0], args[1], args[2]


def _is_one(node):
    return isinstance(node, gast.Constant) and node.value == 1


def _has_break(stmts):
    for s in stmts:
        if isinstance(s, gast.Break):
            return True
        if isinstance(s, gast.If) and (_has_break(s.body) or _has_break(s.orelse)):
            return True
    return False


# Adjoints of ``a @ b`` and ``np.dot(a, b)`` for real operands of known ranks (1 or 2), as a
# person writes them; the runtime helpers stay for other ranks and complex values.
_PRODUCTS = {
    (2, 2): ("g @ b.T", "a.T @ g"),
    (2, 1): ("np.outer(g, b)", "a.T @ g"),
    (1, 2): ("b @ g", "np.outer(a, g)"),
    (1, 1): ("g * b", "g * a"),
}
_PRODUCT_HELPERS = {"matmul_grad_a": 0, "matmul_grad_b": 1, "dot_grad_a": 0, "dot_grad_b": 1}


class _Products(gast.NodeTransformer):
    def __init__(self, ranks, real):
        self.ranks, self.real = ranks, real

    def visit_Call(self, node):
        self.generic_visit(node)
        side = _PRODUCT_HELPERS.get(node.func.id) if isinstance(node.func, gast.Name) else None
        if side is None or len(node.args) != 3:
            return node
        g, a, b = node.args
        if not all(isinstance(v, gast.Name) and v.id in self.real for v in (a, b)):
            return node
        forms = _PRODUCTS.get((self.ranks.get(a.id), self.ranks.get(b.id)))
        return quote_expr(forms[side], g=g, a=a, b=b) if forms else node


def _fold(expr):
    from .simplify import fold_constants
    return fold_constants(expr)
