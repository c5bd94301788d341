"""The pipeline, end to end: a Python function in, a compiled derivative out.

``build(fn, wrt, mode)`` runs frontend -> fence -> jumps -> normalize ->
scopes/activity -> reverse -> placement -> simplify -> emit, then compiles the
module text under a filename such as ``<adjoint: grad of loss, model.py:12>``
registered in ``linecache`` (tracebacks and ``inspect`` show generated lines).

Modes: ``grad`` (joint: forward then backward in one function, returning the
gradients), ``value_and_grad`` (the same, returning the value too) and
``split`` (a ``_fwd`` function returning the output and what the backward
sweep needs, and a ``_bwd`` function of that and the output's seed; used by
``vjp`` and for every user function a differentiated function calls).
"""
from __future__ import annotations

import builtins
import functools
import hashlib
import importlib
import os
import sys
import threading
from dataclasses import dataclass, field

import gast

from . import runtime
from .astutil import all_names, clone, loaded_names, name, quote, quote_expr, stored_names, subst, walk, walk_stmts
from .emit import Emitter
from .errors import AdjointError, UnsupportedSyntaxError, WrtError, internal_error, register_origins
from . import frontend
from .frontend import parse_function
from .passes import (activity, aliases, checkpoint, closures, dead_values, fence, forward, jumps, kinds,
                     normalize, objects, placement, reverse, scopes, shapes, shifts, simplify, statements,
                     versions)
from .passes import tapes as tape_arrays
from .rules import carries_no_derivative, lookup

RUNTIME_NAMES = set(runtime.__all__)
# Modules generated code names: numpy always, SciPy where a rule's template calls it
# (``scipy.special.digamma(x)``), imported by the module's header only then.
MODULE_NAMES = {"np", "scipy"}
_LINECACHE_LOCK = threading.Lock()
# The attribute of a generated function naming its locals that carry no derivative, which
# activity analysis reads when the function is differentiated again (higher order).
NO_DERIVATIVE = "__adjoint_no_derivative__"


@dataclass
class Function:
    """One generated function: its name, parameters and body."""
    name: str
    params: list
    body: list
    filename: str
    doc: str
    user_globals: dict
    live: object
    constants: dict = field(default_factory=dict)  # names its signature's defaults read -> values
    no_derivative: frozenset = frozenset()  # names that carry no derivative (_without_derivative)


@dataclass
class Built:
    """The result of ``build``: the module's source and its entry points."""
    source: str
    entry: dict  # role -> function object
    params: list
    wrt: tuple
    return_line: int | None
    filename: str
    aux: bool = False


@dataclass
class _Program:
    functions: list = field(default_factory=list)
    helpers: dict = field(default_factory=dict)  # code object -> (fwd, bwd, params)
    transforms: dict = field(default_factory=dict)  # code object -> its _FunctionTransform
    method_classes: dict = field(default_factory=dict)  # method's code -> the class of its self
    layout: dict = field(default_factory=dict)  # (class, attribute) -> the class of objects it holds
    # generated function names never hide a runtime helper (a function named det gives det_grad)
    taken: set = field(default_factory=lambda: RUNTIME_NAMES | MODULE_NAMES)

    def unique(self, base):
        ident, k = base, 1
        while ident in self.taken:
            k += 1
            ident = f"{base}{k}"
        self.taken.add(ident)
        return ident


def _inert(fn) -> bool:
    return fn is not None and carries_no_derivative(fn)


def _names_in(node):
    return loaded_names(node) if node is not None else set()


def _placeholder(v, integers, floats, typed, body=(), arrays=None):
    """What a name taped (or saved) before its first binding holds: a number of its type (an
    array tape of numbers takes no None, and Numba types no optional tuple), an empty float
    array of its rank for a real array (Numba's list tape takes no None among arrays), a tuple
    of numbers for a name every binding of which is a tuple display of such names, else None."""
    if v in integers:
        return "0"
    if not typed:
        return "None"
    if v in floats:
        return "0.0"
    if (arrays or {}).get(v):
        return f"np.empty({(0,) * arrays[v]})"
    values = [s.value for s in walk_stmts(list(body)) if isinstance(s, gast.Assign)
              and isinstance(s.targets[0], gast.Name) and s.targets[0].id == v]
    items = [[_placeholder(e.id, integers, floats, typed) if isinstance(e, gast.Name) else "None"
              for e in t.elts] for t in values if isinstance(t, gast.Tuple)]
    if not values or len(items) != len(values) or any(i != items[0] for i in items) or \
            "None" in items[0]:
        return "None"
    return "(" + ", ".join(items[0]) + ("," if len(items[0]) == 1 else "") + ")"


