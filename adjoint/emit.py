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
    for sub in ast.walk(tree):
        if "lineno" in sub._attributes and getattr(sub, "lineno", None) is None:
            sub.lineno = 1
    return tree


class Emitter:
    def __init__(self, filename: str):
        self.filename = filename
        self.short = os.path.basename(filename)
        self.lines: list[str] = []

    def function(self, name: str, params: list[str], body: list, doc: str | None = None):
        self.lines.append(f"def {name}({', '.join(params)}):")
        if doc:
            self.lines.append(f'{INDENT}"""{doc}"""')
        self.block(body, 1)
        self.lines.append("")

    def block(self, stmts, depth, last_line=None):
        pad = INDENT * depth
        if not stmts:
            self.lines.append(pad + "pass")
            return
        for s in stmts:
            line = getattr(s, "lineno", None)
            if line is not None and line != last_line:
                self.comment(line, pad)
                last_line = line
            if isinstance(s, gast.If):
                self.lines.append(f"{pad}if {expr_source(s.test)}:")
                self.block(s.body, depth + 1, last_line)
                if s.orelse:
                    self.lines.append(f"{pad}else:")
                    self.block(s.orelse, depth + 1, last_line)
            elif isinstance(s, gast.For):
                self.lines.append(f"{pad}for {expr_source(s.target)} in {expr_source(s.iter)}:")
                self.block(s.body, depth + 1, last_line)
            elif isinstance(s, gast.While):
                self.lines.append(f"{pad}while {expr_source(s.test)}:")
                self.block(s.body, depth + 1, last_line)
            else:
                for text in ast.unparse(_to_ast(s)).splitlines():
                    self.lines.append(pad + text)

    def comment(self, line, pad):
        text = linecache.getline(self.filename, line).strip()
        note = f"{self.short}:{line}"
        self.lines.append(f"{pad}# {note}: {text}" if text else f"{pad}# {note}")

    def source(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"
