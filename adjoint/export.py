"""A generated derivative as a standalone module: runs with NumPy alone, adjoint not installed.

The generated module imports the runtime helpers it calls from ``adjoint.runtime``;
the standalone one carries their source instead. What to copy is found from
the objects, not from files: each free name of the generated code is resolved
in the namespace the code runs in, and every function or class defined by
adjoint (or by the user's module) is copied by source, with the names its own
source reads, transitively (private helpers, the error classes a helper raises).
Modules and other libraries' functions become imports; literal constants and
small arrays of numbers are written out; any other value of the user's module
is imported from it.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import sys
import textwrap
import types
from typing import Any, Callable

import numpy as np

from .errors import AdjointError

__all__ = ["standalone"]


class ExportError(AdjointError):
    """A value the generated code reads cannot be written into a standalone module."""


def standalone(fun: Callable[..., Any], source: str, namespace: Any, user_module: str) -> str:
    """The module ``source`` (generated for ``fun``) with its adjoint imports replaced by copies.

    ``namespace`` resolves the names the generated code reads (its functions'
    globals); ``user_module`` is the import name of ``fun``'s module, for values
    that cannot be copied.
    """
    header, body = _split_header(source)
    tree = ast.parse(body)
    wanted = _free_names(tree) - _top_level_names(tree)
    writer = _Writer(fun, user_module)
    for ident in sorted(wanted):
        writer.need(ident, _resolve(namespace, ident))
    return writer.module(header, body)


def _split_header(source: str) -> tuple[list[str], str]:
    """The leading comments, and the rest without its imports (the module writes its own)."""
    lines = source.splitlines()
    comments = [line for line in lines if line.startswith("# ")][:2]
    kept = [line for line in lines[len(comments):]
            if not line.startswith(("from adjoint", "import numpy as np"))]
    return comments, "\n".join(kept).lstrip("\n") + "\n"


def _resolve(namespace: Any, ident: str) -> Any:
    """What ``ident`` means to the generated code: its globals, then the user's names."""
    if ident in namespace:
        return namespace[ident]
    live = namespace.get("__builtins__")
    try:
        return live[ident] if live is not None and not isinstance(live, types.ModuleType) \
            else getattr(builtins, ident)
    except (KeyError, AttributeError):
        raise ExportError(f"the generated code reads {ident!r}, which is not defined") from None


class _Writer:
    """Collects the imports, constants and copied definitions of the standalone module."""

    def __init__(self, fun: Callable[..., Any], user_module: str) -> None:
        self.fun = fun
        self.user_module = user_module
        self.imports: dict[str, str] = {}  # bound name -> import statement
        self.constants: dict[str, str] = {}  # bound name -> assignment
        self.copied: dict[str, str] = {}  # bound name -> source, dependencies first
        self.aliases: dict[str, str] = {}  # other names of copied definitions
        self.visiting: set[str] = set()

    def need(self, ident: str, value: Any, origin: str = "") -> None:
        """Make ``ident`` mean ``value`` in the standalone module (``origin``: the module reading it)."""
        if ident in self.imports or ident in self.constants or ident in self.copied \
                or ident in self.aliases or ident in self.visiting or getattr(builtins, ident, _MISSING) is value:
            return
        wrapped = getattr(value, "__wrapped__", None)
        if type(value).__module__.startswith("adjoint.") and isinstance(wrapped, types.FunctionType):
            value = wrapped  # a function with a custom rule: the function itself
        if isinstance(value, types.ModuleType):
            self.imports[ident] = _import_module(value.__name__, ident)
        elif _copyable(value, self.fun):
            self._copy(ident, value)
        elif _literal(value):
            self.constants[ident] = f"{ident} = {value!r}"
        elif _small_array(value):
            self.constants[ident] = f"{ident} = {_array_source(value)}"
        elif _library_object(value, self.fun):
            self.imports[ident] = _import_from(value, ident)
        elif origin.split(".")[0] == "adjoint":
            raise ExportError(f"cannot write {origin}.{ident} ({type(value).__name__}) into a "
                              "standalone module")
        else:  # the user's data: read from their module, as the function reads it
            self.imports[ident] = f"from {self.user_module} import {ident}"

    def _copy(self, ident: str, value: Any) -> None:
        """Copy a function or class by source, after whatever its source reads."""
        if value.__name__ != ident:  # another name for it: copy it under its own, then alias
            self.need(value.__name__, value)
            self.aliases[ident] = f"{ident} = {value.__name__}"
            return
        text = textwrap.dedent(inspect.getsource(value))
        self.visiting.add(ident)
        scope = _namespace_of(value)
        text = _without_adjoint_decorators(text, scope)
        tree = ast.parse(text)
        for name in sorted(_free_names(tree) - {ident}):
            if name in scope:
                self.need(name, scope[name], value.__module__)
        self.visiting.discard(ident)
        self.copied[ident] = text.rstrip() + "\n"

    def module(self, header: list[str], body: str) -> str:
        imports = set(self.imports.values()) | {"import numpy as np"}
        stdlib = sorted(i for i in imports if _module_of(i) in sys.stdlib_module_names)
        others = sorted(i for i in imports if i not in stdlib)
        notes = ["# Standalone: the helpers it calls are copied below; it needs NumPy only.",
                 "from __future__ import annotations"]
        parts = ["\n".join(header + notes), "\n\n".join("\n".join(g) for g in (stdlib, others) if g)]
        if self.constants:
            parts.append("\n".join(self.constants.values()))
        parts += list(self.copied.values())
        if self.aliases:
            parts.append("\n".join(self.aliases.values()))
        parts.append(body)
        return "\n\n\n".join(p.strip("\n") for p in parts) + "\n"