class _FunctionTransform:
    """The passes applied to one user function."""

    shapes = {}  # parameter -> symbolic shape (``passes.shapes``): the function transformed only

    def __init__(self, fn, program: _Program, ranks=None, typed=False, refuse=True, classes=None,
                 real_params=(), checkpoint_memory=None):
        self.refuse = refuse  # False: only what the alias model finds, for a helper run as is
        fn = closures.python_function(fn)
        self.fn = fn
        self.typed = typed
        self.program = program
        self.constants = {}  # generated names of non-literal defaults -> their values
        self.parsed = parse_function(fn)
        node = self.parsed.node
        closures.lower(self.parsed)  # nested defs, lambdas, nonlocal -> functions of their own
        statements.lower(self.parsed)  # try, with, match, :=, global, del -> the core subset
        fence.check(node, self.parsed.filename)
        self.renamed = _rename_reserved(node, self.parsed.resolver, self.parsed.filename)
        own = {old: new for new, old in self.renamed.items()}
        self.no_derivative = frozenset(own.get(n, n) for n in getattr(fn, NO_DERIVATIVE, ()))
        self.checkpointed = checkpoint.rewrite(node, self.parsed, checkpoint_memory)  # kept: parsed
        self.constants.update({f.__name__: f for f in self.checkpointed})  # generated code calls
        self.params = [a.id for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        self.namer = normalize.Namer(all_names(node) | RUNTIME_NAMES | MODULE_NAMES)
        body = jumps.normalize(clone(node.body), node.lineno, all_names(node))
        methods = objects.Methods(self._bind_constant, program.method_classes, program.layout)
        self.classes = self._classes(classes) or {}
        self.body, _ = normalize.normalize(self.parsed, body, self.namer, self.classes, methods)
        param_ranks = {p: (ranks or {}).get(self.renamed.get(p, p)) for p in self.params}
        self.versions = self._versions(param_ranks) if typed else {}
        self.written = {s.targets[0].value.id for s in walk_stmts(self.body) if isinstance(s, gast.Assign)
                        and isinstance(s.targets[0], gast.Subscript)}
        ret = self.body[-1]
        self.return_line = ret.lineno
        self.output = ret.value.id if isinstance(ret.value, gast.Name) else None
        self.param_ranks = param_ranks
        self._facts()
        self.copies, self.param_writes = self._alias_model()
        self.real = kinds.infer_real(self.body, self.params, set(real_params)
                                     | {p for p, r in param_ranks.items() if r is not None})

    def _classes(self, classes):
        """Parameter -> class of the objects passed (given, or ``self`` of a method resolved)."""
        own = self.program.method_classes.get(self.fn.__code__)
        if classes is None and own is not None and self.params:
            return {self.params[0]: own}
        return classes

    def _bind_constant(self, base, value):
        """A module-level name generated code reads ``value`` by (a method of a class the
        user's module does not name)."""
        ident = _constant_name(self.program, base, self.fn)
        self.constants[ident] = value
        return ident

    def _versions(self, param_ranks):
        """Split names bound again at the top level with another rank (see ``versions``), for
        a build Numba types; new name -> the user's."""
        def infer_ranks(body):
            return kinds.infer(body, param_ranks, scopes.analyse(body, self.params).integers)
        self.body, shown = versions.split(self.body, infer_ranks, self.params, self.namer)
        self.parsed.resolver.locals = self.parsed.resolver.locals | set(shown)
        return shown

    def _facts(self):
        self.scopes = scopes.analyse(self.body, self.params)
        self.ranks = kinds.infer(self.body, self.param_ranks, self.scopes.integers)
        used = scopes.index_integers(self.body, self.ranks, self.scopes.integers)
        if used:  # ``j = index[r, c] + d`` read as an index: its element reads are numbers
            self.scopes.integers |= used
            self.ranks = kinds.infer(self.body, self.param_ranks, self.scopes.integers)

    def _alias_model(self):
        """Parameters to copy first; bindings that alias a value written later bind a copy.

        adjoint's own output writes only into arrays it made (or copied) itself,
        so it is trusted: no refusal and no copies.
        """
        generated = self.parsed.filename.startswith("<adjoint:")
        facts = aliases.analyse(self.body, self.params, self.ranks, normalize.VIEWS,
                                self.parsed.filename, self._helper_writes, check=self.refuse and not generated,
                                shown=self.renamed | self.versions, generated=self.namer.generated)
        if facts.copies and not generated:
            self.body = aliases.copy_aliases(self.body, facts.copies, self.namer)
            self._facts()
        if self.refuse:
            objects.check_object_writes(facts, self.classes, self.parsed.filename)
        return facts.param_copies, facts.param_writes

    def own_names(self, wrt):
        """``wrt`` with the names of the parameters ``_rename_reserved`` renamed (generated code's
        ``x_bar``, differentiated again, becomes ``x_bar_``)."""
        renamed = {old: new for new, old in self.renamed.items()}
        return type(wrt)(renamed.get(w, w) for w in wrt)

    def check_wrt(self, wrt):
        for w in wrt:
            if w not in self.params:
                raise WrtError(f"wrt={w!r} names no parameter of {self.parsed.qualname}; its "
                               f"parameters are {self.params}", self.parsed.filename,
                               self.parsed.node.lineno)

    def sweeps(self, wrt, seed, read_after=frozenset()):
        """Forward and backward sweeps (markers resolved) and what they need (``read_after``:
        the names the code after the backward sweep reads besides the parameters, the output
        and adjoints)."""
        wrt = [w for w in wrt if w not in objects.constant_self(self.fn, self.program.method_classes)]
        active = activity.active_names(self.body, wrt, self.output, _inert, self.no_derivative)
        active -= shifts.cancelled(self.body, self.ranks)  # a softmax's max: no derivative
        objects.check_attribute_writes(self.body, wrt, _inert, self.parsed.filename)
        dense = self._dense(active)
        rev = reverse.Reverse(self.scopes, active, dense, self.namer, self.parsed.filename,
                              self._helper_pair)
        rev.scalars = {n for n, r in self.ranks.items() if r == 0}
        rev.real = self.real
        rev.ranks = self.ranks
        rev.specialise = not self.typed  # Numba keeps the helpers (contiguous operands)
        rev.recompute_calls = self.typed
        rev.lists_concatenate = self.typed
        rev.params = [p for p in self.params if p in active]
        rev.params_all = set(self.params)
        rev.seed = seed
        rev.output = self.output
        rev.unchanged = set(self.params) - stored_names(gast.Module(body=self.body, type_ignores=[])) \
            - set(self.copies)
        rev.settled = scopes.settled_arrays(self.body, self.ranks, self.scopes.integers,
                                             self.scopes.local_block)
        fwd, bwd = rev.block(self.body, top=True)
        fwd = fwd[:-1]  # the final return: each mode returns its own results
        inits = [reverse.marker("init", v, None) for v in sorted(active)
                 if v not in self.scopes.local_block]
        # an adjoint starts shaped like its value, which one path may never bind
        rev.prebind |= active - scopes.surely_bound(self.body, self.params) - set(self.scopes.local_block)
        bwd = inits + bwd
        primal = set(self.params) | stored_names(gast.Module(body=fwd, type_ignores=[])) \
            | _marker_vars(fwd)
        init_reads = dense | (active - rev.scalars)
        needed = placement.needed_names(bwd, primal, init_reads)
        resolver = placement.Resolver(needed, dense, rev.scalars, scopes.dicts(self.body))
        fwd = resolver.block(fwd)
        bwd = resolver.block(bwd)
        tapes, stacks, self.stack_tops = resolver.tapes, [], {}
        floats = (active & rev.scalars & self.real) - self.scopes.integers
        if self.typed:  # a tuple's adjoint read item by item: a name per item
            fwd, bwd = placement.split_tuple_adjoints([fwd, bwd], kinds.tuple_lengths(self.body, self.params),
                                                      self.namer.exact)
        if self.typed:  # the tapes whose values nothing reads go before they become arrays
            after = set(self.params) | {reverse.bar(v) for v in active} | {self.output} | set(read_after)
            fwd, bwd, tapes = placement.drop_dead_tapes(fwd, bwd, tapes, after)
            # with trip counters; a parameter holds another value before a loop rebinds it
            integers = (self.scopes.integers | scopes.integer_names(fwd)) - set(self.params)
            numbers = {**{v: "" for v in floats}, **{v: ", np.int64" for v in integers},
                       **{v: ", np.bool_" for v in tape_arrays.booleans(fwd) & rev.scalars}}
            tapes = tape_arrays.preallocate(fwd, bwd, tapes, numbers, self.namer.exact)
            tapes, stacks, self.stack_tops = tape_arrays.stack(fwd, bwd, tapes, numbers,
                                                               self.namer.exact)
        prologue = quote("\n".join(f"{p} = writable_copy({p})" for p in self.copies))
        # a name taped before its first binding holds a placeholder of its type (Numba types it)
        self.floats = floats
        prologue += quote("\n".join(f"{v} = {self._placeholder(v)}" for v in sorted(rev.prebind)))
        prologue += quote("\n".join(f"{t} = []" for t in tapes)) + stacks
        self.list_tapes = tapes
        self.tape_holds = resolver.holds
        return prologue + fwd, bwd, active, resolver.tapes, primal

    def _placeholder(self, v):
        return _placeholder(v, self.scopes.integers, self.floats, self.typed, self.body,
                            self._placeheld_arrays)

    @functools.cached_property
    def _placeheld_arrays(self):
        """Real arrays of a known rank that the function never reads unbound: only these may
        start as an empty array, which would compute where Python raises UnboundLocalError."""
        unsafe = scopes.read_unbound(self.body, self.params)
        return {n: r for n, r in self.ranks.items()
                if n in self.real and n not in unsafe and isinstance(r, int) and r > 0}

    def _tape_checks(self, body):
        """``body`` (ending in its return) with, if ``ADJOINT_CHECK_TAPES`` is set, an assert
        before the return for each list tape the final code still uses, that the backward
        sweep emptied it: every push has its pop on the same path (the test suite turns this
        on). Added after dead code is removed, so the check changes nothing else."""
        used = loaded_names(gast.Module(body=body, type_ignores=[]))
        sizes = [(t, f"len({t})") for t in self.list_tapes if t in used] + \
            [(t, top) for t, top in self.stack_tops.items() if top in used]
        if not check_tapes() or not sizes:
            return body
        return body[:-1] + quote("\n".join(
            f"assert {n} == 0, 'adjoint: {t} is not empty after the backward sweep'"
            for t, n in sizes), self.return_line) + body[-1:]

    def _dense(self, active):
        dense = set()
        for s in walk_stmts(self.body):
            if isinstance(s, gast.Assign):
                target, value = s.targets[0], s.value
                if isinstance(target, gast.Subscript):
                    dense.add(target.value.id)
                elif isinstance(value, gast.Subscript) or objects.is_field_read(value):
                    dense.add(value.value.id)
                elif isinstance(value, (gast.Tuple, gast.List, gast.Dict)) or objects.is_replace(value) \
                        or objects.constructor_fields(getattr(value, "callee", None)) is not None:
                    dense.add(target.id)
            elif isinstance(s, gast.Expr) and getattr(s.value, "callee", None) is list.append:
                dense.add(s.value.func.value.id)
        return dense & active

    def _helper(self, fn):
        """The transform of a user function this one calls, made once per program."""
        key = fn.__code__
        if key not in self.program.transforms:
            self.program.transforms[key] = None  # a recursive call while it is made
            try:
                self.program.transforms[key] = _FunctionTransform(fn, self.program, typed=self.typed)
            except BaseException:
                del self.program.transforms[key]
                raise
        return self.program.transforms[key]

    def _helper_writes(self, fn):
        """For a user function: {parameter position: "item" or "augmented"} it writes in place,
        through any alias (its own alias model); ``None`` for anything else."""
        if not _user_function(fn) or lookup(fn) is not None:
            return None
        try:
            helper = self._helper(fn)
        except AdjointError:  # refused itself (reported if it is differentiated): what it writes
            try:
                return _FunctionTransform(fn, self.program, typed=self.typed, refuse=False).param_writes
            except AdjointError:  # no source, or outside the subset: it may write into any argument
                try:
                    return {k: "unknown" for k in range(len(parse_function(fn).node.args.args))}
                except AdjointError:
                    return None
        return _written_params(fn) if helper is None else helper.param_writes

    def _helper_pair(self, fn, stmt, active=None, real=None):
        """``fn``'s split pair: (forward name, backward name, its parameters, those it gives
        adjoints of, those it takes real values for, the map from the names a call passes
        keywords by to its parameters'). ``active(params, own_names)`` names the parameters
        the call passes active values to: only those are differentiated (an ``axis`` passed on
        needs no derivative); ``real(params, own_names)`` those it passes proven real values to, with their
        ranks (the helper proves realness and ranks from them, as a function does from its
        arguments). Each such pair of sets has a pair of functions of its own."""
        if not _user_function(fn):
            return None
        helper = self._helper(fn)
        if helper is None:  # a recursive call while the helper is made
            return next(v for k, v in self.program.helpers.items() if k[0] is fn.__code__)
        params = tuple(helper.params)
        wrt = active(params, helper.own_names) if active is not None else params
        reals = real(params, helper.own_names) if real is not None else ()
        key = (fn.__code__, wrt, reals)
        if key not in self.program.helpers:
            base = _helper_base(fn)
            names = (self.program.unique(f"{base}_fwd"), self.program.unique(f"{base}_bwd"))
            self.program.helpers[key] = names + (params, wrt, reals, helper.own_names)
            maker = helper if wrt == params and not reals else _FunctionTransform(
                fn, self.program, {p: r for p, r in reals if r is not None}, typed=self.typed,
                real_params={p for p, _ in reals})
            maker.emit_split(*names, wrt=list(wrt), defaults=True)
        return self.program.helpers[key]

    def _helper_jvp(self, fn, wrt):
        """``fn``'s jvp function with tangents for the parameters ``wrt`` (None if not the user's)."""
        if not _user_function(fn):
            return None
        key = ("jvp", fn.__code__, wrt)
        if key not in self.program.helpers:
            fname = self.program.unique(f"{_helper_base(fn)}_jvp")
            helper = _FunctionTransform(fn, self.program)
            self.program.helpers[key] = (fname, helper.params, helper.own_names)
            helper.emit_jvp(fname, list(helper.own_names(wrt)), defaults=True)
        return self.program.helpers[key]

    # -- modes --------------------------------------------------------------
    def emit_jvp(self, fname, wrt, defaults=False):
        """``fname(params..., w_dot...)`` returning ``(out, out_dot)``: forward mode, no tape."""
        shares = activity.sharing(self.body, normalize.VIEWS, _user_function)
        shares.update({forward.dot(n): frozenset(map(forward.dot, g)) for n, g in shares.items()})
        active = activity.active_names(self.body, wrt, self.output, _inert, self.no_derivative)
        objects.check_attribute_writes(self.body, wrt, _inert, self.parsed.filename)
        dense = self._dense(active)
        written = self.written | {n for n, group in shares.items() if group & self.written}
        tangents = forward.Forward(active, dense, self.parsed.filename, self._helper_jvp,
                                   self.ranks, written)
        body = tangents.block(self.body[:-1])
        prologue = quote("\n".join(f"{p} = writable_copy({p})" for p in self.copies))
        prologue += quote("\n".join(f"{forward.dot(p)} = tangent_like({forward.dot(p)}, {p})"
                                    for p in wrt if p in active and (p in dense or p in self.copies)))
        prologue += tangents.entry_zeros([p for p in self.params if p in active and p not in wrt])
        out = self._returned()
        ret = quote("return (out, out_dot)", self.return_line, out=out,
                    out_dot=self._output_tangent(out, active))
        body, _ = simplify.dce(prologue + body + ret, set(), shares=shares)
        params = self._signature(defaults) + [forward.dot(w) + ("=0.0" if defaults else "")
                                              for w in wrt]
        self._add(fname, params, body, f"The output of {self.parsed.qualname} and its tangent "
                  f"along ({', '.join(forward.dot(w) for w in wrt)}).", shares)

    def _output_tangent(self, out, active):
        """The returned value's tangent: zero for an inactive value, a constant included.

        A helper that returns ``0.25`` is multiplied and added like any other, so
        its tangent is the number ``0.0``; only a function that returns nothing
        has the tangent None.
        """
        if self.output in active:
            return name(forward.dot(self.output))
        if isinstance(out, gast.Constant):
            zero = None if out.value is None else 0j if isinstance(out.value, complex) else 0.0
            return gast.Constant(value=zero, kind=None)
        return gast.Call(func=name("zeros_like"), args=[out], keywords=[])

    def _returned(self):
        """The returned value: the output's name, or the constant the function returns."""
        return name(self.output) if self.output else clone(self.body[-1].value)

    def _split_aux(self):
        """With has_aux the function returns (loss, aux): differentiate loss, pass aux through."""
        for s in reversed(self.body):
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                    and s.targets[0].id == self.output:
                if isinstance(s.value, gast.Tuple) and len(s.value.elts) == 2 \
                        and isinstance(s.value.elts[0], gast.Name):
                    self.output = s.value.elts[0].id
                    return s.value.elts[1]
                break
        raise UnsupportedSyntaxError("with has_aux=True the function must end with "
                                     "'return loss, aux'", self.parsed.filename, self.return_line)

    def emit_joint(self, fname, wrt, with_value, aux):
        aux_node = self._split_aux() if aux else None
        seed = gast.Call(func=name("unit_seed"), args=[name(self.output)], keywords=[]) \
            if self.output else None
        fwd, bwd, active, _, _ = self.sweeps(wrt, seed, _names_in(aux_node))
        assigned = _assigned(bwd)
        given = self._given(wrt)
        fwd = quote("\n".join(f"{g} = {w}" for w, g in given.items())) + fwd
        grads = [self._final_grad(w, active, assigned, given.get(w, w)) for w in wrt]
        result = grads[0] if len(grads) == 1 else gast.Tuple(elts=grads, ctx=gast.Load())
        value = self._returned()
        keep = []
        if with_value and self.output and _rebinds(bwd, self.output):
            value = name(self.namer.exact("value"))
            keep = quote(f"{value.id} = snapshot({self.output})", self.return_line)
        if aux_node is not None:
            aux_value = clone(aux_node)
            if with_value:
                value = gast.Tuple(elts=[value, aux_value], ctx=gast.Load())
            else:
                result = gast.Tuple(elts=[result, aux_value], ctx=gast.Load())
        if with_value:
            result = gast.Tuple(elts=[value, result], ctx=gast.Load())
        ret = quote("return r", self.return_line, r=result)
        body = simplify.dead_restores(simplify.zero_then_add(fwd + keep + bwd + ret), set())
        body = self._tape_checks(body)
        kind = "value and gradient" if with_value else "gradient"
        self._add(fname, self.params, body, f"The {kind} of {self.parsed.qualname} "
                  f"with respect to {', '.join(wrt)}.")

    def _final_grad(self, w, active, assigned, like):
        bar = name(reverse.bar(w)) if w in active and reverse.bar(w) in assigned else \
            gast.Constant(value=0.0, kind=None)
        return gast.Call(func=name("grad_like"), args=[bar, name(like)], keywords=[])

    def _given(self, wrt):
        """A name for each parameter in ``wrt`` the function binds again (a loop target, an
        unpacking): its gradient takes the structure and shape of the value passed."""
        rebound = stored_names(gast.Module(body=self.body, type_ignores=[]))
        return {w: self.namer.exact(f"{w}_given") for w in wrt if w in rebound}

    def emit_split(self, fwd_name, bwd_name, wrt, defaults=False, aux=False):
        aux_node = self._split_aux() if aux else None
        seed_name, saved_name = self.namer.exact("seed"), self.namer.exact("saved")
        fwd, bwd, active, tapes, primal = self.sweeps(wrt, name(seed_name))
        assigned = _assigned(bwd)
        # a parameter without a derivative gets zeros of its shape (the caller's rules expect
        # it), taken from the value passed where the function binds the name again
        given = {w: g for w, g in self._given(wrt).items()
                 if not (w in active and reverse.bar(w) in assigned)}
        fwd = quote("\n".join(f"{g} = {w}" for w, g in given.items())) + fwd
        grads = [name(reverse.bar(w)) if w in active and reverse.bar(w) in assigned
                 else quote_expr("zeros_like(w)", w=name(given.get(w, w))) for w in wrt]
        ret = quote("return r", self.return_line, r=gast.Tuple(elts=grads, ctx=gast.Load()))
        bwd_body = simplify.dead_restores(simplify.zero_then_add(bwd + ret), set())
        live_in = simplify.dce(bwd_body, set(), mutate=False)[1]
        kept = primal | set(tapes) | set(self.stack_tops.values()) | set(given.values())
        reads = sorted(live_in & kept)
        saved = gast.Tuple(elts=[name(r) for r in reads], ctx=gast.Load())
        out = self._returned()
        if _mutated(bwd_body) - set(tapes) and self.output:
            out = quote_expr("snapshot(out)", out=out)  # the sweep's restores must not reach it
        if aux_node is not None:  # has_aux: the forward sweep returns ((out, aux), saved)
            out = gast.Tuple(elts=[out, clone(aux_node)], ctx=gast.Load())
        top_bound = set(self.params) | {t.id for s in fwd if isinstance(s, gast.Assign)
                                        for t in [s.targets[0]] if isinstance(t, gast.Name)}
        fwd = quote("\n".join(f"{r} = {self._placeholder(r)}" for r in reads if r not in top_bound)) + fwd
        fwd_body, _ = simplify.dce(fwd + quote("return (out, saved)", self.return_line,
                                               out=out, saved=saved), set())
        unpack = []
        if reads:
            unpack = quote(f"names = {saved_name}")
            unpack[0].targets[0] = gast.Tuple(elts=[name(r, store=True) for r in reads],
                                              ctx=gast.Store())
        params = self._signature(defaults)
        bwd_body = self._tape_checks(bwd_body)
        self._add(fwd_name, params, fwd_body,
                  f"Forward sweep of {self.parsed.qualname}: its output and what {bwd_name} needs.")
        self._add(bwd_name, [saved_name, seed_name], unpack + bwd_body,
                  f"Backward sweep of {self.parsed.qualname}: the adjoints of "
                  f"({', '.join(wrt)}) given the output's adjoint.",
                  no_derivative=self._without_derivative(reads))
        checkpoint.add_reads_in_place(self.program.functions[-1], self.fn, wrt)  # a loop's step

    def _without_derivative(self, names):
        """The names among ``names`` (a backward sweep's saved values) that the function
        computes from none of its parameters (comparisons, integers, shapes, constants),
        and the tapes of such names.

        Their derivative is zero whatever is differentiated, but once unpacked from
        the saved tuple (a value derived from the parameters) the backward sweep,
        differentiated again, could not tell them from the values beside them
        (``np.where(t3, ...)`` with ``t3`` active has no rule for its condition).
        """
        varied = activity.computed_from(self.body, self.params, _inert)
        constant = stored_names(gast.Module(body=self.body, type_ignores=[])) - varied
        return frozenset(n for n in names if self.tape_holds.get(n, n) in constant)

    def _signature(self, defaults):
        if not defaults:
            return list(self.params)
        args = self.parsed.node.args
        positional = args.posonlyargs + args.args
        out = [a.id for a in positional]
        values = self.fn.__defaults__ or ()
        for k, d in enumerate(args.defaults):
            i = len(positional) - len(args.defaults) + k
            out[i] = f"{out[i]}={self._default(out[i], d, values[k])}"
        kw_values = self.fn.__kwdefaults__ or {}
        for a, d in zip(args.kwonlyargs, args.kw_defaults):
            if d is None and "=" in (out[-1] if out else ""):
                out.append(f"{a.id}=None")  # keyword-only: every call passes it (Numba takes no '*')
                continue
            out.append(a.id if d is None else f"{a.id}={self._default(a.id, d, kw_values[a.id])}")
        return out

    def _default(self, param, node, value):
        """A default as generated code writes it: a literal as is, else a name bound to its value.

        Python evaluated the default once, where the function was defined (an
        enclosing function's local, a global since rebound): the value is what counts.
        """
        from .emit import expr_source
        if isinstance(node, gast.Constant) or (isinstance(node, gast.UnaryOp)
                                               and isinstance(node.operand, gast.Constant)):
            return expr_source(node)
        ident = _constant_name(self.program, f"{self.fn.__name__}_{param}_default", self.fn)
        self.constants[ident] = value
        return ident

    def _real_adjoints(self):
        """Adjoints that are real arrays: all of them when every value of the function is real.

        A real value can still receive a complex contribution (``W @ x`` with
        complex ``W``), so one complex value anywhere rules every adjoint out.
        """
        names = set(self.params) | stored_names(gast.Module(body=self.body, type_ignores=[]))
        return {reverse.bar(v) for v in names} if names <= self.real else set()

    def _specialise(self, body, params, temps, shares):
        """``body`` without the shape helpers the parameters' shapes make idle (``passes.shapes``)."""
        body = dead_values.drop_shape_only(body, self.ranks, False, shares)  # the seed first
        fixed = set(params) - stored_names(gast.Module(body=body, type_ignores=[]))
        body, changed = shapes.specialise(body, {p: self.shapes.get(p) for p in params}, fixed,
                                          sums=not self.typed)
        if not changed:
            return body
        body = simplify.copy_then_add(body)
        body = simplify.propagate_copies(body, temps - set(params))
        body = simplify.inline_temps(body, temps - set(params))
        return simplify.dce(body, set(), shares=shares)[0]

    def _final_forms(self, body):
        """Forms only code built for a call's shapes takes: no transform reads it again (a
        derivative of a derivative differentiates a build without shapes), so helpers that
        add in place and names of its own need no rules."""
        body = simplify.common_factors(simplify.extremum_in_place(body))
        body = simplify.scalars_first(body)
        return simplify.shared_sums(body, self._real_adjoints(), lambda: self.namer.fresh("t"))

    def _add(self, fname, params, body, doc, shares=None, no_derivative=frozenset()):
        temps = self.namer.generated | {reverse.bar(t) for t in self.namer.generated} \
            | {forward.dot(t) for t in self.namer.generated}
        body = simplify.zero_then_add(body)
        body = simplify.propagate_copies(body, temps - set(params))
        body = simplify.inline_temps(body, temps - set(params))
        body, _ = simplify.dce(body, set(), shares=shares)
        shaped = self._real_adjoints() and any(self.shapes.get(p) is not None for p in params)
        if shaped:
            body = self._specialise(body, params, temps, shares)
        if self._real_adjoints():  # values read only for their shape are not computed
            body = dead_values.drop_shape_only(body, self.ranks, not self.typed, shares)
            body = simplify.logistic_without_logaddexp(body)
        body = simplify.unspread_reductions(body)
        body = simplify.double_repeats(body)
        body = simplify.accumulate_in_place(body, self._real_adjoints())
        if shaped:
            body = self._final_forms(body)
        simplify.unused_loop_targets(body)
        regions = getattr(self.parsed, "statement_regions", None)
        body = statements.finish(body, regions, self.constants)  # try/with back in the forward sweep
        self.program.functions.append(Function(
            fname, params, body, self.parsed.filename, doc, self.fn.__globals__,
            self.parsed.resolver.live_names(), dict(self.constants), no_derivative))


def _constant_name(program, base, fn):
    """A module-level name for a value generated code reads: no user name it could hide."""
    ident, k = base, 1
    while ident in program.taken or ident in fn.__globals__ or ident in fn.__code__.co_freevars \
            or hasattr(builtins, ident):
        k += 1
        ident = f"{base}{k}"
    program.taken.add(ident)
    return ident


def _helper_base(fn) -> str:
    """The stem of a helper's generated names: its name (``lambda`` for a lambda's)."""
    base = getattr(fn, "__name__", "helper")
    return base if base.isidentifier() else "lambda"


def _user_function(fn) -> bool:
    """Whether calls of ``fn`` are differentiated by transforming its source.

    adjoint's runtime helpers never are: they are differentiated by their rules
    (``rules/generated.py``), or refused with a clear error.
    """
    return callable(fn) and hasattr(fn, "__code__") and not str(fn.__module__).startswith("adjoint.runtime") \
        and not objects.is_library(fn)


def _written_params(fn):
    """{parameter position: "item" or "augmented"} a function writes in place, read from its
    source (any write counts, on any path): the answer for a call inside a recursion."""
    node = parse_function(fn).node
    positions = {a.id: k for k, a in enumerate(node.args.posonlyargs + node.args.args)}
    out = {}
    for sub in gast.walk(node):
        if isinstance(sub, gast.AugAssign) and isinstance(sub.target, gast.Name):
            kind, target = "augmented", sub.target
        elif isinstance(sub, (gast.Assign, gast.AugAssign)):
            kind, target = "item", _written_base(sub)
        elif isinstance(sub, gast.Call) and isinstance(sub.func, gast.Attribute) \
                and sub.func.attr in _MUTATING_METHODS:
            kind, target = "item", sub.func.value
        else:
            continue
        if isinstance(target, gast.Name) and target.id in positions:
            out.setdefault(positions[target.id], kind)
    return out


_MUTATING_METHODS = {"append", "extend", "insert", "pop", "remove", "sort", "fill", "update",
                     "clear", "setdefault", "put", "resize", "itemset"}


def _written_base(stmt):
    targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
    for t in targets:
        if isinstance(t, gast.Subscript):
            while isinstance(t, gast.Subscript):
                t = t.value
            return t
    return None


def _rename_reserved(node, resolver, filename):
    """Rename the function's own variables that would hide names generated code relies on;
    returns new name -> the user's."""
    reserved = RUNTIME_NAMES | MODULE_NAMES
    taken = all_names(node)
    params = {a.id for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
    derived = {n for n in resolver.locals if n.endswith(normalize.SUFFIXES)}
    generated = filename.startswith("<adjoint:")  # its tangents' parameters (x_dot) are renamed
    for p in sorted(derived & params):
        base = next(p[:-len(s)] for s in normalize.SUFFIXES if p.endswith(s))
        if base in taken and not generated:
            raise UnsupportedSyntaxError(
                f"the parameter '{p}' has the name adjoint gives the derivative of '{base}'; "
                "rename one of them", filename, node.lineno)
    clashes = sorted((resolver.locals & reserved) | (derived if generated else derived - params))
    mapping = {}
    for ident in clashes:
        new = ident + "_"
        while new in taken:
            new += "_"
        mapping[ident] = new
        taken.add(new)
    if mapping:
        subst(node, mapping)
        resolver.locals = (resolver.locals - set(mapping)) | set(mapping.values())
    return {new: old for old, new in mapping.items()}  # for messages: the user's names


def _marker_vars(stmts):
    return {n.var for n in walk(gast.Module(body=stmts, type_ignores=[]))
            if getattr(n, "marker", None)}


def _assigned(stmts):
    """Names some assignment in ``stmts`` binds."""
    out = set()
    for s in walk_stmts(stmts):
        if isinstance(s, gast.Assign):
            out |= stored_names(s)
    return out


def _rebinds(stmts, ident):
    for s in walk_stmts(stmts):
        if isinstance(s, (gast.Assign, gast.AugAssign)):
            t = s.targets[0] if isinstance(s, gast.Assign) else s.target
            base = t.value if isinstance(t, gast.Subscript) else t
            if isinstance(base, gast.Name) and base.id == ident:
                return True
    return False


def _mutated(stmts):
    """Names the backward sweep changes in place (restored array items, popped lists)."""
    out = set()
    for s in walk_stmts(stmts):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript):
            out.add(s.targets[0].value.id)
        for call in walk(s.value) if isinstance(s, (gast.Expr, gast.Assign)) else ():
            if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
                    and call.func.attr == "pop" and isinstance(call.func.value, gast.Name):
                out.add(call.func.value.id)
    return out


# -- module assembly ---------------------------------------------------------------
def _module(program: _Program, title: str):
    read = set()
    for f in program.functions:
        read |= loaded_names(gast.Module(body=f.body, type_ignores=[]))
    used = read & RUNTIME_NAMES
    header = [f"# {title}", "# Generated by adjoint; regenerate rather than edit.",
              "import numpy as np"]
    header += [f"import {m}" for m in _scipy_modules(program, read)]
    if used:
        header.append(f"from adjoint.runtime import {', '.join(sorted(used))}")
    header.append("")
    chunks = []
    for f in reversed(program.functions):
        em = Emitter(f.filename)
        em.function(f.name, f.params, f.body, f.doc)
        chunks.append((f, "\n".join(em.lines)))
    source = "\n".join(header) + "\n" + "\n\n".join(text for _, text in chunks)
    return source.rstrip() + "\n", chunks, len(header)


def _scipy_modules(program: _Program, read: set) -> list:
    """The SciPy modules generated code calls into (``scipy.special`` for
    ``scipy.special.digamma(x)``), sorted: only these are imported, and only then.
    ``read``: the names the functions read (no ``scipy``, nothing to look for)."""
    found = set()
    for f in program.functions if "scipy" in read else ():
        for node in walk(gast.Module(body=f.body, type_ignores=[])):
            if isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name) \
                    and node.value.id == "scipy" and not node.attr.startswith("_"):
                found.add(f"scipy.{node.attr}")
    return sorted(found)


