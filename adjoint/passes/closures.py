"""Functions as values, lowered into calls of named functions.

Contract: ``lower(parsed)`` accepts a parsed function (any body) and rewrites
its tree in place so that no nested ``def``, ``lambda`` or ``nonlocal`` is
left, and every call the later passes see names the function it calls:

* a nested ``def`` or ``lambda`` becomes a function of its own (*lifted*),
  bound to its name in the resolver's closure cells. The enclosing locals it
  reads (its *environment*) become keyword-only parameters, passed by every
  call (``f(x, w=w)``): a call reads them when it runs, which is Python's late
  binding. A name it rebinds with ``nonlocal`` is returned after its value
  (``y, count = f(x, count=count)``). A default naming an enclosing value is
  evaluated where the ``def`` ran, into a name every call passes;
* a local that only ever holds known functions (``h = f``, ``for act in
  (np.tanh, relu)``, ``acts = {"tanh": np.tanh}; acts[kind]``, an item of a
  module-level table of functions ``ACTIVATIONS[kind]``) is called as
  that function, or, when it may hold several, through an ``if h is f:``
  branch per function (the path taken at run time is differentiated);
* a local bound to a function a helper of yours returns (``f = make(w)``, every return of
  ``make`` giving a ``def`` or lambda it defines) holds what that function reads: a copy of
  ``make`` returns those values, and ``f(x)`` calls the lifted function with them
  (``_Factories``);
* ``functools.partial`` objects call their function with the bound values
  (evaluated where the partial was made); a ``functools.wraps`` wrapper that
  only forwards calls the function it wraps;
* a call of a user function with a function argument, ``*args`` or
  ``**kwargs`` calls a copy of it specialised to that call: the function
  argument becomes a closure cell, ``*rest`` becomes ``rest_0, rest_1``
  rebuilt as ``rest = (rest_0, rest_1)``; ``f(x, **d)``, ``d``'s keys known only at run
  time, calls a copy taking ``d`` whole that binds the parameters the call leaves to it as
  Python does (``_bind_keywords``); the differentiated function's own ``*args``/``**kwargs``
  become parameters holding the tuple and the dict, its own ``nonlocal`` names are read and
  written through their cells (``passes/cells.py``).

What cannot be proven right is refused with ``UnsupportedSyntaxError`` at the
user's line: a function value escaping to code adjoint does not see, a call
through a local that may hold a value the transform did not see.
"""
from __future__ import annotations

import ast
import functools
import inspect
import itertools
import linecache
import os
import sysconfig
import types
import weakref

import gast

from .. import runtime
from ..astutil import children, clone, const, dotted, name, walk
from ..frontend import LOCAL, UNKNOWN, unsupported
from ..rules import lookup
from . import cells as own_cells

_FUNCTIONS = (gast.FunctionDef, gast.Lambda)
_SPECIALISED = weakref.WeakKeyDictionary()  # code object -> {call shape: specialised function}


def lower(parsed) -> None:
    """Lower the function values of ``parsed`` (see the module docstring), in place."""
    if parsed.filename.startswith("<adjoint:"):
        return  # generated code (a higher derivative): lowered already, its calls pass what they read
    rebound = own_cells.lower(parsed, own_nodes)  # the function's own nonlocal names
    _variadic_signature(parsed.node.args)
    scope = _Scope(parsed)
    scope.lift()
    scope.call_returned_functions()
    scope.calls_through_values()
    scope.expand_stars()
    scope.specialise_calls()
    scope.pass_environments()
    own_cells.write_back(parsed, rebound)
    scope.refresh()


def python_function(fn):
    """The Python function behind a numba-compiled one (its ``py_func``), else ``fn``."""
    inner = getattr(fn, "py_func", None)
    return inner if isinstance(inner, types.FunctionType) else fn


def _variadic_signature(args):
    """``*args`` and ``**kwargs`` of a function transformed as is: parameters holding the tuple
    and the dict (the call binds them so; a helper's calls get a specialised copy instead)."""
    if args.vararg is not None:
        args.args = args.args + [args.vararg]
        args.vararg = None
    if args.kwarg is not None:
        args.kwonlyargs = args.kwonlyargs + [args.kwarg]
        args.kw_defaults = args.kw_defaults + [None]
        args.kwarg = None


# -- scope facts --------------------------------------------------------------
def own_nodes(stmts):
    """The nodes of ``stmts`` in their own scope: nested functions' bodies left out
    (their defaults and decorators are evaluated here, so they are in)."""
    stack = list(reversed(stmts))
    pop, push = stack.pop, stack.extend
    while stack:
        n = pop()
        yield n
        if isinstance(n, _FUNCTIONS):  # one check for both: most nodes are neither
            if isinstance(n, gast.FunctionDef):
                inner = n.decorator_list + n.args.defaults + [d for d in n.args.kw_defaults if d]
            else:
                inner = n.args.defaults + [d for d in n.args.kw_defaults if d]
        else:
            inner = children(n)
        inner.reverse()
        push(inner)


def _children(value):
    if isinstance(value, list):
        return [v for v in value if isinstance(v, gast.AST)]
    return [value] if isinstance(value, gast.AST) else []


def _params(args):
    names = [a.id for a in args.posonlyargs + args.args + args.kwonlyargs]
    return names + [a.id for a in (args.vararg, args.kwarg) if a is not None]


def _body(fnode):
    return fnode.body if isinstance(fnode, gast.FunctionDef) else [fnode.body]


def _nonlocals(stmts):
    return {n for s in own_nodes(stmts) if isinstance(s, gast.Nonlocal) for n in s.names}


def bound_names(stmts, args=None):
    """Names local to a scope: its parameters, what it stores, the functions it defines."""
    out = set(_params(args)) if args is not None else set()
    for n in own_nodes(stmts):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            out.add(n.id)
        elif isinstance(n, gast.FunctionDef):
            out.add(n.name)
    return out - _nonlocals(stmts)


def free_names(fnode) -> set:
    """Names a nested function reads or rebinds that belong to an enclosing scope."""
    body = _body(fnode)
    seen = _nonlocals(body)
    for n in own_nodes(body):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
            seen.add(n.id)
        elif isinstance(n, _FUNCTIONS) and n is not fnode:
            seen |= free_names(n)
    return seen - bound_names(body, fnode.args)


