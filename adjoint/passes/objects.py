"""Objects: attribute reads, methods and properties, attribute writes, library code.

Contract (the normal form ``normalize`` produces for objects):

* ``t = obj.attr`` on a local name (a parameter such as ``self`` or a pytree of
  parameters, or a local value) is a *field read*, kept as the user wrote it. Its
  adjoint is the subscript machinery's: ``obj_bar["attr"] += t_bar`` (and
  ``t_dot = obj_dot["attr"]`` in forward mode), on the ``AdjointRecord`` that
  ``zeros_like`` gives a record (a dataclass, a named tuple, a registered
  class). Where ``obj`` carries no derivative (``self`` of a bound method) the
  read is a primal statement like any other. The shape attributes
  (``INERT_ATTRIBUTES``) carry no derivative.
* ``obj.method(args)`` on a parameter whose class is known (the build is
  specialised per argument class) is a call of ``Class.method(obj, args)``,
  differentiated recursively like any helper; a property read is a call of
  its getter, a static method's call one without ``obj``. So is one on an object held in
  an attribute (``self.encoder.forward(x)``): the build's key holds the ``Layout`` of its
  object arguments, the class of the objects each attribute holds.
* ``State(x, v=u)`` with a constructor Python generated (a named tuple, a
  dataclass without ``__post_init__``) sends each field's adjoint to the
  argument that filled it; ``s._replace(x=u)`` and ``dataclasses.replace(s,
  x=u)`` are ``replace_fields(s, x=u)``, whose adjoint sends ``r_bar["x"]`` to
  ``u`` and the rest (``fields_cleared(r_bar, 'x')``) to ``s``.
* ``f.attr = v`` / ``f.attr += v`` on a module-level object (a function
  attribute used as a counter) is kept as a side effect that carries no
  derivative; an active value written there, or any write to an attribute of
  a local object (a parameter, ``self``, an object the function made), is
  refused at its line: it would change an object the caller holds, or make a
  value adjoint could not follow.
* A function from an installed package or the standard library (a file under
  site-packages, dist-packages or the standard library's folder) is never
  transformed from its source: with active arguments and no rule it is
  refused at the user's line, naming it (``module.qualname``).
"""
from __future__ import annotations

import dataclasses
import os
import sysconfig

import gast
import numpy as np

from ..astutil import const, name

# Attributes of arrays that are integers or types: reading them carries no derivative.
INERT_ATTRIBUTES = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes"}


def is_field_read(value) -> bool:
    """Whether ``value`` (a normalised right-hand side) reads an attribute of a local name."""
    return isinstance(value, gast.Attribute) and isinstance(value.value, gast.Name) \
        and value.attr not in INERT_ATTRIBUTES and getattr(value, "local", False)


def field_read(base, attr) -> gast.Attribute:
    """The normal form of ``base.attr`` for a local ``base``."""
    node = gast.Attribute(value=base, attr=attr, ctx=gast.Load())
    node.local = True
    return node


def as_subscript(value) -> gast.Subscript:
    """A field read as the subscript its adjoint is written with: ``obj["attr"]``."""
    return gast.Subscript(value=name(value.value.id), slice=const(value.attr), ctx=gast.Load())


def alias_key(attr) -> str:
    """The key under which the alias model keeps what an attribute holds (never a dict key's)."""
    return "." + attr


# -- methods and properties of parameters of a known class --------------------------
def class_member(cls, attr):
    """('method', fn), ('static', fn), ('property', getter) or None for what ``cls.attr`` is."""
    if cls is None:
        return None
    for klass in cls.__mro__:
        if attr in vars(klass):
            member = vars(klass)[attr]
            if isinstance(member, property) and member.fget is not None:
                return "property", member.fget
            if isinstance(member, staticmethod):
                return "static", member.__func__
            return ("method", member) if hasattr(member, "__code__") else None
    return None


# -- library code ------------------------------------------------------------------
def _library_roots():
    paths = sysconfig.get_paths()
    roots = {paths.get("stdlib"), paths.get("platstdlib"), paths.get("purelib"),
             paths.get("platlib")}
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


_ROOTS = _library_roots()


