"""Jump normalisation: one exit, no continue, breaks only in tail position.

Contract: accepts a fenced FunctionDef body. Returns a body whose only
``return`` is its last statement, with no ``continue``, and whose ``break``
statements each end an if-branch that is itself in tail position of a loop
body. The statements that followed a jump are moved into the other branch of
the if that held it (copied into both branches when neither always jumps), so
a recorded branch decision is all the reverse sweep needs to replay which
statements ran, even in an iteration that broke out early. A ``return`` inside
a loop sets ``returned`` and breaks; the code after the loop checks the flag.
"""
from __future__ import annotations

import gast

from ..astutil import clone, quote

def _fresh(base, taken):
    ident, k = base, 1
    while ident in taken:
        k += 1
        ident = f"{base}{k}"
    return ident


def normalize(body: list, lineno: int, taken=frozenset()) -> list:
    """Rewrite ``body`` into single-exit form (see module docstring).

    The flag and result variables (``returned``, ``retval``) get names not in ``taken``.
    """
    if _simple_exit(body):
        return body
    rewrite = _Rewriter(_fresh("retval", taken), _fresh("returned", taken))
    out = quote(f"{rewrite.returned} = False", lineno) if _returns_in_loop(body) else []
    out += rewrite.block(body, in_loop=False)
    out += quote(f"return {rewrite.retval}", _last_line(body))
    return out


def _simple_exit(body):
    returns = [s for s in _walk(body) if isinstance(s, gast.Return)]
    return len(returns) == 1 and body and body[-1] is returns[0] \
        and not any(isinstance(s, (gast.Continue, gast.Break)) for s in _walk(body))


def _walk(stmts):
    for s in stmts:
        yield s
        for field in ("body", "orelse"):
            yield from _walk(getattr(s, field, []) or [])


def _returns_in_loop(body):
    return any(isinstance(s, (gast.For, gast.While)) and
               any(isinstance(t, gast.Return) for t in _walk(s.body)) for s in _walk(body))


def _last_line(body):
    return body[-1].lineno if body else None


def _may_jump(stmts, in_loop):
    """Whether running ``stmts`` may leave the enclosing block early."""
    for s in stmts:
        if isinstance(s, (gast.Return, gast.Raise)) or (in_loop and isinstance(s, (gast.Break, gast.Continue))):
            return True
        if isinstance(s, gast.If) and (_may_jump(s.body, in_loop) or _may_jump(s.orelse, in_loop)):
            return True
        if isinstance(s, (gast.For, gast.While)) and any(isinstance(t, gast.Return) for t in _walk(s.body)):
            return True
        if isinstance(s, gast.With) and _may_jump(s.body, in_loop):
            return True
    return False


def _always_jumps(stmts):
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (gast.Return, gast.Raise, gast.Break, gast.Continue)):
        return True
    return isinstance(last, gast.If) and _always_jumps(last.body) and _always_jumps(last.orelse)


class _Rewriter:
    """The rewrite of one function, with its own names for the result and the returned flag."""

    def __init__(self, retval, returned):
        self.retval = retval
        self.returned = returned

    def block(self, stmts, in_loop):
        out = []
        for i, s in enumerate(stmts):
            rest = stmts[i + 1:]
            if isinstance(s, gast.Return):
                out += self.ret(s, in_loop)
                return out
            if isinstance(s, gast.Continue):
                return out or [_pass(s)]
            if isinstance(s, (gast.Break, gast.Raise)):
                out.append(s)
                return out
            if isinstance(s, gast.If) and rest and _may_jump([s], in_loop):
                for field in ("body", "orelse"):
                    branch = getattr(s, field)
                    if not _always_jumps(branch):
                        setattr(s, field, branch + clone(rest))
                s.body = self.block(s.body, in_loop) or [_pass(s)]
                s.orelse = self.block(s.orelse, in_loop)
                out.append(s)
                return out
            if isinstance(s, gast.If):
                s.body = self.block(s.body, in_loop) or [_pass(s)]
                s.orelse = self.block(s.orelse, in_loop)
            elif isinstance(s, gast.With):
                s.body = self.block(s.body, in_loop) or [_pass(s)]
            elif isinstance(s, (gast.For, gast.While)):
                s.body = self.block(s.body, in_loop=True) or [_pass(s)]
                if any(isinstance(t, gast.Return) for t in _walk(s.body)) or self.sets_returned(s.body):
                    out.append(s)
                    exit_ = gast.Break() if in_loop else gast.Pass()
                    exit_.lineno = s.lineno
                    guard = quote(f"if {self.returned}:\n    pass", s.lineno)[0]
                    guard.body = [exit_]
                    if in_loop:
                        out += self.block([guard] + rest, in_loop)
                    else:
                        guard.orelse = self.block(rest, in_loop)
                        out.append(guard)
                    return out
            out.append(s)
        return out


    def sets_returned(self, stmts):
        return any(isinstance(t, gast.Assign) and isinstance(t.targets[0], gast.Name)
                   and t.targets[0].id == self.returned for t in _walk(stmts))


    def ret(self, s, in_loop):
        value = s.value if s.value is not None else gast.Constant(value=None, kind=None)
        stmts = quote(f"{self.retval} = value", s.lineno, value=value)
        if in_loop:
            stmts += quote(f"{self.returned} = True\nbreak", s.lineno)
        return stmts


def _pass(s):
    p = gast.Pass()
    p.lineno = s.lineno
    return p