def nonlocal_writes(fnode) -> set:
    """Enclosing names a nested function rebinds (``nonlocal``), its own nested ones included."""
    body = _body(fnode)
    declared = _nonlocals(body)
    stored = {n.id for n in own_nodes(body) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    out = declared & stored
    for n in own_nodes(body):
        if isinstance(n, _FUNCTIONS) and n is not fnode:
            out |= nonlocal_writes(n) - bound_names(body, fnode.args)
    return out


# -- the scope being lowered ---------------------------------------------------
class _Scope:
    """One function being lowered: its tree, resolver and the functions lifted out of it."""

    def __init__(self, parsed):
        self.parsed = parsed
        self.node = parsed.node
        self.resolver = parsed.resolver
        self.filename = parsed.filename
        self.taken = {n.id if isinstance(n, gast.Name) else n.name for n in walk(self.node)
                      if isinstance(n, (gast.Name, gast.FunctionDef))}  # one walk for both
        self.counter = itertools.count(1)
        self.function_locals = set()
        self.constants = {}
        self.partial_names = set()
        self.lifted_reads, self.lifted_writes = set(), set()  # enclosing names lifted functions use
        self.refresh()

    def refresh(self):
        """The resolver's locals as the tree now binds them (a lifted def is no local)."""
        self.resolver.locals = bound_names(self.node.body, self.node.args)

    def fresh(self, base):
        ident = base
        while ident in self.taken or self.resolver.lookup(ident) is not UNKNOWN:
            ident = f"{base}{next(self.counter)}"
        self.taken.add(ident)
        return ident

    def bind_cell(self, ident, value):
        self.resolver.cells[ident] = types.CellType(value)
        self.taken.add(ident)
        return name(ident)

    def cell_for(self, value, base):
        """A name that refers to ``value`` here: a fresh closure cell of this scope."""
        for ident, cell in self.resolver.cells.items():
            if cell.cell_contents is value:
                return name(ident)
        return self.bind_cell(self.fresh(base), value)

    def refuse(self, what, node, hint=""):
        unsupported(what, node, self.filename, hint)

    # -- lifting nested functions ----------------------------------------------
    def lift(self):
        """Lift every nested def and lambda of this scope into a function of its own."""
        defs = self._nested()
        if not defs:
            return
        self._check_single(defs)
        lifted = {}
        for ident, fnode, _ in defs:
            self.resolver.cells[ident] = types.CellType(None)
            lifted[ident] = fnode
        self.constants = self._constant_functions(set(lifted))
        env, writes = self._environments(lifted)
        self.lifted_reads = set().union(*env.values())
        self.lifted_writes = set().union(*writes.values())
        for ident, fnode, holder in defs:
            fn = self._lift_one(ident, fnode, env[ident], writes[ident])
            self.resolver.cells[ident].cell_contents = fn
        self._remove_defs(defs)
        self.refresh()

    def _nested(self):
        """(name, def or lambda, the statement binding it) for each nested function, in order."""
        out = []
        for s in own_nodes(self.node.body):
            if isinstance(s, gast.FunctionDef):
                if s.decorator_list:
                    self.refuse("a decorator on a nested def", s, "decorate a module-level function")
                out.append((s.name, s, s))
            elif isinstance(s, gast.Assign) and isinstance(s.value, gast.Lambda) and len(s.targets) == 1 \
                    and isinstance(s.targets[0], gast.Name):
                s.value.named = s.targets[0].id
                out.append((s.targets[0].id, s.value, s))
        homes = _comprehensions_around(self.node.body)
        for n in own_nodes(self.node.body):
            if isinstance(n, gast.Lambda) and not hasattr(n, "named"):
                n.named = self.fresh(f"lambda_{getattr(n, 'lineno', None) or self.node.lineno}")
                n.homes = homes.get(id(n), ())
                out.append((n.named, n, None))
        return out

    def _check_single(self, defs):
        """A function name bound once: which function a call reaches must not depend on the path."""
        counts = {}
        for s in own_nodes(self.node.body):
            if isinstance(s, gast.Name) and isinstance(s.ctx, gast.Store):
                counts[s.id] = counts.get(s.id, 0) + 1
        for ident, fnode, holder in defs:
            counts[ident] = counts.get(ident, 0) + (holder is None or isinstance(holder, gast.FunctionDef))
        for ident, fnode, holder in defs:
            if counts[ident] > 1 or ident in _params(self.node.args):
                self.refuse(f"binding the name '{ident}' of a nested def or lambda more than once", fnode,
                            "give each function its own name")

    def _constant_functions(self, lifted):
        """Locals bound once, at the top of the body, to a known function (``act = np.tanh``):
        a lifted function reads them as cells, so calls through them stay calls of that function."""
        stores = {}
        for n in own_nodes(self.node.body):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                stores[n.id] = stores.get(n.id, 0) + 1
        rebound = {n for s in walk(self.node) if isinstance(s, gast.Nonlocal) for n in s.names}
        out = {}
        for s in self.node.body:
            if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                    and stores.get(s.targets[0].id) == 1 and s.targets[0].id not in lifted \
                    and s.targets[0].id not in rebound \
                    and s.targets[0].id not in _params(self.node.args):
                fn = self.known(s.value)
                if fn is not None and not isinstance(fn, functools.partial):
                    out[s.targets[0].id] = types.CellType(fn)
        return out

    def _environments(self, lifted):
        """Each lifted function's environment and nonlocal writes, through the ones it calls."""
        locals_ = bound_names(self.node.body, self.node.args) - set(lifted)
        free = {k: free_names(f) for k, f in lifted.items()}
        for k, f in lifted.items():
            outer = sorted(nonlocal_writes(f) - locals_)
            if outer:
                self.refuse(f"rebinding '{outer[0]}' (nonlocal) of a function around the "
                            "differentiated one", f, "return the new value instead")
        locals_ -= set(self.constants)
        env = {k: (free[k] & locals_) | self._held_environment(f, free[k] - set(lifted), locals_)
               for k, f in lifted.items()}
        writes = {k: nonlocal_writes(f) & locals_ for k, f in lifted.items()}
        changed = True
        while changed:
            changed = False
            for k in lifted:
                for other in free[k] & set(lifted):
                    grown_env, grown_writes = env[k] | env[other], writes[k] | writes[other]
                    if (grown_env, grown_writes) != (env[k], writes[k]):
                        env[k], writes[k], changed = grown_env, grown_writes, True
        for k, f in lifted.items():
            self._check_hidden(k, f, env, free[k] & set(lifted))
        return env, writes

    def _held_environment(self, fnode, free, locals_):
        """What the functions held in cells a nested function reads read from here: a copy
        specialised to a lifted function holds it in a cell and takes its environment as
        parameters, which a nested function calling it must pass on."""
        out = set()
        for ident in sorted(free & set(self.resolver.cells)):
            held = self.resolver.cells[ident].cell_contents
            for _, e in getattr(held, "_adjoint_env", ()):
                if e not in locals_:
                    self.refuse(f"a nested function calling '{ident}', which reads '{e}' of a "
                                "scope it cannot reach", fnode, "pass what it reads as arguments")
                out.add(e)
        return out

    def _check_hidden(self, ident, fnode, env, calls):
        """A lifted function passes its environment on to those it calls: it must not hide it."""
        own = bound_names(_body(fnode), fnode.args) - env[ident]
        for other in sorted(calls):
            hidden = sorted(own & env[other])
            if hidden:
                self.refuse(f"the nested function '{ident}' binds '{hidden[0]}', hiding the "
                            f"enclosing '{hidden[0]}' that '{other}' reads", fnode,
                            "rename the local variable")

    def _lift_one(self, ident, fnode, env, writes):
        """The function object of one nested function, its environment as keyword-only parameters."""
        args = clone(fnode.args)
        body = clone(_body(fnode)) if isinstance(fnode, gast.FunctionDef) else \
            [_at(gast.Return(value=clone(fnode.body)), fnode.body)]
        captured = self._defaults(ident, args, fnode)
        pairs = _environment_parameters(sorted(env), args, {n.id for n in walk(fnode) if isinstance(n, gast.Name)})
        body = _drop_nonlocal(body)
        if writes:
            body = _return_writes(body, sorted(writes), fnode)
        line = getattr(fnode, "lineno", None) or getattr(fnode.body, "lineno", None) or self.node.lineno
        body = [_at(gast.Assign(targets=[name(e, store=True)], value=name(p), type_comment=None), fnode)
                for p, e in pairs if p != e] + body
        node = gast.FunctionDef(name=ident, args=args, body=body, decorator_list=[], returns=None,
                                type_comment=None, type_params=[])
        node.lineno = line
        cells = {k: self.resolver.cells[k] for k in free_names(fnode) - env
                 if k in self.resolver.cells}
        cells.update({k: c for k, c in self.constants.items() if k in free_names(fnode)})
        qualname = f"{getattr(self.parsed.fn, '__qualname__', self.node.name)}.<locals>.{ident}"
        fn = synthesize(node, self.resolver.globals, self.filename, cells, qualname)
        fn._adjoint_env = pairs
        fn._adjoint_writes = tuple(sorted(writes))
        fn._adjoint_captured = captured
        fn._adjoint_homes = getattr(fnode, "homes", ())  # the comprehensions a lambda is made in
        return fn

    def _defaults(self, ident, args, fnode):
        """Non-literal defaults, evaluated where the def runs into names every call passes.

        Returns {parameter: the enclosing name holding its default}; the lifted
        function keeps ``None`` in their place, never read.
        """
        captured = {}
        positional = args.posonlyargs + args.args
        pairs = list(zip(positional[len(positional) - len(args.defaults):], range(len(args.defaults))))
        for param, k in pairs:
            if not _literal(args.defaults[k]):
                captured[param.id] = self._capture(ident, param.id, args.defaults[k], fnode)
                args.defaults[k] = const(None)
        for k, (param, d) in enumerate(zip(args.kwonlyargs, args.kw_defaults)):
            if d is not None and not _literal(d):
                captured[param.id] = self._capture(ident, param.id, d, fnode)
                args.kw_defaults[k] = const(None)
        return captured

    def _capture(self, ident, param, expr, fnode):
        holder = self.fresh(f"{ident}_{param}_default")
        fnode.captures = getattr(fnode, "captures", []) + [(holder, clone(expr))]
        return holder

    def _remove_defs(self, defs):
        """Each def or named lambda statement becomes the bindings of its captured defaults;
        an inline lambda becomes the name of its function."""
        replaced = {}
        for ident, fnode, holder in defs:
            captures = getattr(fnode, "captures", [])
            stmts = [_at(gast.Assign(targets=[name(h, store=True)], value=e, type_comment=None), fnode)
                     for h, e in captures]
            if holder is not None:
                replaced[id(holder)] = stmts or [_at(gast.Pass(), holder)]
            else:
                if captures:
                    self.refuse("a lambda with a default naming a variable inside an expression",
                                fnode, "assign the lambda to a name first")
                fnode.replacement = name(ident)
        self.node.body = _replace_stmts(self.node.body, replaced)
        _ReplaceLambdas().visit(self.node)

    # -- calls through function values -------------------------------------
    def call_returned_functions(self):
        """``f = make(w)``, ``make`` a helper returning a function it defines: ``f`` holds what
        that function reads, and ``f(x)`` calls it with those values (``_Factories``)."""
        factories = _Factories(self)
        while factories.hoist_direct_call() or factories.convert_binding():
            pass

    def calls_through_values(self):
        """Calls through locals holding known functions call those functions."""
        values = _FunctionValues(self)
        self.function_locals = set(values.candidates)
        self.node.body = values.block(self.node.body)

    def expand_stars(self):
        """``f(*t, **d)`` where ``t`` is a tuple display and ``d`` a dict display with constant keys,
        each bound once and never changed: the items, one by one (``f(t[0], t[1], k=d["k"])``)."""
        displays = _fixed_displays(self.node.body)
        for call in [n for n in own_nodes(self.node.body) if isinstance(n, gast.Call)]:
            args = []
            for a in call.args:
                shown = displays.get(getattr(a.value, "id", None)) if isinstance(a, gast.Starred) else None
                if isinstance(shown, gast.Tuple):
                    args += [gast.Subscript(value=name(a.value.id), slice=const(k), ctx=gast.Load())
                             for k in range(len(shown.elts))]
                else:
                    args.append(a)
            keywords = []
            for kw in call.keywords:
                shown = displays.get(getattr(kw.value, "id", None)) if kw.arg is None else None
                if isinstance(shown, gast.Dict):
                    keywords += [gast.keyword(arg=k.value, value=gast.Subscript(
                        value=name(kw.value.id), slice=const(k.value), ctx=gast.Load())) for k in shown.keys]
                else:
                    keywords.append(kw)
            call.args, call.keywords = args, keywords

    def specialise_calls(self):
        _Specialiser(self).visit(self.node)

    def pass_environments(self):
        """Every call of a lifted function passes its environment and captured defaults;
        one that rebinds enclosing names gets them back."""
        self.node.body = _Environments(self).block(self.node.body)

    def known(self, expr):
        """The function ``expr`` names here (a global, a cell, an attribute chain), else None."""
        if not isinstance(expr, (gast.Name, gast.Attribute)):
            return None
        obj = self.resolver.resolve(expr)
        if obj is LOCAL or obj is UNKNOWN or isinstance(obj, type) or not callable(obj):
            return None
        return obj


# -- making a function object of a tree ------------------------------------------------------------
def synthesize(node: gast.FunctionDef, globals_, filename, cells: dict, qualname=None, defaults=None):
    """A Python function whose tree, for adjoint, is ``node`` (the user's lines kept).

    Compiled from the tree's text, so generated code can call it as is; its
    free names are ``cells`` (shared with the scope it came from), the rest
    are the user's globals. ``defaults``: the values of the signature's defaults
    (positional, keyword-only) when they are not literals.
    """
    from ..frontend import _PARSED
    names = sorted(cells)
    inner = ast.unparse(gast.gast_to_ast(gast.Module(body=[clone(node)], type_ignores=[])))
    prelude = f"    {' = '.join(names)} = None\n" if names else ""
    text = f"def _make():\n{prelude}" + "".join(f"    {line}\n" for line in inner.splitlines()) \
        + f"    return {node.name}\n"
    where = f"<adjoint: {qualname or node.name}, {filename}:{node.lineno}>"
    linecache.cache[where] = (len(text), None, text.splitlines(keepends=True), where)
    code = compile(text, where, "exec")
    factory = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    body = next(c for c in factory.co_consts if isinstance(c, types.CodeType) and c.co_name == node.name)
    # code objects compare by value; every made function is its own (adjoint keys transforms by code)
    body = body.replace(co_consts=body.co_consts + (_Made(qualname or node.name),))
    if defaults is None:
        defaults = (tuple(ast.literal_eval(_source(d)) for d in node.args.defaults),
                    {a.id: ast.literal_eval(_source(d)) for a, d in zip(node.args.kwonlyargs,
                                                                        node.args.kw_defaults) if d is not None})
    fn = types.FunctionType(body, globals_, node.name, defaults[0] or None,
                            tuple(cells[n] for n in body.co_freevars))
    fn.__kwdefaults__ = defaults[1] or None
    fn.__qualname__ = qualname or node.name
    _PARSED[fn.__code__] = (clone(node), filename)
    return fn


class _Made:
    """A constant only a made function's code holds, so that no other code equals it."""

    def __init__(self, label):
        self.label = label

    def __repr__(self):
        return f"<made by adjoint: {self.label}>"


def _source(expr):
    return ast.unparse(gast.gast_to_ast(expr))


def _literal(expr):
    try:
        ast.literal_eval(_source(expr))
    except (ValueError, SyntaxError, TypeError):
        return False
    return True


def _at(stmt, where):
    stmt.lineno = getattr(where, "lineno", None)
    return stmt


def _drop_nonlocal(body):
    return _replace_stmts(body, {id(s): [_at(gast.Pass(), s)] for s in own_nodes(body)
                                 if isinstance(s, gast.Nonlocal)})


def _replace_stmts(stmts, replaced):
    """``stmts`` with each statement whose id is in ``replaced`` replaced by that list, at any depth
    of this scope."""
    out = []
    for s in stmts:
        if id(s) in replaced:
            out += replaced[id(s)]
            continue
        for holder, field in _blocks(s) if not isinstance(s, gast.FunctionDef) else ():
            setattr(holder, field, _replace_stmts(getattr(holder, field), replaced) or [_at(gast.Pass(), s)])
        out.append(s)
    return out


def _blocks(s):
    """(node, field) of each statement list nested in ``s``: bodies, else-blocks, handlers, cases."""
    out = []
    for field in ("body", "orelse", "finalbody"):
        block = getattr(s, field, None)
        if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
            out.append((s, field))
    for part in (getattr(s, "handlers", None) or []) + (getattr(s, "cases", None) or []):
        out.append((part, "body"))
    return out


def header(s):
    """The expressions statement ``s`` evaluates itself: a compound statement's blocks left out."""
    if not _blocks(s):
        return [s]
    nested = {field for holder, field in _blocks(s) if holder is s} | {"handlers", "cases"}
    out = [v for f in s._fields if f not in nested and f != "ctx" for v in _children(getattr(s, f, None))]
    for part in (getattr(s, "handlers", None) or []) + (getattr(s, "cases", None) or []):
        out += [v for v in (getattr(part, "type", None), getattr(part, "guard", None)) if v is not None]
    return out


def _return_writes(body, writes, fnode):
    """Every ``return v`` of a function rebinding enclosing names returns ``(v, *names)``."""
    def values(value):
        return gast.Tuple(elts=[value or const(None)] + [name(w) for w in writes], ctx=gast.Load())
    for s in own_nodes(body):
        if isinstance(s, gast.Return):
            s.value = values(s.value)
    last = body[-1] if body else None
    if not isinstance(last, gast.Return):
        body = body + [_at(gast.Return(value=values(None)), last or fnode)]
    return body


class _ReplaceLambdas(gast.NodeTransformer):
    def visit_Lambda(self, node):
        return clone(node.replacement) if hasattr(node, "replacement") else node


# -- calls through locals holding functions ----------------------------------------
class _FunctionValues:
    """Which locals hold only known functions, and calls through them."""

    def __init__(self, scope: _Scope):
        self.scope = scope
        self.candidates = self._analyse()
        self.partials = self._partials()

    def _bindings(self):
        """{name: [what binds it]}: ("value", expr) or ("loop", iter, path); None for a name
        some other statement binds as well (an augmented assignment, a with-target, ...)."""
        explained, stores = {}, {}
        for s in own_nodes(self.scope.node.body):
            if isinstance(s, gast.Assign):
                for t in s.targets:
                    for n, v in _pairs(t, s.value):
                        explained.setdefault(n, []).append(("value", v))
            elif isinstance(s, gast.For):
                for n, path in _target_paths(s.target, ()):
                    explained.setdefault(n, []).append(("loop", s.iter, path))
            elif isinstance(s, gast.Name) and isinstance(s.ctx, gast.Store):
                stores[s.id] = stores.get(s.id, 0) + 1
        return {n: (kinds if len(kinds) == stores.get(n, 0) else None) for n, kinds in explained.items()}

    def _analyse(self):
        """name -> ([(function, expression naming it here)], is a table) for locals that only hold
        known functions; a table is a dict/list/tuple display of them."""
        stores = self._bindings()
        facts = {}
        for _ in range(3):  # aliases of aliases and tables of them settle quickly
            for n, kinds in stores.items():
                facts[n] = self._holds(kinds, facts) if kinds else None
        escaped = self._escaping_tables(facts) | set(_params(self.scope.node.args)) \
            | self.scope.lifted_writes  # a nested function may rebind it
        escaped |= {n for n, v in facts.items() if v and v[1] and n in self.scope.lifted_reads}
        return {n: v for n, v in facts.items() if v is not None and n not in escaped}

    def _holds(self, kinds, facts):
        found, table = [], None
        for kind in kinds:
            got = self._one(kind, facts)
            if got is None:
                return None
            items, is_table = got
            if table is not None and table != is_table:
                return None
            table = is_table
            found += [i for i in items if all(i[0] is not f for f, _ in found)]
        return (found, table)

    def _one(self, kind, facts):
        if kind[0] == "value":
            return self._value(kind[1], facts)
        if kind[0] == "loop":
            return self._loop(kind[1], kind[2], facts)
        return None

    def _value(self, expr, facts):
        """What ``expr`` may be: ([(function, expr)], is a table) or None."""
        fn = self.scope.known(expr)
        if fn is not None:
            return [(fn, expr)], False
        if isinstance(expr, gast.Name) and facts.get(expr.id):
            return facts[expr.id]
        if isinstance(expr, (gast.Tuple, gast.List, gast.Dict)):
            items = []
            for e in expr.elts if not isinstance(expr, gast.Dict) else expr.values:
                got = self._value(e, facts)
                if got is None or got[1]:
                    return None
                items += got[0]
            return items, True
        if isinstance(expr, gast.Subscript) and isinstance(expr.value, gast.Name):
            table = facts.get(expr.value.id)
            if table and table[1]:
                return table[0], False
        if isinstance(expr, gast.Subscript) and isinstance(expr.value, (gast.Name, gast.Attribute)):
            return self._module_table_item(expr.value)
        if isinstance(expr, gast.Call):
            return self._returned(expr)
        return None

    def _returned(self, call):
        """A call of a function of yours each of whose returns names a known function
        (``act = pick(kind)``): any of them, each named by a closure cell."""
        from ..errors import AdjointError
        from ..frontend import parse_function
        fn = self.scope.known(call.func)
        if not isinstance(fn, types.FunctionType) or lookup(fn) is not None or _library(fn):
            return None
        try:
            parsed = parse_function(fn)
        except AdjointError:
            return None
        values = [s.value for s in own_nodes(parsed.node.body) if isinstance(s, gast.Return)]
        found = [parsed.resolver.resolve(v) if isinstance(v, (gast.Name, gast.Attribute)) else None
                 for v in values]
        if not found or not all(callable(f) and not isinstance(f, (type, functools.partial))
                                and f is not LOCAL and f is not UNKNOWN for f in found):
            return None
        unique = [f for k, f in enumerate(found) if all(f is not g for g in found[:k])]
        return [(f, self.scope.cell_for(f, getattr(f, "__name__", "function"))) for f in unique], False

    def _module_table_item(self, table):
        """An item of a module-level dict, list or tuple of functions (``ACTIVATIONS[kind]``):
        any of the functions it holds now, each named by a closure cell. One it holds later is
        none the dispatch saw, which raises at run time."""
        obj = self.scope.resolver.resolve(table)
        if not isinstance(obj, (dict, list, tuple)):
            return None
        values = list(obj.values()) if isinstance(obj, dict) else list(obj)
        if not values or not all(callable(v) and not isinstance(v, type) for v in values):
            return None
        unique = [v for k, v in enumerate(values) if all(v is not w for w in values[:k])]
        return [(v, self.scope.cell_for(v, "function")) for v in unique], False

    def _loop(self, it, path, facts):
        """A loop target over a display or table of functions (``.values()``/``.items()``, an
        argument of ``zip`` or ``enumerate``, too)."""
        it, path = self._unzipped(it, path)
        if path not in ((), (1,)):
            return None
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Attribute) and not it.args \
                and it.func.attr in ("values", "items") and (it.func.attr == "items") == (path == (1,)):
            it = it.func.value
        elif path:
            return None
        got = self._value(it, facts)
        if got is None or not got[1]:
            return None
        return got[0], False

    def _unzipped(self, it, path):
        """``zip(a, b)`` at path (k, ...): ``a`` or ``b``; ``enumerate(a)`` at (1, ...): ``a``."""
        if not (isinstance(it, gast.Call) and path and not it.keywords):
            return it, path
        fn = self.scope.resolver.resolve(it.func)
        if fn is zip and path[0] < len(it.args) and not any(isinstance(a, gast.Starred) for a in it.args):
            return self._unzipped(it.args[path[0]], path[1:])
        if fn is enumerate and path[0] == 1 and len(it.args) == 1:
            return self._unzipped(it.args[0], path[1:])
        return it, path

    def _escaping_tables(self, facts):
        """Tables used other than by reading an item or looping: what they hold is not proven."""
        tables = {n for n, v in facts.items() if v and v[1]}
        bad = set()
        for node in own_nodes(self.scope.node.body):
            for child in children(node):
                if isinstance(child, gast.Name) and child.id in tables and not _reads_table(node, child):
                    bad.add(child.id)
        return bad

    def _partials(self):
        """Locals bound once, at the top of the body, to ``functools.partial(f, ...)``."""
        out = {}
        for s in self.scope.node.body:
            if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                    and isinstance(s.value, gast.Call) \
                    and self.scope.resolver.resolve(s.value.func) is functools.partial and s.value.args:
                out[s.targets[0].id] = s
        counts = {}
        for n in own_nodes(self.scope.node.body):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                counts[n.id] = counts.get(n.id, 0) + 1
        return {k: v for k, v in out.items() if counts[k] == 1}

    # -- rewriting ---------------------------------------------------------
    def block(self, stmts):
        out = []
        for s in stmts:
            if id(s) in {id(p) for p in self.partials.values()}:
                out += self._bind_partial(s)
                continue
            for holder, field in _blocks(s):
                setattr(holder, field, self.block(getattr(holder, field)))
            out += self.stmt(s)
        return out

    def stmt(self, s):
        """``s`` with its calls through function values resolved; several candidates: one branch each."""
        several = []
        for call in self._calls(s):
            target = self._target(call.func)
            if target is not None and len(target) == 1:
                call.func = clone(target[0][1])
            elif target is not None:
                several.append((call, None, target))
            several += self._function_arguments(call)
        self._check_escapes(s)
        out = []
        for k, (call, slot, target) in enumerate(several):
            if k == len(several) - 1 and _whole_value(s, call):
                return out + self._dispatch(s, call, slot, target)
            ident = self.scope.fresh("result")
            hoisted = _assign(ident, call, s)
            hoist(self.scope, s, call, name(ident), "a call through a variable that may hold one of "
                  "several functions")
            out += self._dispatch(hoisted, call, slot, target)
        return out + [s]

    def _function_arguments(self, call):
        """A local holding known functions passed to a user function: the function itself (a copy
        of the callee is specialised to it), or [(call, the argument, candidates)] to branch on."""
        if not isinstance(self.scope.known(call.func), types.FunctionType):
            return []
        out = []
        for k, a in enumerate(call.args):
            target = self._target(a) if isinstance(a, gast.Name) else None
            if target is not None and len(target) == 1:
                call.args[k] = clone(target[0][1])
            elif target is not None:
                out.append((call, a, target))
        for kw in call.keywords:
            target = self._target(kw.value) if isinstance(kw.value, gast.Name) else None
            if target is not None and len(target) == 1:
                kw.value = clone(target[0][1])
            elif target is not None:
                out.append((call, kw.value, target))
        return out

    def _calls(self, s):
        return [n for n in own_nodes(header(s)) if isinstance(n, gast.Call)]

    def _target(self, func):
        """[(function, expression)] a call's callee may be, when it is a value held in a local."""
        if isinstance(func, gast.Name) and func.id in self.partials:
            return None
        if isinstance(func, gast.Name) and func.id in self.candidates:
            items, table = self.candidates[func.id]
            return None if table else items
        if isinstance(func, gast.Subscript) and isinstance(func.value, gast.Name):
            facts = self.candidates.get(func.value.id)
            if facts and facts[1]:
                return self._item(func, facts[0])
        return None

    def _item(self, func, items):
        """The one function a constant key picks from a table displayed once, else all of them."""
        binding = [s for s in own_nodes(self.scope.node.body) if isinstance(s, gast.Assign)
                   and any(isinstance(t, gast.Name) and t.id == func.value.id for t in s.targets)]
        key = func.slice
        if len(binding) == 1 and isinstance(key, gast.Constant):
            display = binding[0].value
            if isinstance(display, gast.Dict):
                for k, v in zip(display.keys, display.values):
                    if isinstance(k, gast.Constant) and k.value == key.value:
                        return self._value(v, self.candidates)[0]
            elif isinstance(display, (gast.Tuple, gast.List)) and isinstance(key.value, int) \
                    and -len(display.elts) <= key.value < len(display.elts):
                return self._value(display.elts[key.value], self.candidates)[0]
        return items

    def _dispatch(self, s, call, slot, target):
        """``if f is g: <s calling g> elif ...``: the function held at run time is the one called.

        ``slot`` is the argument holding the function (None: the callee)."""
        held = call.func if slot is None else slot
        out = []
        if not isinstance(held, gast.Name):
            ident = self.scope.fresh("function")
            out.append(_at(gast.Assign(targets=[name(ident, store=True)], value=held, type_comment=None), s))
            held = name(ident)
        where = f"{os.path.basename(self.scope.filename)}:{s.lineno}"
        orelse = [_at(gast.Raise(exc=gast.Call(
            func=name("TypeError"), args=[const(f"adjoint: the function called at {where} is none "
                                                "of those its transform saw")], keywords=[]),
            cause=None), s)]
        for fn, expr in reversed(target):
            if slot is None:
                call.func = clone(expr)
                branch = clone(s)
            else:
                slot.slot = True
                branch = _replace_slot(clone(s), expr)
                del slot.slot
            test = gast.Compare(left=clone(held), ops=[gast.Is()], comparators=[clone(expr)])
            orelse = [_at(gast.If(test=test, body=[branch], orelse=orelse), s)]
        return out + orelse

    def _check_escapes(self, s):
        """A lifted function or a partial passed where adjoint cannot follow it is refused."""
        for node in own_nodes(header(s)):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in self.partials:
                if not any(isinstance(c, gast.Call) and c.func is node for c in own_nodes(header(s))):
                    self.scope.refuse(f"using the partial '{node.id}' other than by calling it", s,
                                      "call it, or bind the values in a def")

    def _bind_partial(self, s):
        """``p = partial(f, a, k=b)``: the bound values, evaluated here, in names calls of ``p`` pass."""
        ident = s.targets[0].id
        call = s.value
        func = call.args[0]
        if self.scope.known(func) is None:
            self.scope.refuse(f"functools.partial of '{dotted(func)}'", s,
                              "make a partial of a function defined by name")
        stmts, args, keywords = [], [], []
        for k, a in enumerate(call.args[1:]):
            held = self.scope.fresh(f"{ident}_arg{k}")
            stmts.append(_at(gast.Assign(targets=[name(held, store=True)], value=a, type_comment=None), s))
            args.append(name(held))
        for kw in call.keywords:
            held = self.scope.fresh(f"{ident}_{kw.arg}")
            stmts.append(_at(gast.Assign(targets=[name(held, store=True)], value=kw.value, type_comment=None), s))
            keywords.append(gast.keyword(arg=kw.arg, value=name(held)))
        self.partials[ident] = (func, args, keywords)
        self.scope.partial_names.add(ident)
        _PartialCalls(ident, func, args, keywords).visit(self.scope.node)
        return stmts or [_at(gast.Pass(), s)]


