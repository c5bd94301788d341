"""Lowering of Python statements into the core subset, before the fence.

Contract: ``lower(parsed)`` rewrites ``parsed.node``'s body in place so that it holds none of
``try``, ``with`` (other than ``with adjoint.no_grad():``), ``match``, ``global``, ``del`` of a
local name or the ``:=`` operator outside comprehensions and lambdas; every new statement
carries the line of the user's statement it came from. What cannot be lowered exactly is refused
with ``UnsupportedSyntaxError`` at the user's line. New local names (``tried1``, ``ctx1``,
``x_tried1``, ``subject1``) avoid every name of the function and are added to the resolver's
locals; objects the lowered code needs (``collections.abc.Sequence``) are given to the resolver
under fresh names, and to the generated module through ``finish``. ``parsed.statement_regions``
records what ``finish`` needs.

``finish(body, regions, constants)`` runs on each generated function just before emission: it turns the
markers left by ``try`` and ``with`` back into real ``try``/``with`` statements in the forward
sweep (the backward sweep has no markers: it runs outside the user's context managers).

How a ``try`` is replayed. The try body runs inside a *region*, ``if tried1: <body>``, that binds
only fresh names (``L_tried1 = np.linalg.cholesky(K)``); the emitted forward sweep wraps the
region in a real ``try`` whose handler sets ``tried1 = False``. After the region, ``if tried1:``
commits the fresh names to the user's (``L = L_tried1``) and runs ``else:``; otherwise the
handler runs. The backward sweep replays the region's adjoints under ``if tried1:``: when the
body stopped halfway, the names it bound are never read again, so their adjoints are zero and
skipping them is exact. A keeper ``(L_tried1, tried1)`` ends the region so that it is never
removed as dead code. The body may hold only straight-line statements (a compound statement or
an in-place change would leave a partial effect the backward sweep cannot replay). A try in a
loop would need its flags taped after its handler changed them: it becomes a function of its own
(``try_in_loop``), called once per trip, whose try is then lowered as above.
"""
from __future__ import annotations

import collections.abc
import contextlib
import types
import warnings

import gast
import numpy as np

from ..astutil import all_names, clone, const, name, stored_names, walk, with_line
from ..frontend import LOCAL, unsupported

_COMPREHENSIONS = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp, gast.Lambda)
_CONDITIONAL = "the := operator where it may not run (inside and/or or a conditional expression)"
# Context managers whose __exit__ never suppresses an exception: emitted as they are.
_TRUSTED_MANAGERS = {np.errstate, warnings.catch_warnings, contextlib.nullcontext}
_SELF_MATCHING = {bool, bytearray, bytes, dict, float, frozenset, int, list, set, str, tuple}


class Unsuppressed:
    """A context manager around another that refuses to let it swallow an exception.

    A manager that suppresses an exception would skip the rest of its block: the backward
    sweep could not tell which statements ran.
    """

    def __init__(self, manager):
        self.manager = manager

    def __enter__(self):
        return self.manager.__enter__()

    def __exit__(self, kind, value, traceback):
        if self.manager.__exit__(kind, value, traceback) and kind is not None:
            from ..errors import AdjointError
            raise AdjointError(f"the context manager {self.manager!r} suppressed {kind.__name__}; "
                               "adjoint cannot replay a with-block that stopped halfway") from value
        return False


