"""Source emission.

Generated statements are printed with the standard library's ``ast.unparse``
(after ``gast.gast_to_ast``), one statement at a time, so that a comment
naming the user's file:line and quoting that line can precede each group of
statements that came from it. (``astor`` is not used: it is unmaintained since
2019 and trips ``-W error`` on current Pythons.)
"""
from __future__ import annotations

import ast
import linecache
import os

import gast
from gast.ast3 import GAstToAst3

INDENT = "    "


def expr_source(node) -> str:
    return ast.unparse(_to_ast(node))


class _ToAst(GAstToAst3):
    """``gast.gast_to_ast``'s translation, its special cases kept, with the generic step (most
    nodes) planned once per class: the method to call, the ``ast`` class, the fields. The
    translator's own ``visit`` looks the method up by name and copies fields through
    ``hasattr`` and ``try`` on every node, which was most of emitting a module."""

    _plans: dict = {}

    def visit(self, node):
        method = self._plans.get(node.__class__)
        if method is None:
            method = self._plans[node.__class__] = self._method(node.__class__)
        return method(self, node)

    @staticmethod
    def _method(cls):
        """gast's own case for ``cls``, else the generic one (``ast.NodeVisitor``'s
        ``visit_Constant`` only looks for the deprecated ``visit_Num`` and the like)."""
        own = getattr(_ToAst, "visit_" + cls.__name__, None)
        if own is None or own is getattr(ast.NodeVisitor, "visit_" + cls.__name__, None):
            return _generic(cls)
        return own

    def visit_Name(self, node):  # gast's, without its per-field dispatch: names are most nodes
        return ast.copy_location(ast.Name(node.id, self._visit(node.ctx)), node)

    def _visit(self, node):
        if isinstance(node, ast.AST):
            return self.visit(node)
        if isinstance(node, list):
            return [self._visit(n) for n in node]
        return node


def _generic(cls):
    """The generic translation of a ``cls`` node: the same fields and location, converted."""
    target = getattr(ast, cls.__name__, None)
    fields, attributes, missing = cls._fields, cls._attributes, object()

    def translate(self, node):
        if target is None:
            return None  # a node that is not part of the AST
        values = {}
        for f in fields:
            value = getattr(node, f, missing)
            if value is not missing:
                values[f] = self._visit(value)
        new = target(**values)
        for a in attributes:
            value = getattr(node, a, missing)
            if value is not missing:
                setattr(new, a, value)
        return new
    return translate


def _to_ast(node):
    tree = _ToAst().visit(node)
    if isinstance(tree, ast.Module):
        _zero_lines(tree.body)
    return tree


def _zero_lines(stmts):
    """Line 0 (no comment) for each statement without a user's line; only statements are read."""
    for s in stmts:
        if getattr(s, "lineno", None) is None:
            s.lineno = 0
        for field in ("body", "orelse"):
            _zero_lines(getattr(s, field, None) or [])


class Emitter:
    def __init__(self, filename: str):
        self.filename = filename
        self.short = os.path.basename(filename)
        self.lines: list[str] = []

    def function(self, name: str, params: list[str], body: list, doc: str | None = None):
        self.lines.append(f"def {name}({', '.join(params)}):")
        if doc:
            self.lines.append(f'{INDENT}"""{doc}"""')
        self.block(_to_ast(gast.Module(body=body, type_ignores=[])).body, 1)  # converted once
        self.lines.append("")

    def block(self, stmts, depth, last_line=None):
        """Print ``ast`` statements, a comment naming the user's line before each group."""
        pad = INDENT * depth
        if not stmts:
            self.lines.append(pad + "pass")
            return
        for s in stmts:
            line = getattr(s, "lineno", None)
            if line and line != last_line:
                self.comment(line, pad)
                last_line = line
            if isinstance(s, ast.If):
                self.lines.append(f"{pad}if {ast.unparse(s.test)}:")
                self.block(s.body, depth + 1, last_line)
                if s.orelse:
                    self.lines.append(f"{pad}else:")
                    self.block(s.orelse, depth + 1, last_line)
            elif isinstance(s, ast.For):
                self.lines.append(f"{pad}for {ast.unparse(s.target)} in {ast.unparse(s.iter)}:")
                self.block(s.body, depth + 1, last_line)
            elif isinstance(s, ast.While):
                self.lines.append(f"{pad}while {ast.unparse(s.test)}:")
                self.block(s.body, depth + 1, last_line)
            elif isinstance(s, ast.With):
                self.lines.append(f"{pad}with {', '.join(ast.unparse(i) for i in s.items)}:")
                self.block(s.body, depth + 1, last_line)
            elif isinstance(s, ast.Try):
                self.try_(s, depth, last_line)
            else:
                self.notes(s, pad)
                for text in ast.unparse(s).splitlines():
                    self.lines.append(pad + text)

    def try_(self, s, depth, last_line):
        """A try statement of the forward sweep (``passes/statements.py``), comments inside."""
        pad = INDENT * depth
        self.lines.append(f"{pad}try:")
        self.block(s.body, depth + 1, last_line)
        for h in s.handlers:
            kind = f" {ast.unparse(h.type)}" if h.type is not None else ""
            bound = f" as {h.name}" if h.name else ""
            self.lines.append(f"{pad}except{kind}{bound}:")
            self.block(h.body, depth + 1, last_line)

    def notes(self, s, pad):
        """Comments that say what a checkpointed loop's driver call stores and recomputes."""
        call = s.value if isinstance(s, ast.Assign) else None
        func = getattr(getattr(call, "func", None), "id", None)
        if func in ("checkpoint_forward", "checkpoint_forward_while"):
            state = ast.unparse(call.args[-2])
            self.lines += [f"{pad}# checkpointed loop: run its trips without a tape, keeping",
                           f"{pad}# only the state it starts from, {state}"]
        elif func == "revolve" and len(call.args) == 4:
            step = ast.unparse(call.args[1])
            self.lines += [f"{pad}# revolve (binomial checkpointing): hold at most `snapshots`",
                           f"{pad}# copies of the loop's state at once, recompute trips forward",
                           f"{pad}# from the nearest copy, and run {step} once per trip,",
                           f"{pad}# last trip first"]

    def comment(self, line, pad):
        text = linecache.getline(self.filename, line).strip()
        note = f"{self.short}:{line}"
        self.lines.append(f"{pad}# {note}: {text}" if text else f"{pad}# {note}")

    def source(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"
