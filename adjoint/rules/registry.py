"""The rule registry.

A rule says how the adjoint of one function's output flows back to its
arguments, as a template expression per differentiable parameter. In a
template, ``g`` is the output's adjoint, ``ans`` the output, and every
parameter name stands for the argument the user passed (or its default). The
reverse pass splices the template into the generated code, so the derivative
the user reads is the template itself. Broadcasting (``elementwise`` rules)
and accumulation into the argument's adjoint are added by the framework.

Forward mode (``jvp``) reads the same entry. For an ``elementwise`` rule the
tangent contribution of a parameter is its adjoint template with ``g``
replaced by the parameter's tangent (the partial is a scalar factor), and
every ``conj(...)`` in it dropped: adjoints follow the conjugate convention
for complex values, ``g * conj(f'(z))``, while tangents are ``t * f'(z)``. Other
rules give ``jvp``: the string ``"linear"`` when the function is linear in
each differentiable parameter (the tangent is the function applied with that
argument replaced by its tangent, as for ``sum`` or ``dot``), or a dict
parameter -> template in which ``t`` is that parameter's tangent and ``ans``
the output. An elementwise rule gives ``jvp`` templates where the function is
not holomorphic (``abs``): its tangent is not the conjugated partial. The
tangents of several arguments are added, so a function with several outputs
returns its tangents as an ``AdjointList`` (which adds item by item).

Kinds:

* ``elementwise`` - the partials of a broadcasting function; each is reduced
  to its argument's shape with ``unbroadcast``;
* ``structural`` - any other function; the template already has the
  argument's shape;
* ``zero`` - differentiable almost everywhere with derivative zero (``sign``,
  ``floor``): the output carries no derivative;
* ``inactive`` - returns integers, booleans, shapes or fresh constants
  (``len``, ``argmax``, ``np.zeros``): the output carries no derivative.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import sys

import gast

from ..astutil import const, quote_expr

KINDS = ("elementwise", "structural", "zero", "inactive")
CUSTOM = "custom rule"  # the notes of rules users register with adjoint.custom_vjp/custom_jvp
_RULES: dict = {}


class Rule:
    def __init__(self, fns, params: str, grads: dict, kind: str, notes: str = "",
                 jvp: "str | dict | None" = None, name: str | None = None, static: str = ""):
        assert kind in KINDS, kind
        self.fns = fns
        self.static = frozenset(static.replace(",", " ").split())
        self.params = params
        self.grads = grads
        self.kind = kind
        self.notes = notes
        self.jvp = jvp
        self.name = name or display_name(fns[0])
        ns: dict = {}
        exec(f"def _signature({params}): pass", ns)
        self.signature = inspect.signature(ns["_signature"])
        unknown = (set(grads) | self.static) - set(self.signature.parameters)
        assert not unknown, f"{self.name}: gradients for unknown parameters {unknown}"

    def differentiable(self, param: str) -> bool:
        """Whether a derivative flows through ``param`` (False for a ``static`` one: shapes, indices)."""
        return param not in self.static

    def bind(self, args, keywords) -> dict:
        """Parameter name -> argument node (defaults as constants) for one call."""
        positions = list(range(len(args)))
        named = {k.arg: len(args) + i for i, k in enumerate(keywords)}
        bound = self.signature.bind(*positions, **named)
        nodes = list(args) + [k.value for k in keywords]
        out = {p: nodes[i] for p, i in bound.arguments.items()}
        for p, param in self.signature.parameters.items():
            if p not in out:
                out[p] = const(param.default) if param.default is not inspect.Parameter.empty else None
        return out

    def adjoint(self, param: str, bound: dict, g, ans):
        """The template for ``param`` with the call's arguments spliced in.

        A call given an explicit ``dtype`` may round to integers (``np.array(x, dtype=int)``),
        whose derivative is zero: ``g`` then passes through ``integer_cut``.
        """
        return quote_expr(self.grads[param], g=self.cut(g, bound, ans), ans=ans, **_as_nodes(bound))

    def cut(self, expr, bound: dict, ans):
        """``expr`` (an adjoint or a tangent), through ``integer_cut`` when the call names a
        ``dtype``: a result rounded to integers has derivative zero."""
        if _explicit(bound.get("dtype")):
            return quote_expr("integer_cut(e, ans)", e=expr, ans=ans)
        return expr

    @property
    def carries_derivative(self) -> bool:
        return self.kind in ("elementwise", "structural")


def _explicit(node) -> bool:
    """Whether a bound argument is given (not absent and not the constant None)."""
    return node is not None and not (isinstance(node, gast.Constant) and node.value is None)


def _as_nodes(bound):
    return {k: v for k, v in bound.items() if v is not None}


def display_name(fn) -> str:
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__name__", repr(fn))
    if _scipy_ufunc(fn, name):
        return f"scipy.special.{name}"
    if module.startswith("scipy."):
        return _scipy_name(fn, module, name)
    if type(fn).__name__ == "ufunc" or module.startswith("numpy"):
        public = module.split(".")[:2]
        module = ".".join(public) if public[-1] in ("fft", "linalg", "random") else "numpy"
        if fn in _linalg_funcs():
            module = "numpy.linalg"
    if module in ("builtins", "_operator", "operator"):
        module = "operator" if module != "builtins" else ""
    return f"{module}.{name}" if module else name


def _scipy_ufunc(fn, name) -> bool:
    """Whether ``fn`` is a ufunc of ``scipy.special`` (its ufuncs name no module)."""
    special = sys.modules.get("scipy.special")
    return special is not None and type(fn).__name__ == "ufunc" and getattr(special, name, None) is fn


def _scipy_name(fn, module, name) -> str:
    """``scipy.linalg.expm`` for a function of a private module, ``scipy.stats.norm.logpdf``
    for a method of a distribution (its class is ``norm_gen``)."""
    public = ".".join(module.split(".")[:2])
    if not hasattr(fn, "__name__"):  # a distribution itself, called to freeze it
        return f"{public}.{type(fn).__name__.removesuffix('_gen')}"
    owner = getattr(fn, "__self__", None)
    if owner is not None and not isinstance(owner, type(sys)):
        return f"{public}.{type(owner).__name__.removesuffix('_gen')}.{name}"
    return f"{public}.{name}"


@functools.lru_cache(maxsize=None)
def _linalg_funcs():
    import numpy as np
    return frozenset(getattr(np.linalg, n) for n in dir(np.linalg) if callable(getattr(np.linalg, n)))


def register(fns, params: str, kind: str, notes: str = "", jvp: "str | dict | None" = None,
             name: str | None = None, static: str = "", **grads) -> Rule:
    """Register one rule for each function in ``fns`` (one function or a list).

    ``static`` names parameters whose value only supplies a shape, an index or
    a mask: the derivative through them is zero, and an active argument there
    contributes nothing (rather than being refused as not differentiable).
    """
    fns = fns if isinstance(fns, (list, tuple)) else [fns]
    rule = Rule(fns, params, grads, kind, notes, jvp, name, static)
    for fn in fns:
        _RULES[fn] = rule
    return rule


def elementwise(fns, params, notes="", jvp=None, name=None, static="", **grads):
    return register(fns, params, "elementwise", notes, jvp, name, static, **grads)


def structural(fns, params, notes="", jvp=None, name=None, static="", **grads):
    return register(fns, params, "structural", notes, jvp, name, static, **grads)


def zero(fns, notes="zero gradient almost everywhere"):
    for fn in (fns if isinstance(fns, (list, tuple)) else [fns]):
        register(fn, "*args, **kwargs", "zero", notes)


def inactive(fns, notes="returns no differentiable value"):
    for fn in (fns if isinstance(fns, (list, tuple)) else [fns]):
        register(fn, "*args, **kwargs", "inactive", notes)


# Rules for optional libraries: the library module -> the rule module that covers it. A
# function of such a library reaches adjoint only after the user imported its module, so a
# lookup that misses loads the rules of every one of them the process has imported: importing
# adjoint never imports SciPy, and without SciPy nothing changes.
OPTIONAL = {"scipy.special": "special", "scipy.stats": "stats", "scipy.linalg": "matrices",
            "scipy.signal": "signal", "scipy.integrate": "integrate"}
_LOADED: set = set()


def lookup(fn):
    """The rule for ``fn``, or None."""
    try:
        rule = _RULES.get(fn)
    except TypeError:  # unhashable callable
        return None
    if rule is None and _load_optional(lambda library: sys.modules.get(library) is not None):
        rule = _RULES.get(fn)
    return rule


def _load_optional(wanted) -> bool:
    """Import the rule modules of the optional libraries ``wanted`` accepts and not yet
    loaded; whether there was any."""
    new = [module for library, module in OPTIONAL.items()
           if module not in _LOADED and wanted(library)]
    for module in new:
        _LOADED.add(module)
        importlib.import_module(f"{__package__}.{module}")
    return bool(new)


def _installed(library) -> bool:
    return importlib.util.find_spec(library.split(".")[0]) is not None


def all_rules() -> list:
    """Every distinct rule adjoint ships, in registration order (users' custom rules excluded),
    those of the optional libraries installed included."""
    _load_optional(_installed)
    seen, out = set(), []
    for rule in _RULES.values():
        if id(rule) not in seen and rule.notes != CUSTOM:
            seen.add(id(rule))
            out.append(rule)
    return out


def carries_no_derivative(fn) -> bool:
    """Whether calls of ``fn`` never produce an active value."""
    rule = lookup(fn)
    return rule is not None and not rule.carries_derivative


