"""Source -> gast, and name resolution.

Contract: ``parse_function(fn)`` returns the function's ``gast.FunctionDef``
with decorators removed and every statement's ``lineno`` set to its line in the
user's file, plus a ``Resolver`` that tells what a free name or attribute chain
(``np.linalg.norm``, ``helper``, ``LAMBDA``) refers to at transform time.
"""
from __future__ import annotations

import builtins
import inspect
import linecache
import textwrap
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

import gast

from . import astutil
from .errors import SourceUnavailableError, UnsupportedSyntaxError

LOCAL = object()  # resolution of a name the function binds itself
UNKNOWN = object()  # a free name that is not bound anywhere yet


@dataclass
class Parsed:
    fn: object
    node: gast.FunctionDef
    filename: str
    resolver: "Resolver"

    @property
    def qualname(self) -> str:
        return getattr(self.fn, "__qualname__", self.node.name)


# filename -> text of every module adjoint generated: its own record, since anyone may clear
# ``linecache`` (then the next module would take a freed name, and a transform of the first
# would read the second's lines)
GENERATED = {}


def _source_of(fn):
    held = GENERATED.get(getattr(getattr(fn, "__code__", None), "co_filename", None))
    if held is not None and held.splitlines(keepends=True) != linecache.cache.get(
            fn.__code__.co_filename, (None, None, None))[2]:
        show_lines(fn.__code__.co_filename, held)
    try:
        lines, first = inspect.getsourcelines(fn)
        filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    except (OSError, TypeError) as exc:
        where = getattr(getattr(fn, "__code__", None), "co_filename", None)
        raise SourceUnavailableError(
            f"cannot read the source of {getattr(fn, '__qualname__', fn)!r} ({exc}). "
            "adjoint transforms source text: define the function in a file (or a notebook "
            "cell), not in a plain interactive prompt or through exec().",
            where) from None
    return "".join(lines), max(first, 1), filename