class _PartialCalls(gast.NodeTransformer):
    """Calls of a local partial call its function with the bound values first."""

    def __init__(self, ident, func, args, keywords):
        self.ident, self.func, self.args, self.keywords = ident, func, args, keywords

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, gast.Name) and node.func.id == self.ident:
            given = {k.arg for k in node.keywords}
            kept = [k for k in clone(self.keywords) if k.arg not in given]
            return gast.Call(func=clone(self.func), args=clone(self.args) + node.args,
                             keywords=kept + node.keywords)
        return node


def _replace_slot(stmt, expr):
    """``stmt`` with the node marked ``slot`` replaced by ``expr``."""
    for n in own_nodes([stmt]):
        for field in n._fields:
            value = getattr(n, field, None)
            if getattr(value, "slot", False):
                setattr(n, field, clone(expr))
            elif isinstance(value, list):
                setattr(n, field, [clone(expr) if getattr(v, "slot", False) else v for v in value])
    return stmt


def _reads_table(parent, child):
    """Whether ``child`` (a table's name) is read as ``T[k]``, looped over (``T.items()``,
    ``zip(T, ...)`` too), or measured."""
    if isinstance(parent, gast.Subscript) and parent.value is child:
        return isinstance(parent.ctx, gast.Load)
    if isinstance(parent, gast.For) and parent.iter is child:
        return True
    if isinstance(parent, gast.Attribute) and parent.value is child:
        return parent.attr in ("items", "values", "keys")
    if isinstance(parent, gast.Call) and child in parent.args \
            and dotted(parent.func) in ("len", "zip", "enumerate"):
        return True  # none of them changes the table
    return isinstance(child.ctx, gast.Store)