def _filename(title: str, source: str) -> str:
    """The module's name for tracebacks and ``linecache``: one per distinct source.

    Another argument rank or backend gives other text under the same title; it
    gets its own name, so no traceback (and no transform of generated code)
    reads one module's lines for another's.
    """
    filename = f"<adjoint: {title}>"
    with _LINECACHE_LOCK:
        held = frontend.GENERATED.get(filename)
        if held is not None and held != source:
            digest = hashlib.sha256(source.encode()).hexdigest()[:8]
            filename = f"<adjoint: {title} [{digest}]>"
        frontend.GENERATED[filename] = source
        frontend.show_lines(filename, source)
    return filename


def _compile(program, source, chunks, header_lines, filename):
    lines = source.splitlines(keepends=True)
    register_origins(filename, {f.filename for f in program.functions})
    # The header's imports are already in the namespace; blank them so line numbers still match.
    body = "\n" * header_lines + "".join(lines[header_lines:])
    code = compile(body, filename, "exec")
    namespaces = {}
    functions = {}
    from .custom import RULE_FUNCTIONS
    base = {"np": __import__("numpy")}
    for module in (line.split()[1] for line in lines[:header_lines] if line.startswith("import scipy.")):
        importlib.import_module(module)  # makes it an attribute of the scipy package
        base["scipy"] = sys.modules["scipy"]
    base.update({n: getattr(runtime, n) for n in RUNTIME_NAMES})
    base.update(RULE_FUNCTIONS)
    for f, _ in chunks:
        key = _namespace_key(f)
        if key not in namespaces:
            ns = dict(base)
            ns["__builtins__"] = f.live
            ns["__name__"] = "adjoint.generated"
            namespaces[key] = ns
    for f, _ in chunks:  # every namespace runs the whole module text: each signature's defaults
        for ns in namespaces.values():
            ns.update(f.constants)
    for ns in namespaces.values():
        exec(code, ns)
    # Each function runs in the namespace of the module it came from.
    for f, _ in chunks:
        fn = namespaces[_namespace_key(f)][f.name]
        if f.no_derivative:
            setattr(fn, NO_DERIVATIVE, f.no_derivative)
        functions[f.name] = fn
    for ns in namespaces.values():
        ns.update(functions)
    return functions


