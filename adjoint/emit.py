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

INDENT = "    "


def expr_source(node) -> str:
    return ast.unparse(_to_ast(node))


def _to_ast(node):
    tree = gast.gast_to_ast(node)
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