def _pairs(target, value):
    """(name, expression) pairs an assignment binds (a tuple target against a display, item by item)."""
    if isinstance(target, gast.Name):
        return [(target.id, value)]
    if isinstance(target, (gast.Tuple, gast.List)):
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts):
            return [p for t, v in zip(target.elts, value.elts) for p in _pairs(t, v)]
        return [(n, None) for n, _ in _target_paths(target, ())]
    return []


def _target_paths(target, path):
    if isinstance(target, gast.Name):
        return [(target.id, path)]
    if isinstance(target, (gast.Tuple, gast.List)):
        return [p for k, t in enumerate(target.elts) for p in _target_paths(t, path + (k,))]
    return []


def hoist(scope, s, call, replacement, what, first=False):
    """Replace ``call`` in ``s`` by ``replacement`` (its value, computed before ``s``), or refuse
    where that could change what runs: under a condition, in a loop test, or beside another call
    that may have effects (``first``: one Python completes before it starts)."""
    parents = {}
    for n in own_nodes([s]):
        for child in children(n):
            parents[id(child)] = n
    chain, n = [], call
    while id(n) in parents:
        n = parents[id(n)]
        chain.append(n)
    hint = "assign its result on a line of its own"
    if isinstance(s, gast.While) or any(isinstance(p, (gast.IfExp, gast.BoolOp, gast.ListComp, gast.SetComp,
                                                        gast.DictComp, gast.GeneratorExp, gast.Lambda))
                                        for p in chain):
        scope.refuse(f"{what}, inside a condition or a loop test", s, hint)
    inside = {id(n) for n in own_nodes([call])}
    ancestors = {id(p) for p in chain}
    for other in _completed_before(s, inside) if first else own_nodes(header(s)):
        if isinstance(other, gast.Call) and id(other) not in inside and id(other) not in ancestors \
                and _may_have_effects(scope, other):
            scope.refuse(f"{what}, in an expression with another call", s, hint)
    parent = chain[0]
    for field in parent._fields:
        value = getattr(parent, field, None)
        if value is call:
            setattr(parent, field, replacement)
        elif isinstance(value, list):
            setattr(parent, field, [replacement if v is call else v for v in value])