def show_lines(filename, source):
    """Put a generated module's lines in ``linecache`` (tracebacks, ``inspect``)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)


# code object -> (FunctionDef as parsed, filename); weak, so code made by exec or by
# adjoint itself (the gradients that higher derivatives transform) does not pile up
_PARSED = weakref.WeakKeyDictionary()


def parse_function(fn) -> Parsed:
    """Parse ``fn``'s source into a FunctionDef whose line numbers are the file's.

    Parsed once per code object (the backend choice, each mode and each
    argument kind read the same tree); every caller gets its own copy to change.
    """
    code = getattr(fn, "__code__", None)
    found = _PARSED.get(code) if code is not None else None
    if found is None:
        found = _parse(fn)
        if code is not None:
            _PARSED[code] = found
    node, filename = astutil.clone(found[0]), found[1]
    return Parsed(fn, node, filename, Resolver(fn, node))


def seed_parsed(fn, node, filename):
    """Record ``node`` as the tree of ``fn``, a function adjoint made from the user's lines
    (a checkpointed loop's step): parsing it reads this tree, not source text."""
    _PARSED[fn.__code__] = (node, filename)


def _parse(fn):
    text, first, filename = _source_of(fn)
    text = textwrap.dedent(text)
    try:
        module = gast.parse(text)
    except SyntaxError:
        if fn.__name__ != "<lambda>":
            raise
        return _lambda_in_its_file(fn, filename, first)
    node = _find_function(module, fn, filename, first)
    for sub in astutil.walk(node):
        if getattr(sub, "lineno", None) is not None:
            sub.lineno += first - 1
    node.decorator_list = []
    return node, filename


def _lambda_in_its_file(fn, filename, first):
    """A lambda whose lines are no statement (an item of a dict display): the one lambda
    of its line in the parsed file."""
    try:
        module = gast.parse("".join(linecache.getlines(filename)))
    except SyntaxError:
        module = None
    lambdas = [] if module is None else \
        [n for n in gast.walk(module) if isinstance(n, gast.Lambda) and n.lineno == first]
    if len(lambdas) != 1:
        raise SourceUnavailableError(f"cannot read the source of the lambda at line {first}; "
                                     "write it as a def (one lambda per line at most)", filename, first)
    node = _lambda_function(lambdas[0])
    node.decorator_list = []
    return node, filename


def _lambda_function(lam):
    """``lambda args: body`` as ``def lambda_(args): return body``."""
    ret = gast.Return(value=lam.body)
    ret.lineno = getattr(lam.body, "lineno", lam.lineno)
    func = gast.FunctionDef(name="lambda_", args=lam.args, body=[ret], decorator_list=[],
                            returns=None, type_comment=None, type_params=[])
    func.lineno = ret.lineno
    return func


def _find_function(module, fn, filename, first):
    name = fn.__name__
    for sub in gast.walk(module):
        if isinstance(sub, gast.FunctionDef) and sub.name == name:
            return sub
    lambdas = [sub for sub in gast.walk(module) if isinstance(sub, gast.Lambda)]
    if len(lambdas) > 1:  # the one on the lambda's own line
        line = fn.__code__.co_firstlineno - first + 1
        lambdas = [lam for lam in lambdas if lam.lineno == line]
    if name == "<lambda>" and len(lambdas) == 1:
        return _lambda_function(lambdas[0])
    raise SourceUnavailableError(
        f"cannot find the definition of {name!r} in its source; write it as a def "
        "(one lambda per line at most)", filename, first)


class Resolver:
    """What the free names of a function refer to."""

    def __init__(self, fn, node: gast.FunctionDef):
        self.fn = fn
        params = [a.id for a in node.args.args + node.args.posonlyargs + node.args.kwonlyargs]
        self.locals = set(params) | astutil.stored_names(gast.Module(body=node.body, type_ignores=[]))
        code = fn.__code__
        cells = fn.__closure__ or ()
        self.cells = dict(zip(code.co_freevars, cells))
        self.globals = fn.__globals__
        self.extra = {}  # names of functions adjoint made for this one (checkpointed loops)

    def lookup(self, ident: str):
        if ident in self.extra:
            return self.extra[ident]
        if ident in self.locals:
            return LOCAL
        if ident in self.cells:
            try:
                return self.cells[ident].cell_contents
            except ValueError:
                return UNKNOWN
        if ident in self.globals:
            return self.globals[ident]
        live = self.globals.get("__builtins__")
        if isinstance(live, LiveNames):  # generated code: the user's names are its builtins
            try:
                return live[ident]
            except KeyError:
                return UNKNOWN
        return getattr(builtins, ident, UNKNOWN)

    def resolve(self, expr):
        """The object ``expr`` (a name or attribute chain) refers to, LOCAL or UNKNOWN."""
        if isinstance(expr, gast.Name):
            return self.lookup(expr.id)
        if isinstance(expr, gast.Attribute):
            base = self.resolve(expr.value)
            if base is LOCAL or base is UNKNOWN:
                return base
            return getattr(base, expr.attr, UNKNOWN)
        return LOCAL

    def live_names(self) -> "LiveNames":
        return LiveNames(self.globals, self.cells)


class LiveNames(Mapping):
    """The user's globals and closure cells, read at call time.

    Generated code is compiled with this mapping as its builtins, so a global
    the user rebinds after the transform (new training data, say) is seen by
    the next call, as it would be by the original function.
    """

    # CPython's PyImport_Import takes ``__import__`` from a non-dict ``__builtins__`` as an
    # attribute, and C code that imports runs with the generated frame's builtins (NumPy 2.5
    # imports ``warnings`` so when ``np.log(0)`` warns).
    __import__ = staticmethod(builtins.__import__)

    def __init__(self, globals_, cells):
        self._globals = globals_
        self._cells = cells

    def __getitem__(self, key):
        cell = self._cells.get(key)
        if cell is not None:
            return cell.cell_contents
        try:
            return self._globals[key]
        except KeyError:
            inner = self._globals.get("__builtins__")
            if isinstance(inner, LiveNames):  # code generated from generated code
                return inner[key]
            return getattr(builtins, key) if hasattr(builtins, key) else _raise_name(key)

    def __iter__(self):
        return iter(set(self._globals) | set(self._cells) | set(dir(builtins)))

    def __len__(self):
        return len(set(self))


def _raise_name(key):
    raise KeyError(key)


def unsupported(what: str, node, filename: str, hint: str = ""):
    """Raise the error for a construct adjoint does not differentiate, at the user's line."""
    message = f"{what} is not supported in differentiated code"
    if hint:
        message += f"; {hint}"
    raise UnsupportedSyntaxError(message, filename, getattr(node, "lineno", None))