def is_library(fn) -> bool:
    """Whether ``fn`` comes from an installed package or the standard library.

    Such code is the library's, not the user's: adjoint differentiates it by a
    rule or not at all, never by walking into its source.
    """
    filename = getattr(getattr(fn, "__code__", None), "co_filename", None)
    if not filename or filename.startswith("<"):
        return False  # built-in (no source to walk into anyway), or made by exec
    path = os.path.realpath(filename)
    parts = path.split(os.sep)
    installed = "site-packages" in parts or "dist-packages" in parts or path.startswith(_ROOTS)
    return installed and not path.startswith(_own_root())


def _own_root():
    """adjoint's own folder: an installed adjoint's runtime helpers are handled by their rules."""
    return os.path.dirname(os.path.dirname(os.path.realpath(__file__))) + os.sep


# -- methods and properties: how their calls are spelled ------------------------------
class Methods:
    """Calls of the methods and properties of objects whose class a build knows.

    ``obj.step(h)`` becomes ``Model.step(obj, h)`` (the class by its name where
    the user's module has it, else a module-level name bound to the function),
    whose callee is the function itself: a helper like any other. The class is
    remembered for the function's first parameter, so the method's own
    ``self.other(...)`` calls resolve too.
    """

    def __init__(self, bind_constant, classes, layout=None):
        self.bind_constant = bind_constant  # (base name, value) -> a module-level name
        self.classes = classes  # code object -> the class of its first parameter, program-wide
        self.layout = layout or {}  # (class, attribute) -> the class of what it holds (a Layout)

    def held(self, cls, attr):
        """The class of the objects that objects of ``cls`` hold in ``attr``, where one is known."""
        return self.layout.get((cls, attr)) if cls is not None else None

    def call(self, norm, fn, receiver, args, keywords, attr, static=False):
        """The call of ``fn``, ``receiver``'s ``attr``; a static method takes no receiver."""
        cls = norm.class_of(receiver)
        if not static:
            self._remember(norm, fn, cls)
        call = gast.Call(func=self._spelling(norm, fn, cls, attr),
                         args=([] if static else [receiver]) + args, keywords=keywords)
        call.callee = fn
        return call

    def _remember(self, norm, fn, cls):
        known = self.classes.setdefault(fn.__code__, cls)
        if known is not cls:
            from ..frontend import unsupported
            unsupported(f"calling {fn.__qualname__} on objects of two classes ({known.__name__} "
                        f"and {cls.__name__}) in one derivative", _line(norm), norm.filename,
                        "differentiate them separately, or call the method on one class")

    def _spelling(self, norm, fn, cls, attr):
        getter = isinstance(vars_lookup(cls, attr), property)
        if norm.resolver.lookup(cls.__name__) is cls:
            func = gast.Attribute(value=name(cls.__name__), attr=attr, ctx=gast.Load())
            return gast.Attribute(value=func, attr="fget", ctx=gast.Load()) if getter else func
        return name(self.bind_constant(f"{cls.__name__}_{attr}", fn))


def vars_lookup(cls, attr):
    """``attr`` as the class (or the first class of its MRO defining it) holds it."""
    return next(vars(k)[attr] for k in cls.__mro__ if attr in vars(k))


def _line(norm):
    from ..astutil import at_line
    return at_line(None, norm.line)


# -- attribute writes ----------------------------------------------------------------
def loaded(target):
    """An attribute target read as a value (``loss.calls`` of ``loss.calls += 1``)."""
    return gast.Attribute(value=target.value, attr=target.attr, ctx=gast.Load())


def attribute_write(norm, target, value, out):
    """``obj.attr = value``: a side effect on a module-level object, else refused.

    A module-level object (a function used as a counter, a log) is changed as
    the user's function would change it, once per call; ``check_attribute_writes``
    refuses a value that carries a derivative there. A local object (a
    parameter, ``self``, an object the function made) is refused: changing the
    caller's object during differentiation must never happen, and adjoint
    follows values through names, not through attributes.
    """
    from ..frontend import unsupported
    root = target.value
    while isinstance(root, gast.Attribute):
        root = root.value
    if not isinstance(root, gast.Name) or norm.resolver.lookup(root.id) is _local():
        what = root.id if isinstance(root, gast.Name) else "an object"
        unsupported(f"assigning to the attribute '.{target.attr}' of '{what}'", _line(norm),
                    norm.filename, _write_hint(norm, what))
    v = norm.atom(value, out)
    from .. import runtime
    call = gast.Call(func=name("set_attribute"), args=[target.value, const(target.attr), v], keywords=[])
    call.callee = runtime.set_attribute  # not while a vjp pullback replays the forward sweep
    stmt = gast.Expr(value=call)
    stmt.attribute_write = True
    out.append(stmt)