def _completed_before(s, inside):
    """The nodes of ``s``'s own expressions Python evaluates before it starts the expression whose
    nodes are ``inside`` (children first, left to right; an assignment's value before its targets)."""
    out = []
    stack = [(n, False) for n in reversed(header(s))]
    while stack:
        n, expanded = stack.pop()
        if id(n) in inside:
            return out
        if expanded or isinstance(n, gast.Lambda):
            out.append(n)
            continue
        inner = children(n)
        if isinstance(n, (gast.Assign, gast.AugAssign, gast.AnnAssign)) and n.value is not None:
            inner = [n.value] + [c for c in inner if c is not n.value]
        stack.append((n, True))
        stack.extend((c, False) for c in reversed(inner))
    return out


def _may_have_effects(scope, call):
    """A call of a Python function or a method: it may print, count or change something."""
    fn = scope.known(call.func)
    return fn is None or isinstance(fn, types.FunctionType)


def _whole_value(s, call):
    """Whether ``call`` is all a statement computes (``x = f(a)``, ``f(a)``, ``return f(a)``)."""
    return isinstance(s, (gast.Assign, gast.Expr, gast.Return)) and s.value is call


# -- specialising calls ------------------------------------------------------------
class _Specialiser(gast.NodeTransformer):
    """Calls of user functions with function arguments, ``*args`` or ``**kwargs`` call a copy
    specialised to the call."""

    def __init__(self, scope: _Scope):
        self.scope = scope

    def visit_Call(self, node):
        self.generic_visit(node)
        fn = self.scope.known(node.func)
        while isinstance(fn, functools.partial):
            node = self._unpartial(node, fn)
            fn = self.scope.known(node.func)
        fn = _unwrapped(fn) if fn is not None else None
        if fn is not None and fn is not self.scope.known(node.func):
            node.func = self.scope.cell_for(fn, fn.__name__)
        if not isinstance(fn, types.FunctionType) or fn.__module__ == "adjoint.runtime" \
                or lookup(fn) is not None or _library(fn) \
                or any(isinstance(a, gast.Starred) for a in node.args) \
                or sum(k.arg is None for k in node.keywords) > 1:
            return node
        if getattr(fn, "_adjoint_writes", ()):
            return node
        spec = _call_shape(self.scope, fn, node)
        if spec is None:
            return node
        new = specialise(fn, spec, self.scope, node)
        return new


    def _unpartial(self, call, partial):
        """A call of a ``functools.partial`` object: its function, its values first."""
        scope = self.scope
        base = getattr(partial.func, "__name__", "partial")
        args = [scope.cell_for(v, f"{base}_arg{k}") for k, v in enumerate(partial.args)]
        given = {k.arg for k in call.keywords}
        keywords = [gast.keyword(arg=k, value=scope.cell_for(v, f"{base}_{k}"))
                    for k, v in partial.keywords.items() if k not in given]
        return gast.Call(func=scope.cell_for(partial.func, base), args=args + call.args,
                         keywords=keywords + call.keywords)


def _library(fn) -> bool:
    """Code of an installed package or the standard library: never specialised from its source."""
    path = fn.__code__.co_filename
    stdlib = sysconfig.get_paths()["stdlib"]
    return "site-packages" in path or "dist-packages" in path or path.startswith(stdlib)


def _unwrapped(fn):
    """The function a ``functools.wraps`` wrapper only forwards to, else ``fn``."""
    inner = getattr(fn, "__wrapped__", None)
    if inner is None or not isinstance(fn, types.FunctionType) or lookup(fn) is not None \
            or not _forwards(fn, inner):
        return fn  # a function with a rule (custom_vjp) is called as itself
    return _unwrapped(inner)


def _forwards(wrapper, inner):
    """Whether ``wrapper``'s body is ``return f(*args, **kwargs)`` with ``f`` its cell holding ``inner``."""
    from ..frontend import parse_function
    from ..errors import AdjointError
    try:
        node = parse_function(wrapper).node
    except AdjointError:
        return False
    body = [s for s in node.body if not (isinstance(s, gast.Expr) and isinstance(s.value, gast.Constant))]
    args = node.args
    if len(body) != 1 or not isinstance(body[0], gast.Return) or not isinstance(body[0].value, gast.Call):
        return False
    call = body[0].value
    if args.args or args.posonlyargs or args.kwonlyargs or args.vararg is None or args.kwarg is None:
        return False
    forwards_all = len(call.args) == 1 and isinstance(call.args[0], gast.Starred) \
        and getattr(call.args[0].value, "id", None) == args.vararg.id and len(call.keywords) == 1 \
        and call.keywords[0].arg is None and getattr(call.keywords[0].value, "id", None) == args.kwarg.id
    if not forwards_all or not isinstance(call.func, gast.Name):
        return False
    cells = dict(zip(wrapper.__code__.co_freevars, wrapper.__closure__ or ()))
    cell = cells.get(call.func.id)
    return cell is not None and cell.cell_contents is inner


def _call_shape(scope, fn, call):
    """What a specialised copy of ``fn`` depends on at ``call``, or None when the call needs none:
    (positional count, keyword names, {parameter: the function it holds}); a parameter holds a
    function the call passes, or its default when the call passes none."""
    code = fn.__code__
    variadic = bool(code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS))
    params = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    given = dict(zip(params[:code.co_argcount], call.args))
    given.update({kw.arg: kw.value for kw in call.keywords if kw.arg in params})
    functions = {p: scope.known(v) for p, v in given.items() if _passes_function(scope, v)}
    for p, value in _defaults_of(fn).items():
        if p not in given and callable(value) and not isinstance(value, (type, functools.partial)):
            functions[p] = value
    if not variadic and not functions and all(kw.arg is not None for kw in call.keywords):
        return None
    return (len(call.args), tuple(k.arg for k in call.keywords), functions)


def _defaults_of(fn):
    code = fn.__code__
    positional = code.co_varnames[:code.co_argcount]
    values = fn.__defaults__ or ()
    out = dict(zip(positional[len(positional) - len(values):], values))
    out.update(fn.__kwdefaults__ or {})
    return out


def _passes_function(scope, expr):
    """A function value worth specialising for: a user function or a NumPy/builtin callable."""
    fn = scope.known(expr)
    return fn is not None and not isinstance(fn, functools.partial)


def specialise(fn, shape, scope, call):
    """``call`` rewritten to call the copy of ``fn`` for its shape (made once per shape)."""
    npos, keywords, functions = shape
    scope.at = call
    spec = _specialised(fn, shape, scope)
    args = [a for k, a in enumerate(call.args) if k >= len(spec._adjoint_dropped_positions)
            or not spec._adjoint_dropped_positions[k]]
    kept = [kw for kw in call.keywords if kw.arg not in functions]
    kept = [gast.keyword(arg=spec._adjoint_keywords.get(kw.arg, kw.arg), value=kw.value) for kw in kept]
    return gast.Call(func=scope.cell_for(spec, fn.__name__), args=args, keywords=kept)


def _specialised(fn, shape, scope):
    """The copy of ``fn`` for ``shape``, made once (a recursive call finds the one being made)."""
    npos, keywords, functions = shape
    made = _SPECIALISED.setdefault(fn.__code__, [])
    cells = fn.__closure__ or ()
    for entry in made:
        held_shape, held_functions, held_cells, spec = entry
        if held_shape == (npos, keywords, tuple(sorted(functions))) and len(held_cells) == len(cells) \
                and all(a is b for a, b in zip(held_cells, cells)) \
                and all(held_functions[k] is v for k, v in functions.items()):
            return spec
    spec = _make_specialised(fn, shape, scope)
    made.insert(0, ((npos, keywords, tuple(sorted(functions))), dict(functions), cells, spec))
    del made[8:]  # builds make new lifted functions: keep the latest few
    return spec


def _make_specialised(fn, shape, scope):
    """The copy of ``fn`` for a call with ``npos`` positional arguments, those keywords, and
    those function arguments: variadic parameters become named ones, function ones cells."""
    from ..frontend import parse_function
    npos, keywords, functions = shape
    parsed = parse_function(fn)
    node, args = parsed.node, parsed.node.args
    taken = {n.id for n in walk(node) if isinstance(n, gast.Name)}
    defaults = _default_table(fn, args)
    positional = args.posonlyargs + args.args
    dropped = [k < len(positional) and positional[k].id in functions for k in range(npos)]
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    bound, whole = _bind_keywords(fn, args, shape, scope, node, defaults, cells, taken) \
        if None in keywords else ([], None)
    prelude = _spread_varargs(args, npos, taken, node)
    more, mapping = _spread_kwargs(args, [k for k in keywords if k is not None], taken, node)
    if whole is not None:
        mapping[None] = whole
    prelude += bound
    for param, value in functions.items():
        _drop_param(args, param)
        cells[param] = types.CellType(value)
    env = _passed_environment(functions, taken, parsed, scope)
    prelude += more + [_assign(e, name(p), node) for p, e in env if p != e]
    for p, _ in env:
        args.kwonlyargs.append(_param(p))
        args.kw_defaults.append(None)
    node.body = prelude + node.body
    spec = synthesize(node, fn.__globals__, parsed.filename, cells, fn.__qualname__,
                      _set_defaults(args, defaults))
    spec._adjoint_dropped_positions = dropped
    spec._adjoint_keywords = mapping
    spec._adjoint_env = tuple(env) + getattr(fn, "_adjoint_env", ())
    spec._adjoint_writes = getattr(fn, "_adjoint_writes", ())
    spec._adjoint_captured = getattr(fn, "_adjoint_captured", {})
    return spec