class _Lowering:
    """The lowering of one function: its names, its resolver and the regions it leaves."""

    def __init__(self, parsed):
        self.parsed = parsed
        self.filename = parsed.filename
        self.resolver = parsed.resolver
        captures = {getattr(n, "name", None) for n in walk(parsed.node)
                    if isinstance(n, (gast.MatchAs, gast.MatchStar))}
        self.taken = all_names(parsed.node) | set(self.resolver.globals) | set(self.resolver.cells) \
            | (captures - {None})
        self.counts = {}
        self.loops = 0
        self.regions = {"try": {}, "with": {}, "given": {}}  # given: names -> objects lowered code reads
        self.bound = {a.id for a in _params(parsed.node)}  # names bound before the statement lowered
        self.unbound = set()  # names a try in the current loop binds, unbound before the loop

    def fresh(self, base):
        while True:
            self.counts[base] = self.counts.get(base, 0) + 1
            ident = f"{base}{self.counts[base]}"
            if ident not in self.taken and not any(ident + s in self.taken for s in
                                                   ("_bar", "_tape", "_dot", "_tape_items")):
                self.taken.add(ident)
                self.resolver.locals.add(ident)
                return ident

    def given(self, base, obj):
        """A fresh name the generated code reads ``obj`` through (like a closure cell), one per object."""
        known = [n for n, o in self.regions["given"].items() if o is obj]
        if known:
            return known[0]
        ident = base if base not in self.taken else self.fresh(base)
        self.taken.add(ident)
        self.resolver.locals.discard(ident)
        self.resolver.cells[ident] = types.CellType(obj)
        self.regions["given"][ident] = obj
        return ident

    def refuse(self, what, node, hint=""):
        unsupported(what, node, self.filename, hint)

    # -- blocks ---------------------------------------------------------------------------
    def block(self, stmts):
        out = []
        for s in stmts:
            lowered = self.stmt(s)
            self.bound |= stored_names(gast.Module(body=lowered, type_ignores=[]))
            out += lowered
        return out

    def stmt(self, s):
        kind = type(s).__name__
        method = getattr(self, "stmt_" + kind, None)
        if method is not None:
            return [_fill_line(n, s.lineno) for n in method(s)]
        if isinstance(s, (gast.For, gast.While)):
            return self.loop(s)
        if isinstance(s, gast.If):
            pre = self.hoist(s, "test")
            s.body = self.block(s.body) or [_pass(s)]
            s.orelse = self.block(s.orelse)
            return pre + [s]
        return self.simple(s)

    def loop(self, s):
        if isinstance(s, gast.While) and _has_walrus(s.test):
            return self.placeholders(self.while_walrus(s))
        pre = self.hoist(s, "iter") if isinstance(s, gast.For) else []
        self.loops += 1
        s.body = self.block(s.body) or [_pass(s)]
        self.loops -= 1
        return pre + self.placeholders([s])

    def placeholders(self, loop):
        """Before an outermost loop, ``None`` for each name a try in it binds that nothing bound
        before (the try's function takes the name's value from the trip before)."""
        if self.loops or not self.unbound:
            return loop
        out = [with_line(_assign(n, const(None)), loop[0].lineno) for n in sorted(self.unbound)]
        self.unbound = set()
        return out + loop

    def simple(self, s):
        pre = []
        for field in ("value", "test", "msg", "exc", "cause", "iter"):
            if getattr(s, field, None) is not None:
                pre += self.hoist(s, field)
        return pre + [s]

    # -- := ---------------------------------------------------------------------------------
    def hoist(self, s, field):
        """``(y := v)`` in ``s.field`` becomes ``y = v`` before ``s`` and ``y`` in its place."""
        expr = getattr(s, field)
        if expr is None or not _has_walrus(expr):
            return []
        hoister = _Hoister(self, s)
        setattr(s, field, hoister.visit(expr))
        for target in hoister.targets:
            if _read_first(getattr(s, field), target, hoister.made):
                self.refuse("reading a name in the expression that binds it with :=", s,
                            "bind it on a line of its own")
        return hoister.out

    def while_walrus(self, s):
        """``while (y := v) > 0: B`` is ``while True: y = v; if not y > 0: break; B``."""
        test = gast.If(test=gast.UnaryOp(op=gast.Not(), operand=s.test), body=[gast.Break()],
                       orelse=[])
        with_line(test, s.lineno)
        loop = gast.While(test=const(True), body=[test] + s.body, orelse=[])
        loop.lineno = s.lineno
        pre = self.hoist(test, "test")
        self.loops += 1
        rest = self.block(loop.body[1:])
        self.loops -= 1
        loop.body = [with_line(p, s.lineno) for p in pre] + [test] + rest
        return [loop]

    # -- global, del ---------------------------------------------------------------------
    def stmt_Global(self, s):
        bound = stored_names(self.parsed.node) - {a.id for a in _params(self.parsed.node)}
        for ident in s.names:
            if ident in bound:
                self.refuse(f"assigning the global '{ident}'", s,
                            "return the new value instead; reading a global is fine")
        return []

    def stmt_Delete(self, s):
        for target in s.targets:
            if not isinstance(target, gast.Name) or self.resolver.lookup(target.id) is not LOCAL:
                self.refuse("del of an item, an attribute or a global", s,
                            "del changes the container in place; build a new one instead")
        return []  # the name is never read again in a program that runs

    # -- with ------------------------------------------------------------------------------
    def stmt_With(self, s):
        if all(_is_no_grad(item.context_expr) for item in s.items):
            s.body = self.block(s.body) or [_pass(s)]
            return [s]
        if any(_is_no_grad(item.context_expr) for item in s.items):
            self.refuse("adjoint.no_grad() beside another context manager", s,
                        "write the no_grad block on its own line")
        body, ret = self.final_return(s.body)
        if _jumps(body):
            self.refuse("return, break, continue or raise inside a with-block", s,
                        "compute the value in the block and return it after")
        for item in reversed(s.items):
            body = self.with_item(s, item, body)
        out = self.block(body)
        return out + ([ret] if ret is not None else [])

    def final_return(self, body):
        """A with-block's body whose last statement ``return v`` becomes ``returned1 = v``
        (computed inside the block), and the ``return returned1`` that follows the block."""
        if not body or not isinstance(body[-1], gast.Return):
            return body, None
        ret = body[-1]
        held = self.fresh("returned")
        value = ret.value if ret.value is not None else const(None)
        out = gast.Return(value=name(held))
        out.lineno = ret.lineno
        return body[:-1] + [with_line(_assign(held, value), ret.lineno)], out

    def with_item(self, s, item, body):
        """``with M as v: B`` as ``ctx1 = M``, an enter marker, ``v = ctx1``, B, an exit marker."""
        manager = self.resolver.resolve(item.context_expr.func) \
            if isinstance(item.context_expr, gast.Call) else None
        if manager is contextlib.suppress:
            self.refuse("contextlib.suppress", s, "write try/except instead")
        ctx = self.fresh("ctx")
        key = ctx
        self.regions["with"][key] = None if manager in _TRUSTED_MANAGERS \
            else self.given("Unsuppressed", Unsuppressed)
        bind = gast.Assign(targets=[name(ctx, store=True)], value=item.context_expr, type_comment=None)
        enter = _marker(gast.Expr(value=name(ctx)), ("enter", key))
        out = [bind, enter]
        if item.optional_vars is not None:
            if not isinstance(item.optional_vars, gast.Name):
                self.refuse("unpacking the value a context manager gives", s, "bind one name")
            out.append(gast.Assign(targets=[item.optional_vars], value=name(ctx), type_comment=None))
        return out + body + [_marker(gast.Expr(value=name(ctx)), ("exit", key))]

    # -- try -------------------------------------------------------------------------------
    def stmt_Try(self, s):
        if s.handlers and self.loops:
            return self.try_in_loop(s)
        self.check_try(s)
        if not s.handlers:
            final = self.block(s.finalbody)
            return self.before_exits(self.block(s.body), final) + clone(final)
        flags = [self.fresh("tried") for _ in s.body]
        caught = self.fresh("caught") if len(s.handlers) > 1 else None
        prelude = self.try_prelude(s, flags, caught)
        final = self.block(s.finalbody)
        regions = [self.region(b, f, k == len(s.body) - 1) for k, (b, f) in enumerate(zip(s.body, flags))]
        held = regions[-1][1]
        success = [with_line(gast.Return(value=name(held)), s.body[-1].lineno)] if held \
            else self.block(s.orelse)
        decision = gast.If(test=name(flags[-1]), body=self.before_exits(success, final) or [_pass(s)],
                           orelse=self.handlers(s, caught, final))
        self.regions["try"][flags[0]] = {
            "flags": flags, "caught": caught, "reached": self.fresh("reached") if len(flags) > 1 else None,
            "handlers": [(clone(h.type), h.name.id if h.name is not None else None) for h in s.handlers],
            "error": self.fresh("error") if any(h.name for h in s.handlers) else None}
        held_init = [_assign(held, const(None))] if held else []
        return prelude + held_init + [r for r, _ in regions] + [decision] + clone(final)

    def check_try(self, s):
        for h in s.handlers:
            if h.type is not None and not _is_type_expr(h.type):
                self.refuse("an except clause naming something other than exception classes",
                            h, "name the classes")

    # -- try inside a loop ---------------------------------------------------------------
    def try_in_loop(self, s):
        """A try in a loop is a function of its own, called in its place: ``(v, jump1) =
        try12(x, v)`` takes the locals the try reads or binds and returns those it binds, and
        how it left (0, or 1 for a ``break``, 2 for a ``continue`` in its handlers or its
        ``else``, 3 for a ``return``, whose value comes last), so each trip's path is one call
        of a helper whose try is lowered as above."""
        s = _break_into_else(s)
        self.check_try(s)
        if any(_leaves(t) or _returns(t) for t in s.finalbody):
            self.refuse("return, break or continue in the finally of a try in a loop", s,
                        "set a flag in the try and act on it after")
        caught = {h.name.id for h in s.handlers if h.name is not None}
        written = sorted(_bound_here(s) - caught)
        read = {n.id for n in walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
        params = sorted(n for n in (read - caught) | set(written) if self.resolver.lookup(n) is LOCAL)
        value = self.fresh("returned_value") if _returns(s) else None
        jump = self.fresh("jump") if _leaves(s) or value else None
        fn = self.try_function(s, params, written, jump is not None, value is not None)
        ident = self.given(fn.__name__, fn)
        self.unbound |= set(written) - self.bound
        outputs = written + ([jump] if jump else []) + ([value] if value else [])
        target = gast.Tuple(elts=[name(n, store=True) for n in outputs], ctx=gast.Store()) \
            if outputs else name(self.fresh("tried_none"), store=True)
        call = gast.Call(func=name(ident), args=[name(p) for p in params], keywords=[])
        out = [with_line(gast.Assign(targets=[target], value=call, type_comment=None), s.lineno)]
        exits = ([(1, gast.Break()), (2, gast.Continue())] if _leaves(s) else []) + \
            ([(3, gast.Return(value=name(value)))] if value else [])
        for code, leave in exits:
            test = gast.Compare(left=name(jump), ops=[gast.Eq()], comparators=[const(code)])
            out.append(with_line(gast.If(test=test, body=[with_line(leave, s.lineno)], orelse=[]), s.lineno))
        return out

    def try_function(self, s, params, written, jumps, returns=False):
        """``def try12(params): <the try>; return (written...)``, compiled with the user's lines."""
        from .closures import synthesize
        def returned(code, value=None):
            items = [name(n) for n in written] + ([const(code)] if jumps else []) \
                + ([value or const(None)] if returns else [])
            return gast.Return(value=gast.Tuple(elts=items, ctx=gast.Load()) if items else const(None))
        body = _jumps_returned(clone(s), returned)
        args = gast.arguments(args=[gast.Name(id=p, ctx=gast.Param(), annotation=None, type_comment=None)
                                    for p in params], posonlyargs=[], vararg=None, kwonlyargs=[],
                              kw_defaults=[], kwarg=None, defaults=[])
        node = gast.FunctionDef(name=f"try{s.lineno}", args=args, body=[body, with_line(returned(0), s.lineno)],
                                decorator_list=[], returns=None, type_comment=None, type_params=[])
        node.lineno = s.lineno
        free = {n.id for n in walk(s) if isinstance(n, gast.Name)} - set(params)
        cells = {k: c for k, c in self.resolver.cells.items() if k in free}
        qualname = f"{getattr(self.parsed.fn, '__qualname__', self.parsed.node.name)}.<try at line {s.lineno}>"
        return synthesize(node, self.resolver.globals, self.filename, cells, qualname)

    def try_prelude(self, s, flags, caught):
        """The flags, and a first binding for each name the body binds that is not bound yet
        (``None``: the path where the body stops before binding it reads it too)."""
        out = [_assign(f, const(True)) for f in flags] + ([_assign(caught, const(0))] if caught else [])
        out += [_assign(h.name.id, const(None)) for h in s.handlers if h.name is not None]
        first = sorted(stored_names(gast.Module(body=s.body, type_ignores=[])) - self.bound)
        return out + [_assign(n, const(None)) for n in first]

    def handlers(self, s, caught, final):
        """The handlers' bodies as a chain of ifs on ``caught`` (the index of the one that ran)."""
        chain = []
        for k, h in reversed(list(enumerate(s.handlers, 1))):
            body = self.before_exits(self.block(h.body), final) or [_pass(h)]
            if not chain:
                chain = body
            else:
                test = gast.Compare(left=name(caught), ops=[gast.Eq()], comparators=[const(k)])
                chain = [with_line(gast.If(test=test, body=body, orelse=chain), h.lineno)]
        return chain

    def region(self, b, flag, last):
        """``if flag:`` around one statement of a try body, its results first bound to fresh
        names and then to the user's (so a statement that raises binds nothing), and its keeper.

        Returns the region and, for a final ``return v``, the name holding ``v``.
        """
        self.check_region(b, last)
        held, versions, stmts = None, {}, []
        for p in self.simple(b):
            if isinstance(p, gast.Expr):
                self.region_expr(p)
            elif isinstance(p, gast.Return):
                held = self.fresh("returned")
                p = _assign(held, p.value if p.value is not None else const(None))
            elif isinstance(p, gast.AnnAssign):
                if p.value is None:
                    continue
                p = gast.Assign(targets=[p.target], value=p.value, type_comment=None)
            if isinstance(p, gast.Assign) and not (held and p.targets[0].id == held):
                p.targets = [self.fresh_target(t, versions, b) for t in p.targets]
            stmts.append(with_line(p, b.lineno))
        stmts += [with_line(_assign(orig, name(v)), b.lineno) for orig, v in versions.items()]
        keep = _marker(gast.Expr(value=gast.Tuple(elts=[name(v) for v in versions.values()] +
                                                  [name(flag)], ctx=gast.Load())), ("keep", flag))
        region = gast.If(test=name(flag), body=stmts + [with_line(keep, b.lineno)], orelse=[])
        return with_line(region, b.lineno), held

    def check_region(self, b, last):
        if isinstance(b, gast.AugAssign):
            self.refuse("an augmented assignment inside a try body", b,
                        "write x = x + ... (in place, it could stop halfway)")
        if not isinstance(b, (gast.Assign, gast.AnnAssign, gast.Expr, gast.Pass, gast.Return)) \
                or isinstance(b, gast.Return) and not last:
            self.refuse("this statement inside a try body", b, "keep to assignments of names and "
                        "calls, or move the work into a helper function called in the try")

    def region_expr(self, p):
        """Refuse a method call that may change a value in place, except in generated code:
        that is differentiated only in forward mode, whose tangents keep step with its values."""
        call = p.value
        if self.filename.startswith("<adjoint:") or not isinstance(call, gast.Call):
            return
        if isinstance(call.func, gast.Attribute) and self.resolver.resolve(call.func.value) is LOCAL:
            self.refuse("calling a method of a local value inside a try body", p,
                        "it may change the value in place, which the backward sweep cannot "
                        "replay if the try stops halfway; call it after the try")

    def fresh_target(self, target, versions, stmt):
        if isinstance(target, gast.Name):
            ident = self.fresh(f"{target.id}_tried")
            versions.pop(target.id, None)
            versions[target.id] = ident
            return name(ident, store=True)
        if isinstance(target, (gast.Tuple, gast.List)):
            return type(target)(elts=[self.fresh_target(t, versions, stmt) for t in target.elts],
                                ctx=gast.Store())
        self.refuse("writing into an item or an attribute inside a try body", stmt,
                    "compute the value in the try and write it after")

    def before_exits(self, block, final):
        """``block`` with copies of ``final`` (a finally clause) run before each return or raise."""
        if not final:
            return block
        out = []
        for s in block:
            if isinstance(s, gast.Return) and s.value is not None:
                hold = self.fresh("finally_value")
                out += [with_line(_assign(hold, s.value), s.lineno)] + clone(final)
                out.append(with_line(gast.Return(value=name(hold)), s.lineno))
            elif isinstance(s, (gast.Return, gast.Raise)):
                out += clone(final) + [s]
            else:
                for field in ("body", "orelse"):
                    if getattr(s, field, None):
                        setattr(s, field, self.before_exits(getattr(s, field), final))
                out.append(s)
        return out

    # -- match -----------------------------------------------------------------------------
    def stmt_Match(self, s):
        subject = self.fresh("subject")
        out = self.simple(_assign(subject, s.subject))
        guarded = any(c.guard is not None for c in s.cases)
        done = self.fresh("matched") if guarded else None
        chain = []
        for case in reversed(s.cases):
            chain = self.case(case, subject, chain, done, s)
        if done:
            return out + [_assign(done, const(False))] + chain
        return out + chain

    def case(self, case, subject, rest, done, s):
        """``case P if G: B`` in front of ``rest``, the statements that run when it does not match."""
        tests, binds = [], []
        _Pattern(self, s).compile(case.pattern, name(subject), tests, binds)
        binds = [with_line(b, case.pattern.lineno) for b in binds]
        body = self.block(case.body) or [_pass(s)]
        if done is None:  # no guards: an if/elif chain
            if not tests:
                return binds + body  # always matches: later cases never run
            return [with_line(gast.If(test=_all(tests), body=binds + body, orelse=rest), case.pattern.lineno)]
        body = [with_line(_assign(done, const(True)), case.pattern.lineno)] + body
        if case.guard is not None:
            guard = with_line(gast.If(test=case.guard, body=body, orelse=[]), case.pattern.lineno)
            body = self.hoist(guard, "test") + [guard]
        step = binds + body
        if tests:
            step = [with_line(gast.If(test=_all(tests), body=step, orelse=[]), case.pattern.lineno)]
        later = [with_line(gast.If(test=gast.UnaryOp(op=gast.Not(), operand=name(done)), body=rest,
                                   orelse=[]), case.pattern.lineno)] if rest else []
        return step + later


class _Pattern:
    """The tests and bindings of one match pattern, on Python 3.10 semantics."""

    def __init__(self, lowering, stmt):
        self.low = lowering
        self.stmt = stmt

    def compile(self, p, value, tests, binds):
        method = getattr(self, type(p).__name__, None)
        if method is None:
            self.low.refuse(f"the pattern {type(p).__name__}", self.stmt, "use if/elif")
        method(p, value, tests, binds)

    def MatchValue(self, p, value, tests, binds):
        tests.append(gast.Compare(left=clone(value), ops=[gast.Eq()], comparators=[p.value]))

    def MatchSingleton(self, p, value, tests, binds):
        tests.append(gast.Compare(left=clone(value), ops=[gast.Is()], comparators=[const(p.value)]))

    def MatchAs(self, p, value, tests, binds):
        if p.pattern is not None:
            self.compile(p.pattern, value, tests, binds)
        if p.name is not None:
            self.low.resolver.locals.add(p.name)
            binds.append(_assign(p.name, clone(value)))

    def MatchOr(self, p, value, tests, binds):
        alternatives = []
        for alt in p.patterns:
            inner, captured = [], []
            self.compile(alt, value, inner, captured)
            if captured:
                self.low.refuse("a capture inside an or-pattern", self.stmt, "match each case alone")
            alternatives.append(_all(inner) if inner else const(True))
        tests.append(gast.BoolOp(op=gast.Or(), values=alternatives))

    def MatchSequence(self, p, value, tests, binds):
        stars = [k for k, q in enumerate(p.patterns) if isinstance(q, gast.MatchStar)]
        if any(p.patterns[k].name is not None for k in stars):
            self.low.refuse("a named *rest in a sequence pattern", self.stmt,
                            "match the items you need and slice the rest after")
        seq = name(self.low.given("sequence_type", collections.abc.Sequence))
        text = gast.Tuple(elts=[name("str"), name("bytes"), name("bytearray")], ctx=gast.Load())
        tests.append(_call("isinstance", clone(value), seq))
        tests.append(gast.UnaryOp(op=gast.Not(), operand=_call("isinstance", clone(value), text)))
        n = len(p.patterns) - len(stars)
        length = _call("len", clone(value))
        op = gast.GtE() if stars else gast.Eq()
        tests.append(gast.Compare(left=length, ops=[op], comparators=[const(n)]))
        for k, q in enumerate(p.patterns):
            if isinstance(q, gast.MatchStar):
                continue
            index = const(k) if not stars or k < stars[0] else const(k - len(p.patterns))
            item = gast.Subscript(value=clone(value), slice=index, ctx=gast.Load())
            self.compile(q, item, tests, binds)

    def MatchMapping(self, p, value, tests, binds):
        if p.rest is not None:
            self.low.refuse("**rest in a mapping pattern", self.stmt, "read the keys you need")
        mapping = name(self.low.given("mapping_type", collections.abc.Mapping))
        tests.append(_call("isinstance", clone(value), mapping))
        for key, q in zip(p.keys, p.patterns):
            tests.append(gast.Compare(left=clone(key), ops=[gast.In()], comparators=[clone(value)]))
            item = gast.Subscript(value=clone(value), slice=clone(key), ctx=gast.Load())
            self.compile(q, item, tests, binds)

    def MatchClass(self, p, value, tests, binds):
        cls = self.low.resolver.resolve(p.cls)
        if not isinstance(cls, type):
            self.low.refuse("a class pattern whose class is not known when adjoint reads the "
                            "function", self.stmt, "name a class defined at module level")
        tests.append(_call("isinstance", clone(value), clone(p.cls)))
        if cls in _SELF_MATCHING and len(p.patterns) == 1:
            self.compile(p.patterns[0], value, tests, binds)
            positional = []
        else:
            names = getattr(cls, "__match_args__", ())
            if len(p.patterns) > len(names):
                self.low.refuse(f"more positional patterns than {cls.__name__}.__match_args__ "
                                "names", self.stmt)
            positional = list(zip(names, p.patterns))
        for attr, q in positional + list(zip(p.kwd_attrs, p.kwd_patterns)):
            item = gast.Attribute(value=clone(value), attr=attr, ctx=gast.Load())
            self.compile(q, item, tests, binds)


class _Hoister(gast.NodeTransformer):
    """Takes each ``:=`` out of an expression, in evaluation order."""

    def __init__(self, lowering, stmt):
        self.low = lowering
        self.stmt = stmt
        self.out = []
        self.targets = []
        self.made = []

    def visit_NamedExpr(self, node):
        value = self.visit(node.value)
        ident = node.target.id
        self.out.append(with_line(_assign(ident, value), self.stmt.lineno))
        self.targets.append(ident)
        ref = name(ident)
        self.made.append(ref)
        return ref

    def visit_BoolOp(self, node):
        node.values[0] = self.visit(node.values[0])
        if any(_has_walrus(v) for v in node.values[1:]):
            self.low.refuse(_CONDITIONAL, self.stmt, "bind it on a line of its own")
        return node

    def visit_IfExp(self, node):
        node.test = self.visit(node.test)
        if _has_walrus(node.body) or _has_walrus(node.orelse):
            self.low.refuse(_CONDITIONAL, self.stmt, "bind it on a line of its own")
        return node

    def generic_visit(self, node):
        if isinstance(node, _COMPREHENSIONS):
            if _has_walrus(node):
                self.low.refuse("the := operator inside a comprehension or lambda", self.stmt,
                                "bind it on a line of its own")
            return node
        return super().generic_visit(node)


# -- finishing the generated code ---------------------------------------------------------
def finish(body, regions, constants):
    """``body`` with try regions and with markers turned into real statements (see module doc);
    ``constants`` (the names generated code finds in its module) gets the objects it reads."""
    if not regions:
        return body
    constants.update(regions["given"])
    if not (regions["try"] or regions["with"]):
        return body
    return _finish_block(body, regions)


def _finish_block(stmts, regions):
    for s in stmts:
        for field in ("body", "orelse"):
            if getattr(s, field, None):
                setattr(s, field, _finish_block(getattr(s, field), regions))
    out = []
    k = 0
    while k < len(stmts):
        s = stmts[k]
        region = _region_of(s, regions)
        if region is None:
            out.append(s)
            k += 1
            continue
        n = len(region["flags"])
        out += _try_statement(stmts[k:k + n], region)
        k += n
    return _withs(out, regions)


def _region_of(s, regions):
    """The try whose first region ``s`` is, in a forward sweep (an if ending in its keeper)."""
    if not isinstance(s, gast.If) or not isinstance(s.test, gast.Name) or not s.body or s.orelse:
        return None
    if getattr(s.body[-1], "statement_role", None) == ("keep", s.test.id):
        return regions["try"].get(s.test.id)
    return None


def _try_statement(ifs, region):
    """The regions ``ifs`` of one try as a real try: the handler says which regions completed."""
    flags, reached = region["flags"], region["reached"]
    body = []
    for k, (s, flag) in enumerate(zip(ifs, flags), 1):
        if not (isinstance(s, gast.If) and getattr(s.body[-1], "statement_role", None) == ("keep", flag)):
            raise AssertionError(f"try region {flag} not found in the forward sweep")
        body += s.body[:-1]
        if reached and k < len(flags):
            body.append(_assign(reached, const(k)))
    ran = [_assign(f, gast.Compare(left=name(reached), ops=[gast.GtE()], comparators=[const(k)]))
           for k, f in enumerate(flags[:-1], 1)] + [_assign(flags[-1], const(False))]
    handlers = []
    for k, (kind, bound) in enumerate(region["handlers"], 1):
        caught = [_assign(region["caught"], const(k))] if region["caught"] else []
        error = region["error"] if bound else None
        given = [_assign(bound, name(error))] if bound else []
        handlers.append(gast.ExceptHandler(
            type=clone(kind), name=name(error, store=True) if error else None,
            body=[with_line(b, ifs[0].lineno) for b in clone(ran) + caught + given]))
    node = gast.Try(body=body or [gast.Pass()], handlers=handlers, orelse=[], finalbody=[])
    start = [with_line(_assign(reached, const(0)), ifs[0].lineno)] if reached else []
    return start + [with_line(node, ifs[0].lineno)]


def _withs(stmts, regions):
    """Each run from an enter marker to its exit marker as one ``with`` statement."""
    out = []
    k = 0
    while k < len(stmts):
        role = getattr(stmts[k], "statement_role", None)
        if role is None or role[0] != "enter":
            out.append(stmts[k])
            k += 1
            continue
        end = next(j for j in range(k + 1, len(stmts))
                   if getattr(stmts[j], "statement_role", None) == ("exit", role[1]))
        body = _withs(stmts[k + 1:end], regions)  # a with-block inside this one
        out.append(_with_statement(out, stmts[k], body, regions["with"][role[1]]))
        k = end + 1
    return out


def _with_statement(before, enter, body, wrapper):
    ctx = enter.value
    manager = clone(ctx)
    last = before[-1] if before else None
    if isinstance(last, gast.Assign) and isinstance(last.targets[0], gast.Name) \
            and last.targets[0].id == ctx.id:
        manager = before.pop().value  # the manager written where it is entered
    if wrapper is not None:
        manager = _call(wrapper, manager)
    target = None
    first = body[0] if body else None
    if isinstance(first, gast.Assign) and isinstance(first.value, gast.Name) \
            and first.value.id == ctx.id:  # ``v = ctx1``: the value the manager gives
        target, body = first.targets[0], body[1:]
    item = gast.withitem(context_expr=manager, optional_vars=target)
    node = gast.With(items=[item], body=body or [gast.Pass()], type_comment=None)
    node.lineno = enter.lineno
    return node


# -- small helpers ----------------------------------------------------------------------
def lower(parsed):
    """Lower ``parsed.node``'s statements (see module docstring)."""
    low = _Lowering(parsed)
    if any(isinstance(n, (gast.Try, gast.With, gast.Match, gast.Global, gast.Delete, gast.NamedExpr))
           for n in walk(parsed.node)):
        parsed.node.body = low.block(parsed.node.body) or [_pass(parsed.node)]
    parsed.statement_regions = low.regions


def _params(node):
    args = node.args
    return args.posonlyargs + args.args + args.kwonlyargs


def _assign(ident, value):
    return gast.Assign(targets=[name(ident, store=True)], value=value, type_comment=None)


def _call(fn, *args):
    return gast.Call(func=name(fn), args=list(args), keywords=[])


def _all(tests):
    return tests[0] if len(tests) == 1 else gast.BoolOp(op=gast.And(), values=tests)


def _pass(s):
    p = gast.Pass()
    p.lineno = s.lineno
    return p


def _fill_line(node, lineno):
    """``node`` with ``lineno`` on each statement in it that has no line of its own."""
    for n in walk(node):
        if isinstance(n, gast.stmt) and getattr(n, "lineno", None) is None:
            n.lineno = lineno
    return node


def _marker(node, role):
    node.statement_role = role
    return node


def _has_walrus(node):
    return any(isinstance(n, gast.NamedExpr) for n in walk(node))


def _read_first(expr, target, made):
    """Whether ``target`` is read in ``expr`` other than where its := was, or after an and/or."""
    skip = {id(m) for m in made}
    stack = [expr]
    while stack:
        n = stack.pop()
        if isinstance(n, gast.Name) and n.id == target and id(n) not in skip:
            return True
        if isinstance(n, gast.BoolOp):
            stack.append(n.values[0])  # the later operands run after the first
            continue
        stack.extend(c for c in gast.iter_child_nodes(n))
    return False


def _break_into_else(s):
    """``try: A; break`` is ``try: A ... else: break`` (the else clause could never run)."""
    last = s.body[-1] if s.body else None
    if isinstance(last, (gast.Break, gast.Continue)):
        s.body, s.orelse = s.body[:-1] or [_pass(last)], [last]
    return s


def _leaves(s):
    """Whether a ``break`` or ``continue`` in ``s`` leaves it (one of an inner loop does not)."""
    if isinstance(s, (gast.Break, gast.Continue)):
        return True
    return any(_leaves(t) for holder, field in _statement_lists(s) for t in getattr(holder, field))


def _returns(s):
    return any(isinstance(n, gast.Return) for n in walk(s))


def _bound_here(s):
    """The names statement ``s`` binds in the function's scope (comprehension variables and
    lambda parameters are their own)."""
    inner = set()
    for n in walk(s):
        if isinstance(n, _COMPREHENSIONS[:4]):
            inner |= {id(m) for g in n.generators for m in walk(g.target)}
    return {n.id for n in walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
            and id(n) not in inner}


def _jumps_returned(s, returned, in_loop=False):
    """``s`` with each ``break``/``continue`` that leaves it (none of an inner loop) a return of
    ``returned(1)`` / ``returned(2)``, and each ``return v``, at any depth, one of ``returned(3, v)``."""
    loop = isinstance(s, (gast.For, gast.While))
    lists = [(s, "body"), (s, "orelse")] if loop else _statement_lists(s)
    for holder, field in lists:
        setattr(holder, field, [_jumps_returned(t, returned, in_loop or loop) for t in getattr(holder, field)])
    if isinstance(s, gast.Return):
        return with_line(returned(3, s.value), s.lineno)
    if in_loop:
        return s  # a break or continue of an inner loop
    if isinstance(s, gast.Break):
        return with_line(returned(1), s.lineno)
    if isinstance(s, gast.Continue):
        return with_line(returned(2), s.lineno)
    return s


def _statement_lists(s):
    """(node, field) of the statement lists in ``s`` a jump in them would leave ``s`` from."""
    if isinstance(s, (gast.For, gast.While, gast.FunctionDef)):
        return []
    out = [(s, f) for f in ("body", "orelse", "finalbody") if isinstance(getattr(s, f, None), list)]
    return out + [(h, "body") for h in getattr(s, "handlers", None) or []] \
        + [(c, "body") for c in getattr(s, "cases", None) or []]


def _is_no_grad(expr) -> bool:
    func = expr.func if isinstance(expr, gast.Call) else expr
    return isinstance(func, (gast.Attribute, gast.Name)) and \
        (getattr(func, "attr", None) or getattr(func, "id", None)) == "no_grad"


def _is_type_expr(node):
    if isinstance(node, gast.Tuple):
        return all(_is_type_expr(e) for e in node.elts)
    return isinstance(node, gast.Name) or isinstance(node, gast.Attribute) and _is_type_expr(node.value)


def _jumps(stmts, in_loop=False):
    """Whether running ``stmts`` may leave the block early (a break of an inner loop does not)."""
    for s in stmts:
        if isinstance(s, (gast.Return, gast.Raise)) or \
                not in_loop and isinstance(s, (gast.Break, gast.Continue)):
            return True
        inner = in_loop or isinstance(s, (gast.For, gast.While))
        if not isinstance(s, (gast.FunctionDef, gast.ClassDef)) and any(
                _jumps(getattr(s, f, None) or [], inner) for f in ("body", "orelse", "finalbody")):
            return True
        if any(_jumps(h.body, in_loop) for h in getattr(s, "handlers", [])) or \
                any(_jumps(c.body, in_loop) for c in getattr(s, "cases", [])):
            return True
    return False