def written_attributes(body) -> set:
    """(object, attribute) of each attribute of a module-level object the body writes
    (``loss.calls += 1``), each object spelled as its dotted name."""
    from ..astutil import dotted, walk
    out = set()
    for n in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(n, gast.Attribute) and isinstance(n.ctx, gast.Store):
            out.add((dotted(n.value), n.attr))
    return out


def written_read(norm, e):
    """A read of an attribute the function writes, through ``attribute_value`` (so that a
    pullback replaying the forward sweep reads what the first sweep read); else None."""
    from .. import runtime
    from ..astutil import dotted
    if (dotted(e.value), e.attr) not in norm.written_attributes:
        return None
    call = gast.Call(func=name("attribute_value"), args=[e.value, const(e.attr)], keywords=[])
    call.callee = runtime.attribute_value
    return call


def _local():
    from ..frontend import LOCAL
    return LOCAL


def _write_hint(norm, what):
    params = {a.id for a in norm.parsed.node.args.posonlyargs + norm.parsed.node.args.args
              + norm.parsed.node.args.kwonlyargs}
    if what in params:
        return (f"it would change the caller's object '{what}' while differentiating; keep "
                "the new value in a local variable, or return a new object "
                "(dataclasses.replace(obj, attr=...), obj._replace(attr=...))")
    return ("adjoint follows values through variables, not through attributes of objects; "
            "keep the value in a local variable, or build the object once with its final "
            "values (dataclasses.replace, NamedTuple._replace)")


def check_attribute_writes(body, wrt, inert, filename):
    """Refuse an attribute write (on a module-level object) of a value that carries a derivative:
    a later read of it would be a constant to adjoint, and its derivative lost."""
    from ..astutil import walk_stmts
    from ..errors import NotDifferentiableError
    from .activity import varied_names
    varied = None
    for s in walk_stmts(body):
        if getattr(s, "cell_write", None):
            varied = varied_names(body, wrt, inert) if varied is None else varied
            if s.value.args[1].id in varied:
                raise NotDifferentiableError(
                    f"the value written to the nonlocal '{s.cell_write}' depends on the "
                    "differentiated arguments; adjoint does not follow derivatives through closure "
                    "cells: keep it in a local variable and return it (or write "
                    "adjoint.stop_gradient(value) if no derivative should flow)", filename, s.lineno)
        if getattr(s, "attribute_write", False):
            varied = varied_names(body, wrt, inert) if varied is None else varied
            v = s.value.args[2]
            if isinstance(v, gast.Name) and v.id in varied:
                raise NotDifferentiableError(
                    f"the value written to '.{s.value.args[1].value}' depends on the "
                    "differentiated arguments; adjoint does not follow derivatives through "
                    "attributes of objects: keep it in a local variable (or write "
                    "adjoint.stop_gradient(value) if no derivative should flow)", filename,
                    s.lineno)


def constant_self(fn, classes):
    """The parameters of ``fn`` that carry no derivative whatever the call: ``self`` of a
    method resolved on a class that is not a pytree (the caller never differentiates it)."""
    from ..pytree import record_class
    cls = classes.get(fn.__code__)
    params = fn.__code__.co_varnames[:1]
    return set(params) if cls is not None and not record_class(cls) else set()


# -- the classes a build is specialised for ------------------------------------------
def argument_class(value):
    """The class of an object argument, whose methods and properties a build resolves;
    None for numbers, arrays, builtin containers, functions and modules, and for an object
    whose own attributes hide a method of its class (``self.forward = ...``): its class does
    not say what its methods are."""
    kind = type(value)
    if kind.__module__ in ("builtins", "numpy") or isinstance(value, np.ndarray):
        return None
    if any(callable(getattr(kind, a, None)) for a in getattr(value, "__dict__", ())):
        return None
    return kind


def argument_classes(args):
    """One class (or None) per argument, then their ``Layout`` where their attributes hold
    objects; None when no argument is an object (the common case)."""
    classes = tuple(map(argument_class, args))
    if not any(c is not None for c in classes):
        return None
    layout = object_layout(args)
    return classes + (layout,) if layout is not None else classes