def _namespace_key(f):
    """Functions share a namespace when they read the same globals and closure cells."""
    return id(f.user_globals), id(getattr(f.live, "_cells", None))


def _loops_over_numbers(fn, ranks) -> bool:
    """Whether ``fn`` loops and every argument is a number or a real array (Numba's ground).

    Read off the parsed source alone: deciding must not cost a transform.
    """
    if not ranks or any(r is None for r in ranks.values()):
        return False
    parsed = parse_function(fn)
    return any(isinstance(n, (gast.For, gast.While)) for n in walk(parsed.node)) \
        and not _calls_scipy(parsed)


def _calls_scipy(parsed) -> bool:
    """Whether the function calls SciPy, which Numba does not compile (it would fall back)."""
    return any(isinstance(n, gast.Call) and isinstance(n.func, (gast.Name, gast.Attribute))
               and _from_scipy(parsed.resolver.resolve(n.func)) for n in walk(parsed.node))


def _from_scipy(obj) -> bool:
    from .rules.registry import display_name
    module = str(getattr(obj, "__module__", None) or type(obj).__module__)
    return module.startswith("scipy") or type(obj).__name__ == "ufunc" and \
        display_name(obj).startswith("scipy.")


def choose_backend(fn, backend, ranks, mode, checkpoint_memory=None):
    """'numpy', 'numba' or 'tiered' for ``backend`` in ('auto', 'numpy', 'numba').

    'tiered' is what 'auto' picks for a function Numba suits: NumPy answers the
    first calls while Numba compiles in the background (``backends.numba.Tiered``).
    """
    if backend not in ("auto", "numpy", "numba"):
        raise AdjointError(f"backend must be 'auto', 'numpy' or 'numba', not {backend!r}")
    if backend == "auto":
        backend = os.environ.get("ADJOINT_BACKEND", "auto")
    if backend == "numpy" or mode in ("split", "jvp"):
        return "numpy"
    if checkpoint.has_checkpointed(parse_function(fn), checkpoint_memory):
        return _checkpoint_backend(backend)
    from .backends import numba as nb
    if not nb.available():
        if backend == "numba":
            import warnings
            from .errors import BackendWarning
            warnings.warn(BackendWarning("numba is not installed; using the NumPy backend "
                                         "(pip install 'adjoint-ad[numba]')"), stacklevel=4)
        return "numpy"
    if backend == "numba":
        return "numba"
    return "tiered" if _loops_over_numbers(fn, ranks) else "numpy"