def _module_of(statement: str) -> str:
    """The top-level module an import statement reads."""
    return statement.split()[1].split(".")[0]


_MISSING = object()


def _copyable(value: Any, fun: Callable[..., Any]) -> bool:
    """A function or class of adjoint's own or of the user's module: copied by its source."""
    if not isinstance(value, (types.FunctionType, type)):
        return False
    module = getattr(value, "__module__", "") or ""
    return module == "adjoint" or module.startswith("adjoint.") or module == fun.__module__


def _library_object(value: Any, fun: Callable[..., Any]) -> bool:
    """A function or class of another library (NumPy, SciPy, math): imported where it lives."""
    module = getattr(value, "__module__", None)
    return callable(value) and isinstance(getattr(value, "__name__", None), str) \
        and isinstance(module, str) and module not in ("__main__", fun.__module__)


def _literal(value: Any) -> bool:
    """Whether ``repr(value)`` is Python source for an equal value."""
    if not isinstance(value, (bool, int, float, complex, str, bytes, tuple, list, dict, set,
                              frozenset, type(None))):
        return False
    try:
        return bool(ast.literal_eval(repr(value)) == value)
    except (ValueError, SyntaxError):
        return False


#: The most entries an array of the user's module may have to be written into the module.
ARRAY_LIMIT = 10_000


def _small_array(value: Any) -> bool:
    """A NumPy number, or an array of finite numbers of at most ``ARRAY_LIMIT`` entries.

    Those are written out (exactly: ``tolist`` gives Python numbers whose repr
    reads back to the same value), so the module needs neither the user's module nor
    the adjoint it may import; larger arrays are imported from the user's module.
    """
    if not isinstance(value, (np.ndarray, np.generic)) or value.dtype.kind not in "biufc" \
            or value.dtype.itemsize > (16 if value.dtype.kind == "c" else 8):  # long double
        return False
    finite = value.dtype.kind not in "fc" or bool(np.all(np.isfinite(value)))
    return finite and (isinstance(value, np.generic) or value.size <= ARRAY_LIMIT)


def _array_source(value: Any) -> str:
    """Python source for an equal array or NumPy number, of the same dtype and shape."""
    dtype = "np.bool_" if value.dtype.kind == "b" else f"np.{value.dtype.name}"  # NumPy 1 and 2
    if isinstance(value, np.generic):
        return f"{dtype}({value.item()!r})"
    return f"np.array({value.tolist()!r}, dtype={dtype}).reshape({value.shape!r})"


def _import_module(module: str, ident: str) -> str:
    top = module.rpartition(".")[2]
    return f"import {module}" if module == ident else \
        f"import {module} as {ident}" if top != ident or "." in module else f"import {module}"


def _import_from(value: Any, ident: str) -> str:
    module, name = value.__module__, value.__name__
    return f"from {module} import {name}" + (f" as {ident}" if name != ident else "")


def _without_adjoint_decorators(text: str, scope: dict[str, Any]) -> str:
    """``text`` without the decorators that are adjoint's (``@adjoint.custom_vjp``, ``@f.defvjp``).

    The standalone module has no adjoint: the function is copied as the plain
    function those decorators wrap or register.
    """
    node = ast.parse(text).body[0]
    decorators = getattr(node, "decorator_list", [])
    if not decorators or not all(_from_adjoint(_root(d), scope) for d in decorators):
        return text
    return "\n".join(text.splitlines()[node.lineno - 1:]) + "\n"


def _root(node: ast.expr) -> str:
    """The name an expression such as ``adjoint.custom_vjp`` or ``f.defvjp(...)`` starts with."""
    while not isinstance(node, ast.Name):
        node = node.func if isinstance(node, ast.Call) else getattr(node, "value", node)
        if not isinstance(node, (ast.Name, ast.Attribute, ast.Call)):
            return ""
    return node.id


def _from_adjoint(ident: str, scope: dict[str, Any]) -> bool:
    value = scope.get(ident)
    module = value.__name__ if isinstance(value, types.ModuleType) else type(value).__module__
    return module == "adjoint" or module.startswith("adjoint.")


def _namespace_of(value: Any) -> dict[str, Any]:
    """The globals a function or class's source reads its free names from."""
    if isinstance(value, types.FunctionType):
        return value.__globals__
    return vars(inspect.getmodule(value))


def _top_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _free_names(tree: ast.AST) -> set[str]:
    """Names read and never bound in each function or class of ``tree`` (annotations skipped)."""
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(_without_annotations(tree)):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node is not tree:
            bound.add(node.name)
    return loaded - bound


def _without_annotations(tree: ast.AST) -> ast.AST:
    """A copy of ``tree`` without annotations: the copied module defers them (``__future__``)."""
    tree = ast.parse(ast.unparse(tree))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
        elif isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
    return tree