def _bind_keywords(fn, args, shape, scope, where, defaults, cells, taken):
    """``f(..., **d)``, the keys of ``d`` known only when it runs: the copy takes ``d`` whole as a
    keyword-only parameter and binds, first thing, each parameter the call leaves to it as Python
    would (``kind = d['kind'] if 'kind' in d else 'l2'``), after ``check_keywords`` raised the
    ``TypeError`` Python raises for a key no parameter takes, one given twice or one missing;
    its own ``**rest`` holds the keys no parameter takes (``_rest_of``)."""
    npos, keywords, functions = shape
    positional = args.posonlyargs + args.args
    by_position = [a.id for a in positional[:npos]]
    named = by_position + [k for k in keywords if k is not None]
    free = [a.id for a in args.args[max(0, npos - len(args.posonlyargs)):] + args.kwonlyargs
            if a.id not in named and a.id not in functions]
    if args.kwarg is not None:
        _check_rest(fn, args, keywords, scope)
        by_position = by_position[len(args.posonlyargs):]  # a key named like one goes to **rest
    ident = _fresh_in("keywords", taken)
    checker = _fresh_in("check_keywords", taken)
    cells[checker] = types.CellType(runtime.check_keywords)
    required = [p for p in free if p not in defaults]
    check = gast.Expr(value=gast.Call(func=name(checker), args=[
        name(ident), const(fn.__name__), const(tuple(free) if args.kwarg is None else None),
        const(tuple(required)), const(tuple(by_position)), const(tuple(named[len(by_position):]))],
        keywords=[]))
    fixed = sorted(p for p in functions if p not in named)  # specialised to a default function
    if fixed:
        check.value.args.append(const(tuple(fixed)))
    out = [_at(check, where)]
    for p in free:
        item = gast.Subscript(value=name(ident), slice=const(p), ctx=gast.Load())
        if p in defaults:
            item = gast.IfExp(test=gast.Compare(left=const(p), ops=[gast.In()], comparators=[name(ident)]),
                              body=item, orelse=_default_value(p, defaults[p], taken, cells))
        out.append(_assign(p, item, where))
        _drop_param(args, p)
    if args.kwarg is not None:
        out.append(_rest_of(args.kwarg.id, ident, free, taken, where))
        _RestRead(args.kwarg.id).visit(gast.Module(body=where.body, type_ignores=[]))
        args.kwarg = None
    args.kwonlyargs = args.kwonlyargs + [_param(ident)]
    args.kw_defaults = args.kw_defaults + [None]
    return out, ident


def _check_rest(fn, args, keywords, scope):
    """``f(..., **d)`` into a function taking ``**rest``: a keyword of the call ``rest`` would
    hold beside ``d``'s keys is refused (their order in ``rest`` is not followed)."""
    params = {a.id for a in args.args + args.kwonlyargs}
    loose = [k for k in keywords if k is not None and k not in params]
    if loose:
        scope.refuse(f"passing **keywords and the keyword '{loose[0]}' to '{fn.__name__}', which "
                     f"takes **{args.kwarg.id}", scope.at, f"put '{loose[0]}' in the dict")


def _rest_of(rest, ident, free, taken, where):
    """``rest = {key: keywords[key] for key in keywords if key not in free}``: the keys no
    parameter takes, in the dict's order, as Python binds ``**rest``."""
    key = _fresh_in("key", taken)
    test = gast.Compare(left=name(key), ops=[gast.NotIn()], comparators=[const(tuple(free))])
    loop = gast.comprehension(target=name(key, store=True), iter=name(ident), ifs=[test], is_async=0)
    item = gast.Subscript(value=name(ident), slice=name(key), ctx=gast.Load())
    return _assign(rest, gast.DictComp(key=name(key), value=item, generators=[loop]), where)


class _RestRead(gast.NodeTransformer):
    """``rest.get(k, d)`` on the dict ``**rest`` binds from keys known only at run time:
    ``rest[k] if k in rest else d``, what the method does."""

    def __init__(self, ident):
        self.ident = ident

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if isinstance(f, gast.Attribute) and f.attr == "get" and getattr(f.value, "id", None) == self.ident \
                and 1 <= len(node.args) <= 2 and not node.keywords \
                and isinstance(node.args[0], (gast.Constant, gast.Name)):
            key = node.args[0]
            test = gast.Compare(left=clone(key), ops=[gast.In()], comparators=[name(self.ident)])
            item = gast.Subscript(value=name(self.ident), slice=clone(key), ctx=gast.Load())
            return gast.IfExp(test=test, body=item, orelse=node.args[1] if len(node.args) == 2 else const(None))
        return node


def _default_value(param, default, taken, cells):
    """A parameter's default where the copy binds it: the literal, else a cell holding the value
    Python bound when the ``def`` ran."""
    tree, value = default
    if _literal(tree):
        return clone(tree)
    holder = _fresh_in(f"{param}_default", taken)
    cells[holder] = types.CellType(value)
    return name(holder)


def _spread_varargs(args, npos, taken, where):
    """``*rest`` for ``npos`` positional arguments: parameters ``rest_0, ...`` and the statement
    rebuilding the tuple (empty when the signature has no ``*``)."""
    if args.vararg is None:
        return []
    extra = max(0, npos - len(args.posonlyargs + args.args))
    fresh = [_fresh_in(f"{args.vararg.id}_{k}", taken) for k in range(extra)]
    rebuilt = _assign(args.vararg.id, gast.Tuple(elts=[name(f) for f in fresh], ctx=gast.Load()), where)
    args.args = args.args + [_param(f) for f in fresh]
    args.vararg = None
    return [rebuilt]


def _spread_kwargs(args, keywords, taken, where):
    """``**options`` for a call with ``keywords``: a keyword-only parameter per keyword no other
    parameter takes, the statement rebuilding the dict, and keyword -> parameter. ``where`` is
    the function, whose reads of the dict by a constant key are resolved."""
    if args.kwarg is None:
        return [], {}
    named = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    loose = [k for k in keywords if k not in named]
    mapping = {k: _fresh_in(f"{args.kwarg.id}_{k}", taken) for k in loose}
    rebuilt = _assign(args.kwarg.id, gast.Dict(keys=[const(k) for k in loose],
                                               values=[name(mapping[k]) for k in loose]), where)
    _KeywordsRead(args.kwarg.id, set(loose)).visit(gast.Module(body=where.body, type_ignores=[]))
    args.kwonlyargs = args.kwonlyargs + [_param(mapping[k]) for k in loose]
    args.kw_defaults = args.kw_defaults + [None] * len(loose)
    args.kwarg = None
    return [rebuilt], mapping


def _passed_environment(functions, taken, parsed, scope):
    """The enclosing names the lifted functions passed to a call read: parameters of the copy."""
    env = []
    for param, value in sorted(functions.items()):
        if getattr(value, "_adjoint_writes", ()) or getattr(value, "_adjoint_captured", {}):
            scope.refuse(f"passing '{value.__name__}', which rebinds enclosing names or has "
                         "defaults naming variables, to another function", scope.at,
                         "call it where it is defined")
        for p, e in getattr(value, "_adjoint_env", ()):
            if e in taken or p in taken:
                scope.refuse(f"passing '{value.__name__}' (which reads '{e}') to "
                             f"'{parsed.node.name}', which has a name '{e}' of its own", scope.at,
                             "rename one of them")
            if (p, e) not in env:
                env.append((p, e))
    return env


def _environment_parameters(env, args, taken):
    """Keyword-only parameters for the enclosing names ``env`` a function reads: (parameter, name)
    pairs. A name generated code reserves (``count``, ``np``, ``x_bar``) gets a parameter of its own,
    bound to the name first thing in the body, so no later pass renames the keyword calls pass."""
    from .. import runtime
    from .normalize import SUFFIXES
    reserved = set(runtime.__all__) | {"np"}
    pairs = []
    for e in env:
        p = e
        if e in reserved or e.endswith(SUFFIXES):
            p = _fresh_in(f"{e}_arg", taken)
        args.kwonlyargs.append(_param(p))
        args.kw_defaults.append(None)
        pairs.append((p, e))
    return tuple(pairs)


class _KeywordsRead(gast.NodeTransformer):
    """In a copy for known keywords: ``options.get("k", d)`` reads the item or is ``d``, and
    ``"k" in options`` is a constant (the dict is made from the call's keywords)."""

    def __init__(self, ident, keys):
        self.ident, self.keys = ident, keys

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if isinstance(f, gast.Attribute) and f.attr == "get" and getattr(f.value, "id", None) == self.ident \
                and node.args and isinstance(node.args[0], gast.Constant) and len(node.args) <= 2 \
                and not node.keywords:
            key = node.args[0].value
            if key in self.keys:
                return gast.Subscript(value=name(self.ident), slice=const(key), ctx=gast.Load())
            return node.args[1] if len(node.args) == 2 else const(None)
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (gast.In, gast.NotIn)) \
                and isinstance(node.left, gast.Constant) and getattr(node.comparators[0], "id", None) == self.ident:
            return const((node.left.value in self.keys) == isinstance(node.ops[0], gast.In))
        return node


def _default_table(fn, args):
    """{parameter: (its default's tree, the value Python bound)} of a function's signature."""
    positional = args.posonlyargs + args.args
    values = fn.__defaults__ or ()
    table = {a.id: (d, v) for a, d, v in zip(positional[len(positional) - len(args.defaults):],
                                             args.defaults, values)}
    kw_values = fn.__kwdefaults__ or {}
    table.update({a.id: (d, kw_values[a.id]) for a, d in zip(args.kwonlyargs, args.kw_defaults)
                  if d is not None})
    return table