def _checkpoint_backend(backend):
    """A function with a checkpointed loop runs on NumPy: the revolve driver is Python."""
    if backend == "numba":
        import warnings
        from .errors import BackendWarning
        warnings.warn(BackendWarning("a function with an adjoint.checkpointed loop runs on the "
                                     "NumPy backend (the revolve driver is Python code)"),
                      stacklevel=5)
    return "numpy"


def check_tapes() -> bool:
    """Whether generated backward sweeps assert that they empty every tape (a debug check)."""
    return os.environ.get("ADJOINT_CHECK_TAPES", "") not in ("", "0")


def build(fn, wrt, mode: str, aux: bool = False, ranks: dict | None = None,
          backend: str = "numpy", classes: dict | None = None, layout=None,
          checkpoint_memory: int | None = None, shapes: dict | None = None) -> Built:
    """Transform ``fn`` for ``mode`` in ('grad', 'value_and_grad', 'split', 'jvp').

    ``ranks`` maps parameters to the ``ndim`` of the arguments the code is for
    (see ``passes.kinds``); None compiles code valid for any arguments.
    ``backend`` is 'numpy', 'numba' or 'tiered' (see ``choose_backend``); ``classes`` maps
    parameters to the classes of object arguments (their methods are resolved), ``layout``
    (``objects.Layout``) the classes of objects their attributes hold; ``checkpoint_memory``
    (bytes) checkpoints ``fn``'s first long loop (``passes/checkpoint.py``); ``shapes`` maps
    parameters to symbolic shapes (``passes.shapes``), which the backward sweep specialises to.
    """
    program = _Program(layout=dict(((c, a), k) for c, a, k in layout or ()))
    main = _FunctionTransform(fn, program, ranks, typed=backend in ("numba", "tiered"), classes=classes,
                              checkpoint_memory=checkpoint_memory)
    main.shapes = {p: (shapes or {}).get(main.renamed.get(p, p)) for p in main.params}
    wrt = main.own_names(wrt)
    main.check_wrt(wrt)
    base = main.parsed.node.name
    program.taken |= {base}
    where = f"{os.path.basename(main.parsed.filename)}:{main.parsed.node.lineno}"
    if mode == "jvp":
        fname = program.unique(f"{base}_jvp")
        main.emit_jvp(fname, list(wrt))
        roles = {"main": fname}
    elif mode == "split":
        names = (program.unique(f"{base}_fwd"), program.unique(f"{base}_bwd"))
        main.emit_split(*names, wrt=list(wrt), aux=aux)
        roles = {"fwd": names[0], "bwd": names[1]}
    else:
        fname = program.unique(f"{base}_{mode}")
        main.emit_joint(fname, list(wrt), mode == "value_and_grad", aux)
        roles = {"main": fname}
    title = f"{mode.replace('_', ' ')} of {main.parsed.qualname}"
    source, chunks, header_lines = _module(program, f"{title} ({where})")
    filename = _filename(f"{title}, {where}", source)
    try:
        entry = _entry_points(program, source, chunks, header_lines, filename, roles, main, backend)
    except AdjointError:
        raise
    except Exception as exc:  # the text is written: name its failing line and attach it
        raise internal_error(fn, exc, source) from exc
    return Built(source, entry, main.params, tuple(wrt), main.return_line, main.parsed.filename, aux)


