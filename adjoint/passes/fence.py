"""Syntax fence.

Contract: accepts any FunctionDef; returns nothing, or raises
``UnsupportedSyntaxError`` naming the user's file:line and the construct for
the first statement or expression adjoint cannot differentiate. Everything
after this pass may assume the constructs below are absent.
"""
from __future__ import annotations

import gast

from ..frontend import unsupported

_STATEMENTS = {
    gast.AsyncFunctionDef: ("async def", ""),
    gast.AsyncFor: ("async for", ""),
    gast.AsyncWith: ("async with", ""),
    gast.ClassDef: ("a nested class", "define it at module level"),
    gast.Import: ("import", "import at module level"),
    gast.ImportFrom: ("import", "import at module level"),
}
_EXPRESSIONS = {
    gast.Yield: ("yield (a generator)", "return a value instead"),
    gast.YieldFrom: ("yield from (a generator)", "return a value instead"),
    gast.Await: ("await", ""),
    gast.NamedExpr: ("the := operator here", "assign on a line of its own"),
    gast.Starred: ("star-unpacking (*args)", "pass the arguments one by one"),
}


def check(node: gast.FunctionDef, filename: str) -> None:
    """Raise for the first construct outside the differentiable subset."""
    for stmt in node.body:
        _check_stmt(stmt, filename)


def _check_stmt(stmt, filename):
    for sub in gast.walk(stmt):
        if isinstance(sub, gast.stmt):
            _check_one_stmt(sub, filename)
        else:
            rule = _EXPRESSIONS.get(type(sub))
            if rule:
                unsupported(rule[0], sub if hasattr(sub, "lineno") else stmt, filename, rule[1])
            if isinstance(sub, gast.keyword) and sub.arg is None:
                unsupported("**kwargs in a call", stmt, filename, "pass keywords one by one")


def _check_one_stmt(stmt, filename):
    rule = _STATEMENTS.get(type(stmt))
    if rule:
        unsupported(rule[0], stmt, filename, rule[1])
    if isinstance(stmt, (gast.For, gast.While)) and stmt.orelse:
        unsupported(f"else on a {type(stmt).__name__.lower()} loop", stmt, filename,
                    "use a flag variable")
    if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
        for target in targets:
            _check_target(target, stmt, filename)


def _check_target(target, stmt, filename):
    if isinstance(target, (gast.Tuple, gast.List)):
        for elt in target.elts:
            _check_target(elt, stmt, filename)
    elif isinstance(target, gast.Subscript) and isinstance(target.value, gast.Attribute):
        unsupported("writing into an array held by an attribute", stmt, filename,
                    "adjoint never changes the caller's objects: copy it into a variable first "
                    "(w = obj.w.copy(); w[i] = ...)")
    elif isinstance(target, gast.Subscript) and not isinstance(target.value, gast.Name):
        unsupported("writing into a nested subscript like a[i][j]", stmt, filename,
                    "write a[i, j] = ... on an array")