def _set_defaults(args, table):
    """The signature's defaults from ``table`` after parameters were added or dropped; a
    positional parameter added after one with a default gets ``None``, never read (every call
    passes it). Returns (positional defaults, keyword-only defaults) as values."""
    positional = args.posonlyargs + args.args
    first = next((k for k, a in enumerate(positional) if a.id in table), len(positional))
    args.defaults = [table[a.id][0] if a.id in table else const(None) for a in positional[first:]]
    values = tuple(table[a.id][1] if a.id in table else None for a in positional[first:])
    args.kw_defaults = [table[a.id][0] if a.id in table else None for a in args.kwonlyargs]
    kw_values = {a.id: table[a.id][1] for a in args.kwonlyargs if a.id in table}
    return values, kw_values


def _drop_param(args, param):
    """Remove a parameter (its default goes with it: ``_set_defaults`` rebuilds them)."""
    args.posonlyargs = [a for a in args.posonlyargs if a.id != param]
    args.args = [a for a in args.args if a.id != param]
    kept = [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if a.id != param]
    args.kwonlyargs, args.kw_defaults = [a for a, _ in kept], [d for _, d in kept]


def _fresh_in(base, taken):
    ident, k = base, 1
    while ident in taken:
        k += 1
        ident = f"{base}{k}"
    taken.add(ident)
    return ident


def _param(ident):
    return gast.Name(id=ident, ctx=gast.Param(), annotation=None, type_comment=None)


def _assign(ident, value, where):
    return _at(gast.Assign(targets=[name(ident, store=True)], value=value, type_comment=None), where)


# -- environments at calls -----------------------------------------------------
class _Environments:
    """Calls of lifted functions pass what they read; those rebinding enclosing names get them back."""

    def __init__(self, scope: _Scope):
        self.scope = scope

    def block(self, stmts):
        out = []
        for s in stmts:
            for holder, field in _blocks(s):
                setattr(holder, field, self.block(getattr(holder, field)))
            out += self.stmt(s)
        return out

    def stmt(self, s):
        writing = None
        homes = _comprehensions_around([s])
        for node in own_nodes(header(s)):
            if isinstance(node, gast.Call):
                fn = self.scope.known(node.func)
                if getattr(fn, "_adjoint_env", None) is not None:
                    self._check_shadowed(node, fn, homes.get(id(node), ()))
                    self._pass(node, fn)
                    if fn._adjoint_writes:
                        if writing is not None:
                            self.scope.refuse(f"two calls of functions rebinding enclosing names "
                                              "(nonlocal) in one statement", s, "call them on lines of their own")
                        writing = (fn, node)
            elif isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                self._check_value(node, s)
        if writing is None:
            return [s]
        fn, call = writing
        if _whole_value(s, call):
            return self._rebind(s, fn)
        ident = self.scope.fresh("result")
        hoist(self.scope, s, call, name(ident), f"a call of '{fn.__name__}', which rebinds "
              f"'{fn._adjoint_writes[0]}' (nonlocal)")
        return self._rebind(_assign(ident, call, s), fn) + [s]

    def _check_shadowed(self, call, fn, around):
        """A call inside a comprehension whose variable hides a name the function reads from here."""
        for comp in around:
            if comp in fn._adjoint_homes:
                continue  # a lambda made in this comprehension reads its variable, as passed
            hidden = sorted({e for _, e in fn._adjoint_env} & {n.id for g in comp.generators for n in walk(g.target)
                                                     if isinstance(n, gast.Name)})
            if hidden:
                self.scope.refuse(f"calling '{fn.__name__}' inside a comprehension whose variable "
                                  f"'{hidden[0]}' hides the '{hidden[0]}' it reads", call,
                                  "rename the comprehension's variable")

    def _pass(self, call, fn):
        given = {k.arg for k in call.keywords}
        partial = sorted({e for _, e in fn._adjoint_env} & self.scope.partial_names)
        if partial:
            self.scope.refuse(f"a nested function ('{fn.__name__}') reading the partial '{partial[0]}'",
                              call, "make the partial inside the nested function")
        for p, e in fn._adjoint_env:
            if p not in given:  # given: lowered already (a checkpointed loop's step)
                call.keywords.append(gast.keyword(arg=p, value=name(e)))
        positional = _positional_params(fn)
        for param, holder in fn._adjoint_captured.items():
            if param not in given and param not in positional[:len(call.args)]:
                call.keywords.append(gast.keyword(arg=param, value=name(holder)))

    def _check_value(self, node, s):
        """A lifted function used as a value: fine when it reads and rebinds nothing of ours."""
        fn = self.scope.known(node)
        if getattr(fn, "_adjoint_env", None) is None:
            return
        if fn._adjoint_env or fn._adjoint_writes or fn._adjoint_captured:
            if any(isinstance(c, gast.Call) and c.func is node for c in own_nodes(header(s))):
                return
            if _is_dispatch_test(s, node) or self._held(s):
                return
            reads = (tuple(e for _, e in fn._adjoint_env) + fn._adjoint_writes + tuple(fn._adjoint_captured))[0]
            self.scope.refuse(f"passing the nested function '{fn.__name__}' (which reads the "
                              f"enclosing '{reads}') where adjoint cannot follow its calls", s,
                              "call it here, or pass what it reads as arguments")

    def _held(self, s):
        """Whether ``s`` binds only locals that hold known functions (whose calls pass what they read)."""
        held = self.scope.function_locals
        if isinstance(s, gast.Assign):
            targets = [n for t in s.targets for n, _ in _target_paths(t, ())]
        elif isinstance(s, gast.For):
            targets = [n for n, _ in _target_paths(s.target, ())]
        else:
            return False
        return bool(targets) and all(t in held for t in targets)

    def _rebind(self, s, fn):
        """``x = f(...)`` -> ``x, w = f(...)``: the enclosing names ``f`` rebinds come back."""
        writes = [name(w, store=True) for w in fn._adjoint_writes]
        if isinstance(s, gast.Assign):
            s.targets = [gast.Tuple(elts=[s.targets[0]] + writes, ctx=gast.Store())] \
                if len(s.targets) == 1 else s.targets
            return [s]
        ident = self.scope.fresh("result")
        assign = _at(gast.Assign(targets=[gast.Tuple(elts=[name(ident, store=True)] + writes,
                                                     ctx=gast.Store())], value=s.value,
                                 type_comment=None), s)
        if isinstance(s, gast.Return):
            return [assign, _at(gast.Return(value=name(ident)), s)]
        return [assign]


def _fixed_displays(body):
    """Names bound once, at the top of ``body``, to a tuple display or a dict display with string
    keys, and never written into: name -> the display."""
    stores, written = {}, set()
    for n in own_nodes(body):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            stores[n.id] = stores.get(n.id, 0) + 1
        elif isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store) and isinstance(n.value, gast.Name):
            written.add(n.value.id)
        elif isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Name):
            written.add(n.func.value.id)  # a method may change it (dict.update, ...)
    out = {}
    for s in body:
        if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                and stores.get(s.targets[0].id) == 1 and s.targets[0].id not in written:
            v = s.value
            if isinstance(v, gast.Tuple) and not any(isinstance(e, gast.Starred) for e in v.elts) or \
                    isinstance(v, gast.Dict) and all(isinstance(k, gast.Constant) and isinstance(k.value, str)
                                                     for k in v.keys):
                out[s.targets[0].id] = v
    return out


_COMPREHENSIONS = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


def _comprehensions_around(stmts):
    """id of each node -> the comprehensions (innermost last) it is inside, in this scope."""
    out = {}
    stack = [(s, ()) for s in stmts]
    while stack:
        n, around = stack.pop()
        out[id(n)] = around
        if isinstance(n, _COMPREHENSIONS):
            around = around + (n,)
        if isinstance(n, gast.FunctionDef):
            continue
        stack.extend((c, around) for c in children(n))
    return out


def _positional_params(fn):
    code = fn.__code__
    return list(code.co_varnames[:code.co_argcount])


def _is_dispatch_test(s, node):
    return isinstance(s, gast.If) and isinstance(s.test, gast.Compare) \
        and isinstance(s.test.ops[0], gast.Is) and node in s.test.comparators


# -- functions returned by helpers -------------------------------------------------
class _Record:
    """A factory's copy, the functions the factory may return and the slots its copy returns
    instead: the factory's names those functions read (their index first when several)."""

    def __init__(self, copy, functions, slots):
        self.copy, self.functions, self.slots = copy, functions, slots


