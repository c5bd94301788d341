"""The user's own Python functions that compiled code calls, njit-compiled beside it.

A helper the generated code calls without differentiating it (a lifted lambda,
a function of the user's module) must be compiled too: compiled code calls no
Python function. Each is compiled as the user wrote it, but for one thing
Numba cannot do: type a call, from compiled code, of a function with
keyword-only parameters (its argument folding indexes past the arguments).
Such a function is compiled with those parameters made positional, behind a
small wrapper that keeps Python's rules for them (``_keyword_only``).
"""
from __future__ import annotations

import inspect
import types as pytypes

import numba
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload

from . import users_function

_END = "adjoint: the keyword-only parameters follow"  # the barrier's default (see _wrapper)


def jitted_users(values: dict) -> dict:
    """``values`` with each of the user's own Python functions njit-compiled.

    A function it calls is the user's code too, so each is compiled in a copy of
    its globals in which the user's functions are compiled alike; Numba freezes
    globals anyway.
    """
    made, scopes = {}, {}  # id(function) -> its compiled copy; id(globals) -> the copy of them

    def jitted(fn):
        if id(fn) not in made:
            fresh = id(fn.__globals__) not in scopes
            scope = scopes.setdefault(id(fn.__globals__), dict(fn.__globals__))
            made[id(fn)] = _compiled(fn, scope)
            if fresh:  # before compiling anything: a cycle of calls finds the dispatcher made
                scope.update({n: jitted(v) for n, v in list(scope.items()) if users_function(v)})
        return made[id(fn)]
    return {n: jitted(v) if users_function(v) else v for n, v in values.items()}


def _compiled(fn, scope):
    """``fn`` reading its globals from ``scope``, njit-compiled (lazily, at its first call)."""
    code = fn.__code__
    if not code.co_kwonlyargcount or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        copy = pytypes.FunctionType(code, scope, fn.__name__, fn.__defaults__, fn.__closure__)
        copy.__kwdefaults__ = fn.__kwdefaults__
        return numba.njit(copy)  # Numba refuses ``*args`` with keyword-only ones: the NumPy twin runs
    flat = code.replace(co_argcount=code.co_argcount + code.co_kwonlyargcount, co_kwonlyargcount=0)
    return numba.njit(_wrapper(fn, numba.njit(pytypes.FunctionType(flat, scope, fn.__name__,
                                                                  None, fn.__closure__))))


def _wrapper(fn, flat):
    """A function with ``fn``'s signature, but positional parameters only, calling ``flat``.

    Its keyword-only parameters come after a barrier parameter whose default
    no call passes: ``_keyword_only`` refuses to compile a call that fills the
    barrier (a keyword-only parameter given by position) or leaves a required
    keyword-only parameter out (its stand-in default is ``None``). Python raises
    a ``TypeError`` for either, and so does the NumPy twin the caller falls back to.
    """
    code, kwdefaults = fn.__code__, fn.__kwdefaults__ or {}
    positional = list(code.co_varnames[:code.co_argcount])
    kwonly = list(code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount])
    taken = set(code.co_varnames)
    barrier, guard, callee, end, ident = (_fresh(taken, s) for s in ("end", "keyword_only", "flat",
                                                                     "end_default", "wrapper"))
    values = {guard: _keyword_only, callee: flat, end: _END}
    params = _defaulted(positional, fn.__defaults__ or (), values, taken)
    if code.co_posonlyargcount:
        params.insert(code.co_posonlyargcount, "/")
    params.append(f"{barrier}={end}")
    params += _defaulted(kwonly, [kwdefaults.get(n) for n in kwonly], values, taken)
    required = "".join(f"{n}, " for n in kwonly if n not in kwdefaults)
    text = (f"def {ident}({', '.join(params)}):\n"  # not fn's name: a lambda's is '<lambda>'
            f"    {guard}({barrier}, ({required}))\n"
            f"    return {callee}({', '.join(positional + kwonly)})\n")
    exec(compile(text, f"<keyword-only parameters of {fn.__name__}>", "exec"), values)
    wrapper = values[ident]
    wrapper.__name__, wrapper.__qualname__ = fn.__name__, fn.__qualname__
    return wrapper


def _defaulted(names, defaults, values, taken):
    """``names`` as a signature writes them, the last ``len(defaults)`` with their defaults
    (bound in ``values`` under fresh names)."""
    out = list(names)
    for k, value in enumerate(defaults, len(names) - len(defaults)):
        ident = _fresh(taken, f"default_{k}_{names[k]}")
        values[ident] = value
        out[k] = f"{names[k]}={ident}"
    return out


def _fresh(taken, stem):
    """A name none of ``taken`` is (the user's parameter names), remembered as taken."""
    ident = f"adjoint_{stem}"
    while ident in taken:
        ident += "_"
    taken.add(ident)
    return ident


def _keyword_only(end, required):
    """Compiled code only: refuses a call that breaks the rules of keyword-only parameters."""


@overload(_keyword_only)
def _keyword_only_twin(end, required):
    if not (isinstance(end, types.StringLiteral) and end.literal_value == _END):
        raise TypingError("a keyword-only parameter is given by position")
    if any(isinstance(t, (types.NoneType, types.Omitted)) for t in required):
        raise TypingError("a required keyword-only parameter is missing")
    return lambda end, required: None