def _entry_points(program, source, chunks, header_lines, filename, roles, main, backend):
    """The compiled functions of each role (NumPy, or Numba with a NumPy fallback)."""
    functions = _compile(program, source, chunks, header_lines, filename)
    if backend in ("numba", "tiered"):
        return _numba_entry(program, source, functions, roles, main, filename, backend == "tiered")
    return {r: functions[n] for r, n in roles.items()}


def _numba_entry(program, source, functions, roles, main, filename, tiered=False):
    """Entry points compiled by Numba, each falling back to its NumPy twin if Numba refuses it;
    ``tiered``: compiled in the background after the first call, which NumPy answers."""
    from .backends import numba as nb
    names = [f.name for f in program.functions]
    free = set()
    for f in program.functions:
        free |= loaded_names(gast.Module(body=f.body, type_ignores=[]))
    free -= RUNTIME_NAMES | set(names) | MODULE_NAMES
    values, cacheable = nb.user_values(main.parsed.resolver.live_names(), sorted(free))
    for f in program.functions:  # names only a helper's closure cells hold (a lifted function's)
        more, ok = nb.user_values(f.live, sorted(free - set(values)))
        values.update(more)
        cacheable = cacheable and ok
    for f in program.functions:
        values.update(f.constants)
        cacheable = cacheable and not f.constants
    label = main.parsed.qualname
    if tiered:
        made = []  # one module for every role, made by the first thread to need it
        lock = threading.Lock()

        def make(fname):
            with lock:
                if not made:
                    made.append(nb.compile_functions(source, names, values, cacheable))
            return made[0][fname]
        return {r: nb.Tiered(functools.partial(make, n), functions[n], f"{label} ({n})", filename)
                for r, n in roles.items()}
    jitted = nb.compile_functions(source, names, values, cacheable)
    return {r: nb.Fallback(jitted[n], functions[n], f"{label} ({n})", filename)
            for r, n in roles.items()}