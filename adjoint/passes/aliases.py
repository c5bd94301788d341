"""The alias model: which names may share memory, and what an in-place write changes.

Contract: accepts a normalised body, its parameters and the ranks ``kinds``
proved. Python's semantics are exact here: an in-place write (``a[i] = v``,
``a += v`` on an array, ``lst.append(v)``) changes the *object*, so every name
that refers to it, or to a view of it, sees the change. The reverse pass models
a write only through the name written, so the pass

* refuses (``UnsupportedSyntaxError`` at the write's line) a write whose change
  another name would see: a name that may share the object and is read later;
* names the parameters whose objects are written, through any alias: they get a
  private copy first, so the caller's arrays never change;
* marks the bindings that alias an object written later (``b = a``,
  ``row = A[0]``, ``v = x.T``, an element of a list) with ``copy``: they bind a
  copy instead, so the value the backward sweep reads (or the tape keeps) is the
  one the binding saw. In an accepted program no name reads an object after
  another name changed it, so a copy gives the same values.

Objects are abstract: one per parameter, global and allocation site, with the
most recent allocation of a site kept apart from older ones (``a = np.zeros(3)``
in a loop makes a new object each trip). A name points to a set of objects; a
container points to its elements' objects too. Views (basic subscripts, the
``VIEWS`` functions, ``.T``) share their base's objects; arithmetic on values of
known rank, and every other call, make a new object. Helpers' results may share
their arguments' objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import inspect

import gast
import numpy as np

from ..astutil import dotted, loaded_names, name, with_line
from ..errors import UnsupportedSyntaxError
from .objects import alias_key, constructor_fields, is_field_read, is_replace

CONTAINERS = (list, tuple, dict, sorted, reversed)
# views of every positional argument, not only of the first (a tuple of views for several)
VIEWS_OF_EACH = (np.atleast_1d, np.atleast_2d, np.atleast_3d)


@dataclass
class Aliases:
    param_copies: list = field(default_factory=list)  # parameters written through some name
    param_writes: dict = field(default_factory=dict)  # position -> "item", or "augmented" (+=)
    copies: set = field(default_factory=set)  # ids of bindings that must bind a copy
    write_lines: dict = field(default_factory=dict)  # parameter -> the first line writing into it


def analyse(body, params, ranks, views, filename, helper_writes, check=True, shown=None,
            generated=frozenset()) -> Aliases:
    """The facts above; ``check=False`` (adjoint's own output) skips the refusals.

    Messages name the user's own variables: ``shown`` maps a renamed name back, and a
    name in ``generated`` (a temporary) is named only when no variable of theirs fits.
    """
    live = _Liveness().after(body)
    flow = _Flow(params, ranks, views, live, filename, helper_writes, check)
    flow.shown, flow.generated = shown or {}, generated
    flow.run(body)
    written = flow.mutated
    roots = {_root(o) for o in written}
    out = Aliases(param_copies=[p for p in params if ("param", p) in roots])
    items = {_root(o) for o in flow.item_written}
    out.param_writes = {k: "item" if ("param", p) in items else "augmented"
                        for k, p in enumerate(params) if ("param", p) in roots}
    out.copies = {sid for sid, objs in flow.alias_bindings.items() if _overlap(objs, written)}
    out.write_lines = {p: flow.write_lines[p] for p in out.param_copies if p in flow.write_lines}
    return out


# -- liveness -------------------------------------------------------------------
class _Liveness:
    """Names read later, after each statement (by ``id``), over every path."""

    def __init__(self):
        self.out = {}

    def after(self, body):
        self.block(body, set(), set())
        return self.out

    def block(self, stmts, live, exit_live):
        for s in reversed(stmts):
            self.out[id(s)] = self.out.get(id(s), set()) | live
            live = self.stmt(s, live, exit_live)
        return live

    def stmt(self, s, live, exit_live):
        if isinstance(s, gast.Break):
            return set(exit_live)
        if isinstance(s, gast.If):
            return loaded_names(s.test) | self.block(s.body, live, exit_live) | \
                self.block(s.orelse, live, exit_live)
        if isinstance(s, (gast.For, gast.While)):
            return self.loop(s, live)
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            return (live - {s.targets[0].id}) | loaded_names(s.value)
        return live | loaded_names(s)

    def loop(self, s, live):
        head = set(live)
        while True:
            inner = self.block(s.body, head, live)
            if isinstance(s, gast.For):
                inner = inner - {s.target.id}
            new = live | inner | (loaded_names(s.test) if isinstance(s, gast.While) else set())
            if new == head:
                break
            head = new
        return head | (loaded_names(s.iter) if isinstance(s, gast.For) else set())


# -- points-to ------------------------------------------------------------------
class _Flow:
    def __init__(self, params, ranks, views, live, filename, helper_writes, check):
        self.state = {p: frozenset({("param", p)}) for p in params}
        self.contents = {}  # object -> the objects it may hold anywhere (a list's items)
        self.slots = {}  # (object, constant key) -> the objects it holds there (a tuple's items)
        self.ranks, self.views, self.live = ranks, views, live
        self.filename, self.helper_writes, self.check = filename, helper_writes, check
        self.mutated = set()
        self.write_lines = {}  # parameter -> the line of the first write into one of its objects
        self.item_written = set()  # objects written otherwise than by += on a name
        self.alias_bindings = {}  # id(binding) -> objects it may alias
        self.lists = set()  # objects surely lists, tuples or dicts: displays, appended to
        self.sites = set()  # ids of the allocation sites some object came from so far
        self.elements = set()  # ids of the sites whose objects are NumPy scalars (a[i, j])

    def run(self, body):
        self.block(body)

    def block(self, stmts):
        for s in stmts:
            self.stmt(s)

    def stmt(self, s):
        if isinstance(s, gast.If):
            before = self._snapshot()
            self.block(s.body)
            taken = self._snapshot()
            self.state, self.contents, self.slots = (dict(b) for b in before)
            self.block(s.orelse)
            self._join(taken)
        elif isinstance(s, (gast.For, gast.While)):
            self.loop(s)
        elif isinstance(s, gast.Assign):
            self.assign(s)
        elif isinstance(s, gast.Expr) and getattr(s.value, "callee", None) is list.append:
            lst = s.value.func.value.id
            self.mutate(lst, s)
            self.lists |= self.points(s.value.func.value)
            self.hold(self.points(s.value.func.value), self.points(s.value.args[0]))

    def _snapshot(self):
        return dict(self.state), dict(self.contents), dict(self.slots)

    def _join(self, other):
        self.state = _join(self.state, other[0])
        self.contents = _join(self.contents, other[1])
        self.slots = _join(self.slots, other[2])

    def loop(self, s):
        while True:
            before = self._snapshot()
            if isinstance(s, gast.For):
                self.sites.add(id(s))
                self.state[s.target.id] = frozenset({("site", id(s))})
            self.block(s.body)
            self._join(before)
            if (self.state, self.contents, self.slots) == before:
                return

    def assign(self, s):
        target = s.targets[0]
        if isinstance(target, gast.Subscript):
            base = target.value.id
            self.mutate(base, s)
            item = getattr(s, "augmented_item", None)
            if item is not None and self.ranks.get(base) is None and self.ranks.get(item) != 0:
                self._augmented_item(s, target, item)
            if self.ranks.get(base) is None and self.ranks.get(getattr(s.value, "id", None)) != 0:
                self.hold(self.points(target.value), self.points(s.value), _key(target.slice))
            return
        if getattr(s, "augmented", False):
            self.mutate(target.id, s, kind="augmented")
        if getattr(s.value, "callee", None) is list.pop:  # the list loses its last item
            self.mutate(s.value.func.value.id, s)
        self._call_writes(s)
        objs, aliasing = self.value(s.value, s)
        if aliasing and objs and self._seen_elsewhere(objs, target.id, s):
            self.alias_bindings[id(s)] = self.alias_bindings.get(id(s), frozenset()) | objs
        self.state[target.id] = objs

    def _augmented_item(self, s, target, item):
        """``lst[k] += v`` on an item that may be an array changes that array in place, which
        the reverse pass models as replacing the item: refused where another live name may
        hold the array, or ``lst`` may hold it twice (in two places, or appended in a loop)."""
        containers = frozenset(o for o in self.points(target.value) if self._is_list(o))
        if not containers:  # an array: its items are copies of what was written
            return
        objs = self.state.get(item, frozenset())
        self.mutated |= objs
        if not self.check:
            return
        held = [objs_at for (c, _), objs_at in self.slots.items() if c in containers]
        appended = _union(self.contents.get(c, frozenset()) for c in containers)
        twice = appended | _union(a & b for k, a in enumerate(held) for b in held[k + 1:])
        live = self.live.get(id(s), ())
        others = [o for o, theirs in self.state.items() if o in live and o not in (target.value.id, item)
                  and _overlap(theirs | self.items(theirs), objs)]
        if others or _overlap(twice, objs):
            base = self.shown.get(target.value.id, target.value.id)
            other = f"'{self.shown.get(others[0], others[0])}'" if others else "another of its items"
            self._refuse(s, f"an augmented assignment into an item of '{base}' changes the array "
                            f"held there in place, and {other} may refer to the same array",
                         f"replace the item instead ({base}[k] = {base}[k] + v)")

    def _is_list(self, obj):
        """Whether ``obj`` is surely a list, tuple or dict (not an array), at any age."""
        return obj in self.lists or obj[0] == "old" and ("site", obj[1]) in self.lists

    def _seen_elsewhere(self, objs, ident, s):
        """Whether a name other than ``ident`` may share ``objs`` and is read after ``s``."""
        live = self.live.get(id(s), ())
        return any(other != ident and other in live and _overlap(theirs | self.items(theirs), objs)
                   for other, theirs in self.state.items())


    def value(self, v, s):
        """(objects, whether they are shared with another value) of the value ``v``."""
        if isinstance(v, gast.Name):
            return self.points(v), True
        if isinstance(v, gast.Subscript):
            base = self.points(v.value)
            if self.ranks.get(v.value.id) is None:  # maybe an item of a list, tuple or dict
                return self.item(base, _key(v.slice)), True
            if _element(v.slice, self.ranks, self.ranks[v.value.id]):
                self.elements.add(id(s))
                return self.fresh(s), False  # a number (an int per axis) is a copy
            return (base, True) if _basic(v.slice, self.ranks) else (self.fresh(s), False)
        if is_field_read(v):  # what an object's attribute holds: one of its items
            return self.item(self.points(v.value), alias_key(v.attr)), True
        if isinstance(v, gast.Attribute):
            return frozenset({("global", dotted(v))}), True
        if isinstance(v, gast.Call):
            return self.call(v, s)
        if isinstance(v, (gast.Tuple, gast.List, gast.Dict)):
            keys = [_key(k) for k in v.keys] if isinstance(v, gast.Dict) else range(len(v.elts))
            elts = v.values if isinstance(v, gast.Dict) else v.elts
            new = self.fresh(s)
            self.lists |= new
            for k, e in zip(keys, elts):
                self.hold(new, self.points(e), k)
            return new, True
        if isinstance(v, gast.BinOp) and self._maybe_container(v):  # list + list: the same items
            return self.container(s, self.items(self.points(v.left) | self.points(v.right)))
        return self.fresh(s), False

    def container(self, s, items):
        new = self.fresh(s)
        self.hold(new, items)
        return new, bool(items)

    def call(self, v, s):
        fn = getattr(v, "callee", None)
        args = _union(self.points(a) for a in list(v.args) + [k.value for k in v.keywords])
        if fn in self.views and v.args:
            viewed = v.args if fn in VIEWS_OF_EACH else v.args[:1]
            return _union(self.points(a) for a in viewed), True
        if fn is list.pop or fn is None:  # a method of a local value may return a part of it
            receiver = self.points(v.func.value) if isinstance(v.func, gast.Attribute) else args
            return self.fresh(s) | receiver | self.items(receiver), True
        if fn in CONTAINERS:
            return self.container(s, self.items(args))
        if constructor_fields(fn) is not None:  # a record holds its arguments themselves
            return self.container(s, args)
        if is_replace(v):  # the items of the record replaced and the new values
            return self.container(s, args | self.items(self.points(v.args[0])))
        if self.helper_writes(fn) is not None:  # a helper may return its arguments or their items
            reach = args | self.items(args)
            new, _ = self.container(s, reach)
            return new | reach, True
        return self.fresh(s), False

    def _call_writes(self, s):
        """A helper writing into its argument: the caller would see the change, adjoint does not."""
        v = s.value
        written = self.helper_writes(getattr(v, "callee", None)) if isinstance(v, gast.Call) else None
        for k, kind in (written or {}).items():
            arg = _argument_for(v, k)
            if isinstance(arg, gast.Name) and not (kind == "augmented" and self.ranks.get(arg.id) == 0):
                self.mutate(arg.id, s, helper=(kind, dotted(v.func)))

    def _maybe_container(self, v):
        return isinstance(v.op, (gast.Add, gast.Mult)) and any(
            isinstance(o, gast.Name) and self.ranks.get(o.id) is None for o in (v.left, v.right))

    def points(self, node):
        if isinstance(node, gast.Name):
            if node.id in self.state:
                return self.state[node.id]
            return frozenset({("global", node.id)})
        return frozenset()

    def fresh(self, s):
        """A new object of the allocation site ``s``; earlier ones of the site become "old"."""
        new, old = ("site", id(s)), ("old", id(s))
        if id(s) not in self.sites:  # a first allocation: no object of the site to age
            self.sites.add(id(s))
            return frozenset({new})

        def age_one(o):
            if o == new:
                return old
            return ("item", age_one(o[1]), o[2]) if o[0] == "item" else o

        def age(objs):
            return frozenset(age_one(o) for o in objs)
        self.state = {k: age(v) for k, v in self.state.items()}
        self.contents = {age_one(k): age(v) for k, v in self.contents.items()}
        self.slots = {(age_one(k[0]), k[1]): age(v) for k, v in self.slots.items()}
        return frozenset({new})

    def hold(self, containers, items, key=None):
        for c in containers:
            if key is None:
                self.contents[c] = self.contents.get(c, frozenset()) | items
            else:
                self.slots[(c, key)] = self.slots.get((c, key), frozenset()) | items

    def item(self, base, key):
        """The objects ``base[key]`` may be: what was put there, or an item of ``base`` itself
        (a parameter's, whose items adjoint never saw put in); an unknown key, any of them."""
        if key is None:
            return base | self.items(base)
        out = set()
        for o in base:
            out |= self.slots.get((o, key), frozenset()) | self.contents.get(o, frozenset())
            out.add(o if o[0] == "item" else ("item", o, key))  # one level: loops stay finite
        return frozenset(out)

    def items(self, objs):
        """Every object reachable inside ``objs`` (items of items too)."""
        out, todo = set(), list(objs)
        while todo:
            o = todo.pop()
            held = set(self.contents.get(o, ()))
            for (c, _), objs_at in self.slots.items():
                if c == o:
                    held |= objs_at
            for h in held - out:
                out.add(h)
                todo.append(h)
        return frozenset(out)

    def mutate(self, ident, s, helper=False, kind="item"):
        objs = self.points(gast.Name(id=ident, ctx=gast.Load(), annotation=None, type_comment=None))
        self.mutated |= objs
        for o in objs:
            if _root(o)[0] == "param":
                self.write_lines.setdefault(_root(o)[1], s.lineno)
        if kind == "item":
            self.item_written |= objs
        if not self.check:
            return
        ident = self.shown.get(ident, ident)
        if kind == "item" and any(o[0] in ("site", "old") and o[1] in self.elements for o in objs):
            self._refuse(s, f"'{ident}' may hold one element of an array, a NumPy scalar, whose "
                            "items cannot be assigned (Python raises TypeError here)",
                         "write into the array itself")
        if any(o[0] == "global" for o in objs):
            self._refuse(s, f"'{ident}' may be a module-level value; writing into it in place "
                            "changes it for every caller", f"{ident} = {ident}.copy() first")
        live = self.live.get(id(s), ())
        others = [(other in self.generated, not theirs & objs, other)
                  for other, theirs in self.state.items() if other in live and
                  (self.shown.get(other, other) != ident or helper) and
                  _overlap(theirs | self.items(theirs), objs)]
        if others:
            other = min(others)[2]  # the user's own name, and one that shares the array itself
            self._refuse_shared(s, ident, self.shown.get(other, other), helper)

    def _refuse_shared(self, s, ident, other, helper):
        if helper:
            kind, fn = helper
            arg = "an argument" if ident in self.generated else f"its argument '{ident}'"
            later = "which is read afterwards" if other == ident else f"which '{other}' reads afterwards"
            if kind == "unknown":
                self._refuse(s, f"'{fn}' is refused by adjoint, so it may write into {arg}, {later}",
                             f"differentiate '{fn}' on its own to see why")
            self._refuse(s, f"'{fn}' writes into {arg}, {later}",
                         "return the new value from the function instead")
        self._refuse(s, f"'{ident}' is changed in place here, and '{other}' may refer to the "
                        "same array (an alias or a view) and is read afterwards",
                        f"write through '{other}' itself, or copy first ({ident} = {ident}.copy()) "
                        "if it should not change")

    def _refuse(self, s, message, hint):
        raise UnsupportedSyntaxError(f"{message}; {hint}", self.filename, s.lineno)


def _argument_for(call, k):
    """What ``call`` passes for its callee's parameter number ``k``: by position or by keyword
    (a lifted function's environment comes by keyword)."""
    if k < len(call.args):
        return call.args[k]
    code = getattr(getattr(call, "callee", None), "__code__", None)
    if code is None or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return None
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    return next((kw.value for kw in call.keywords if k < len(names) and kw.arg == names[k]), None)


def _basic(index, ranks):
    """Whether ``base[index]`` may be a view: numbers, slices and None (or unknown names)."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return not any(isinstance(p, gast.Name) and (ranks.get(p.id) or 0) > 0 or
                   isinstance(p, (gast.List, gast.Tuple)) for p in parts)


def _element(index, ranks, rank):
    """Whether ``base[index]`` of an array of ``rank`` picks one element: a number per axis (an
    int; a float raises, a boolean number selects a copy). NumPy returns it as a new scalar."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return rank == len(parts) > 0 and all(
        isinstance(p, gast.Constant) and type(p.value) is int or
        isinstance(p, gast.Name) and ranks.get(p.id) == 0 for p in parts)


def copy_aliases(body, ids, namer):
    """Bind a copy at each binding in ``ids``: ``b = snapshot(a)``, ``t = A[0]; row = snapshot(t)``."""
    from .. import runtime
    out = []
    for s in body:
        for fld in ("body", "orelse"):
            if getattr(s, fld, None):
                setattr(s, fld, copy_aliases(getattr(s, fld), ids, namer))
        if id(s) in ids:
            arg = s.value
            if not isinstance(arg, gast.Name):
                arg = name(namer.fresh("view"))
                out.append(with_line(gast.Assign(targets=[name(arg.id, store=True)], value=s.value,
                                                 type_comment=None), s.lineno))
            s.value = gast.Call(func=name("snapshot"), args=[arg], keywords=[])
            s.value.callee = runtime.snapshot
        out.append(s)
    return out


def _key(index):
    """A constant index that names one item for sure (a number from the front, a key), else None."""
    if isinstance(index, gast.Constant) and (isinstance(index.value, str) or
                                             type(index.value) is int and index.value >= 0):
        return index.value
    return None


def _root(obj):
    while obj[0] == "item":
        obj = obj[1]
    return obj


def _ancestors(obj):
    out = {obj}
    while obj[0] == "item":
        obj = obj[1]
        out.add(obj)
    return out


def _overlap(a, b):
    """Whether some object of ``a`` and some of ``b`` may share memory: equal, or one holds the other."""
    if a & b:
        return True
    up_a = set().union(*(_ancestors(o) for o in a)) if a else set()
    up_b = set().union(*(_ancestors(o) for o in b)) if b else set()
    return bool(up_a & set(b)) or bool(up_b & set(a))


def _join(a, b):
    return {k: a.get(k, frozenset()) | b.get(k, frozenset()) for k in a.keys() | b.keys()}


def _union(sets):
    out = frozenset()
    for s in sets:
        out |= s
    return out