class _Factories:
    """Closure conversion of the functions helpers return.

    A helper of yours every return of which gives a function it defines (a nested ``def`` or a
    lambda) is a *factory*. ``f = make(w)`` calls a copy of ``make`` that returns, in place of the
    function, the values of ``make``'s names it reads, and which function it is when there are
    several: ``(f_w,) = make_closure(w)``. Each ``f(x)`` calls the lifted function with them,
    ``scale(x, w=f_w)`` (one branch per function when there are several). These are the values
    Python's closure cells hold whenever ``f`` runs: ``make`` has returned, and no function
    rebinds them (a returned function with ``nonlocal`` is refused).
    """

    def __init__(self, scope):
        self.scope = scope
        self.kinds = {}  # id(function) -> (function, whether it is a factory)
        self.records = {}  # id(factory) -> (factory, its _Record)

    def hoist_direct_call(self):
        """``make(w)(x)``: ``returned = make(w)`` first, then ``returned(x)``. Returns whether
        it hoisted one."""
        nodes = list(own_nodes(self.scope.node.body))
        if not any(isinstance(c, gast.Call) and isinstance(c.func, gast.Call) for c in nodes):
            return False
        for s in [n for n in nodes if isinstance(n, gast.stmt)]:
            for c in own_nodes(header(s)):
                if isinstance(c, gast.Call) and isinstance(c.func, gast.Call) and self.factory(c.func):
                    inner = c.func
                    ident = self.scope.fresh("returned")
                    hoist(self.scope, s, inner, name(ident), f"calling the function "
                          f"'{dotted(inner.func)}' returns", first=True)
                    self.scope.node.body = _replace_stmts(self.scope.node.body,
                                                          {id(s): [_assign(ident, inner, s), s]})
                    self.scope.refresh()
                    return True
        return False

    def convert_binding(self):
        """One ``f = make(w)`` whose ``f`` is called: bound to the record, its calls converted.
        Returns whether it converted one."""
        nodes = list(own_nodes(self.scope.node.body))
        called = {n.func.id for n in nodes if isinstance(n, gast.Call) and isinstance(n.func, gast.Name)}
        for s in nodes:
            if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                    and isinstance(s.value, gast.Call) and s.targets[0].id in called \
                    and self.factory(s.value):
                self._convert(s, s.targets[0].id)
                self.scope.refresh()
                return True
        return False

    def factory(self, call):
        """The factory ``call`` calls, else None."""
        fn = self.scope.known(call.func)
        if not isinstance(fn, types.FunctionType) or fn.__module__ == "adjoint.runtime" \
                or lookup(fn) is not None or _library(fn):
            return None
        if id(fn) not in self.kinds:
            self.kinds[id(fn)] = (fn, self._returns_its_functions(fn))
        return fn if self.kinds[id(fn)][1] else None

    def _returns_its_functions(self, fn):
        """Whether every return of ``fn`` gives a function it defined before, on the return's path
        (a mix, or a path ending without a return, is refused)."""
        from ..errors import AdjointError
        from ..frontend import parse_function
        try:
            parsed = parse_function(fn)
        except AdjointError:
            return False
        made, other = _returned_functions(parsed.node.body)
        if made and other:
            unsupported(f"a helper ('{fn.__name__}') returning a function it defines on some paths "
                        "and another value here", other[0], parsed.filename,
                        "return a nested def or lambda, defined before the return on its path, on every path")
        if made and not _always_returns(parsed.node.body):
            unsupported(f"a helper ('{fn.__name__}') returning a function it defines that may end "
                        "without a return", parsed.node, parsed.filename, "end it with a return")
        return bool(made)

    # -- one binding ---------------------------------------------------------------
    def _convert(self, s, ident):
        self._check_binding(s, ident)
        s.value = self._specialise(s.value, s)
        record = self._record(self.scope.known(s.value.func), s)
        names = {slot: self.scope.fresh(f"{ident}_{slot}") for slot in record.slots}
        which = self.scope.fresh(f"{ident}_which") if len(record.functions) > 1 else None
        targets = ([which] if which else []) + [names[slot] for slot in record.slots]
        s.value.func = self.scope.cell_for(record.copy, record.copy.__name__)
        if targets:
            s.targets = [gast.Tuple(elts=[name(t, store=True) for t in targets], ctx=gast.Store())]
        self.scope.node.body = self._block(self.scope.node.body, ident, record, names, which)

    def _check_binding(self, s, ident):
        """``f`` bound by this statement only, and only called, by this function itself."""
        what = f"the function '{ident}' that '{dotted(s.value.func)}' returns"
        stores = [n for n in own_nodes(self.scope.node.body)
                  if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and n.id == ident]
        if len(stores) > 1 or ident in _params(self.scope.node.args):
            self.scope.refuse(f"binding {what} to a name bound elsewhere too", s,
                              "give each returned function a name of its own")
        if ident in self.scope.lifted_reads | self.scope.lifted_writes:
            self.scope.refuse(f"a nested function reading {what}", s,
                              "call it in the function that binds it, or pass its result")
        for st in [n for n in own_nodes(self.scope.node.body) if isinstance(n, gast.stmt)]:
            nodes = list(own_nodes(header(st)))
            callees = {id(c.func) for c in nodes if isinstance(c, gast.Call)}
            if any(isinstance(n, gast.Name) and n.id == ident and isinstance(n.ctx, gast.Load)
                   and id(n) not in callees for n in nodes):
                self.scope.refuse(f"using {what} other than by calling it", st,
                                  "call it here; adjoint cannot follow a function value further")

    def _specialise(self, call, s):
        """A factory call passing functions, ``*args`` or ``**kwargs``: the call of its copy
        specialised to them (a function passed is then a cell the returned function reads)."""
        fn = self.scope.known(call.func)
        shape = _call_shape(self.scope, fn, call)
        if shape is None:
            return call
        for value in shape[2].values():
            reads = getattr(value, "_adjoint_env", ()) or getattr(value, "_adjoint_writes", ()) \
                or getattr(value, "_adjoint_captured", {})
            if reads:
                self.scope.refuse(f"passing the nested function '{value.__name__}', which reads "
                                  f"enclosing names, to '{fn.__name__}', which returns a function", s,
                                  "pass what it reads as arguments")
        return specialise(fn, shape, self.scope, call)

    def _record(self, fn, s):
        if id(fn) not in self.records:
            self.records[id(fn)] = (fn, self._make_record(fn, s))
        return self.records[id(fn)][1]

    def _make_record(self, fn, s):
        """The factory's copy: its nested functions lifted, each return giving the slots."""
        from ..frontend import parse_function
        if getattr(fn, "_adjoint_writes", ()):
            self.scope.refuse(f"calling '{fn.__name__}', which rebinds '{fn._adjoint_writes[0]}' "
                              "(nonlocal), for the function it returns", s, "return the new value instead")
        parsed = parse_function(fn)
        made, _ = _returned_functions(parsed.node.body)
        inner = _Scope(parsed)
        inner.lift()
        returned = [(r, inner.resolver.cells[r.value.id].cell_contents) for r in made]
        functions = []
        for r, f in returned:
            if f._adjoint_writes:
                inner.refuse(f"returning '{r.value.id}', which rebinds '{f._adjoint_writes[0]}' "
                             "(nonlocal) of the function that made it", r, "return the new value instead")
            functions += [f] if all(f is not g for g in functions) else []
        slots = list(dict.fromkeys(slot for f in functions for slot in _slots(f)))
        for r, f in returned:
            index = [const(functions.index(f))] if len(functions) > 1 else []
            r.value = gast.Tuple(elts=index + [name(slot) if slot in _slots(f) else const(None)
                                               for slot in slots], ctx=gast.Load())
        parsed.node.name = f"{fn.__name__}_closure"
        copy = synthesize(parsed.node, fn.__globals__, parsed.filename, dict(inner.resolver.cells),
                          f"{fn.__qualname__}_closure", (fn.__defaults__ or (), fn.__kwdefaults__ or {}))
        for attribute in ("_adjoint_env", "_adjoint_writes", "_adjoint_captured", "_adjoint_homes"):
            if hasattr(fn, attribute):  # a nested factory: its calls pass what it reads
                setattr(copy, attribute, getattr(fn, attribute))
        return _Record(copy, functions, slots)

    # -- its calls -------------------------------------------------------------------
    def _block(self, stmts, ident, record, names, which):
        out = []
        for s in stmts:
            for holder, field in _blocks(s):
                setattr(holder, field, self._block(getattr(holder, field), ident, record, names, which))
            calls = [c for c in own_nodes(header(s)) if isinstance(c, gast.Call)
                     and isinstance(c.func, gast.Name) and c.func.id == ident]
            if not calls or which is None:
                for c in calls:
                    _call_returned(self.scope, c, record.functions[0], names)
                out.append(s)
            else:
                out += self._dispatch(s, calls, record, names, which)
        return out

    def _dispatch(self, s, calls, record, names, which):
        """``if f_which == 0: <s calling the first> else: ...``: all of ``s``'s calls of ``f``
        call the function the factory returned."""
        if isinstance(s, gast.While):
            self.scope.refuse("calling a returned function that may be one of several in a loop "
                              "test", s, "call it in the loop body")
        for c in calls:
            c.returned_call = True
        branches = []
        for f in record.functions:
            branch = clone(s)
            for c in own_nodes(header(branch)):
                if getattr(c, "returned_call", False):
                    del c.returned_call
                    _call_returned(self.scope, c, f, names)
            branches.append(branch)
        orelse = [branches[-1]]
        for k in reversed(range(len(branches) - 1)):
            test = gast.Compare(left=name(which), ops=[gast.Eq()], comparators=[const(k)])
            orelse = [_at(gast.If(test=test, body=[branches[k]], orelse=orelse), s)]
        return orelse


def _call_returned(scope, call, fn, names):
    """``f(x)`` -> ``scale(x, w=f_w)``: the lifted function, passed the values its factory held."""
    call.func = scope.cell_for(fn, fn.__name__)
    given = {k.arg for k in call.keywords}
    positional = _positional_params(fn)[:len(call.args)]
    for p, e in fn._adjoint_env:
        if p not in given:
            call.keywords.append(gast.keyword(arg=p, value=name(names[e])))
    for param, holder in fn._adjoint_captured.items():
        if param not in given and param not in positional:
            call.keywords.append(gast.keyword(arg=param, value=name(names[holder])))


def _slots(fn):
    """The names of its factory a lifted function reads: its environment, its captured defaults."""
    return [e for _, e in fn._adjoint_env] + list(fn._adjoint_captured.values())


def _returned_functions(stmts, defined=frozenset()):
    """(the returns of a body giving a function defined before them on their path, the others)."""
    made, other = [], []
    defined = set(defined)
    for s in stmts:
        if isinstance(s, gast.Return):
            v = s.value
            own = isinstance(v, gast.Lambda) or isinstance(v, gast.Name) and v.id in defined
            (made if own else other).append(s)
        elif isinstance(s, gast.FunctionDef):
            defined.add(s.name)
            continue
        elif isinstance(s, gast.Assign) and isinstance(s.value, gast.Lambda) and len(s.targets) == 1 \
                and isinstance(s.targets[0], gast.Name):
            defined.add(s.targets[0].id)
        for holder, field in _blocks(s):
            inner_made, inner_other = _returned_functions(getattr(holder, field), defined)
            made, other = made + inner_made, other + inner_other
    return made, other


def _always_returns(stmts):
    """Whether a block surely ends in ``return`` or ``raise`` (judged by its last statement)."""
    last = stmts[-1] if stmts else None
    if isinstance(last, (gast.Return, gast.Raise)):
        return True
    if isinstance(last, gast.If):
        return _always_returns(last.body) and _always_returns(last.orelse)
    return isinstance(last, gast.With) and _always_returns(last.body)