class Layout(tuple):
    """(class, attribute, class) triples: objects of the first class hold, in that attribute,
    objects of the last (``Model``, ``'encoder'``, ``Encoder``), or a list or tuple of them
    (``'layers[]'``); the class is None where objects of one class hold objects of several. Part of a build's key, so that
    ``self.encoder.forward(x)`` resolves to ``Encoder.forward`` as a parameter's methods do."""


_LAYOUT_DEPTH = 4  # attribute chains followed: self.a.b.c.method()


def object_layout(args):
    """The ``Layout`` of the objects reachable from ``args`` through instance attributes (None if
    none holds an object)."""
    found, seen = {}, set()
    stack = [(a, 0) for a in args]
    while stack:
        obj, depth = stack.pop()
        cls = argument_class(obj)
        if cls is None or id(obj) in seen or depth >= _LAYOUT_DEPTH:
            continue
        seen.add(id(obj))
        for attr, value in getattr(obj, "__dict__", {}).items():
            if isinstance(value, (list, tuple)) and value:  # self.layers: objects of one class
                attr, items = attr + "[]", value
            else:
                items = [value]
            classes = {argument_class(v) for v in items}
            if classes == {None}:
                continue  # arrays, numbers, containers of them
            held = next(iter(classes)) if len(classes) == 1 else None
            known = found.setdefault((cls, attr), held)
            found[(cls, attr)] = known if known is held else None
            stack.extend((v, depth + 1) for v in items)
    if not found:
        return None
    triples = sorted(((c, a, k) for (c, a), k in found.items()),
                     key=lambda t: (t[0].__module__, t[0].__qualname__, t[1]))
    return Layout(triples)


# -- records built in the function -------------------------------------------------
def constructor_fields(cls):
    """The field names a call of record class ``cls`` binds, when its constructor is the one
    Python generated (a named tuple, a dataclass without ``__post_init__``); else None.

    Such a call only stores its arguments, so its adjoint sends each field's
    adjoint back to the argument that filled it. A hand-written constructor may
    compute anything: it is a call like any other.
    """
    from ..pytree import field_names, generated_constructor
    return field_names(cls) if generated_constructor(cls) else None


def bound_fields(cls, call):
    """{field: atom} of a constructor call (keywords by name, positions in field order)."""
    import inspect
    keywords = {k.arg: k.value for k in call.keywords}
    return dict(inspect.signature(cls).bind(*call.args, **keywords).arguments)


# -- records changed by replacing fields ----------------------------------------------
def replaces(callee, args, keywords) -> bool:
    """Whether a call is ``dataclasses.replace(obj, field=value, ...)``."""
    return callee is dataclasses.replace and len(args) == 1 and all(k.arg for k in keywords)


def replaceable(cls) -> bool:
    """Whether ``obj._replace(...)`` on an object of class ``cls`` (None: not known) is a named
    tuple's: a class of the user's own with such a method is a method call like any other."""
    return cls is None or (issubclass(cls, tuple) and hasattr(cls, "_fields"))


def replace_call(obj, keywords) -> gast.Call:
    """``replace_fields(obj, x=v)``: a copy of the record ``obj`` with the field ``x`` replaced."""
    from ..runtime import replace_fields
    call = gast.Call(func=name("replace_fields"), args=[obj], keywords=keywords)
    call.callee = replace_fields
    return call


def is_replace(call) -> bool:
    from ..runtime import replace_fields
    return getattr(call, "callee", None) is replace_fields


def check_object_writes(facts, classes, filename):
    """Refuse a write into a value held by a parameter whose class is not a pytree.

    adjoint copies a parameter it writes into, so the caller's values never
    change; an arbitrary object cannot be copied faithfully (where its class is
    not known here, ``writable_copy`` refuses when the function runs).
    """
    from ..errors import UnsupportedSyntaxError
    from ..pytree import record_class
    for p in facts.param_copies:
        cls = classes.get(p)
        if cls is not None and not record_class(cls):
            raise UnsupportedSyntaxError(
                f"this writes into a value (an array, a list) held by the parameter '{p}', an "
                f"object of class {cls.__qualname__}; adjoint never changes the caller's objects "
                "and cannot copy this one: copy the value first (w = obj.w.copy()), or make the "
                "class a dataclass", filename, facts.write_lines.get(p))
