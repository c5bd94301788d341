"""Public transformations: grad, value_and_grad, vjp, source.

Each returns a callable that transforms the function on first use and caches
the compiled derivative per (code object, wrt, mode, ...) and the globals and
cells it reads, so building a second ``grad(f)`` costs a dictionary lookup;
concurrent first calls build once. ``functools.partial`` objects, bound methods
and numba-jitted functions are differentiated through their Python function.
The call path of a compiled derivative does no introspection: plain positional
calls go straight to the generated function.
"""
from __future__ import annotations

import functools
import inspect
import numbers
import os
import threading
import types
from typing import TYPE_CHECKING, Any, Callable, Literal, Sequence, overload

import numpy as np

from . import compile as _compile
from .errors import (AdjointError, NonScalarOutputError, SourceUnavailableError, WrtError,
                     hidden, internal_error, located, public)
from .passes.kinds import argument_rank, call_key
from .passes.shapes import pattern
from .passes.objects import Layout, argument_classes, object_layout
from .pytree import is_record
from .runtime.builtins import CellReads, reading_cells

if TYPE_CHECKING:
    from ._typing import A, Backend, Derivative, Mode, P, Pullback, R, Wrt

_CACHE: dict = {}  # (code object, wrt, mode, ...) -> [_Variant], most recent first, LRU order
_CACHE_SIZE = 256  # keys kept
_VARIANTS = 4  # closures of one definition kept per key (closures made in a loop evict older ones)
_LOCK = threading.RLock()  # one build at a time: concurrent first calls wait and reuse the result


class _Variant:
    """A build for one function's globals and closure cells, held (so their ids stay theirs)."""

    __slots__ = ("globals", "cells", "built")

    def __init__(self, fun, built):
        self.globals = fun.__globals__
        self.cells = fun.__closure__ or ()
        self.built = built

    def serves(self, fun) -> bool:
        """Whether ``fun`` reads the same globals and cells (the generated code reads them live)."""
        cells = fun.__closure__ or ()
        return self.globals is fun.__globals__ and len(cells) == len(self.cells) \
            and all(a is b for a, b in zip(cells, self.cells))


def _cached(key, fun):
    variants = _CACHE.pop(key, None)
    if variants is None:
        return None
    _CACHE[key] = variants  # most recently used last
    return next((v.built for v in variants if v.serves(fun)), None)


def _store(key, fun, built):
    variants = _CACHE.pop(key, [])
    _CACHE[key] = [_Variant(fun, built)] + variants[:_VARIANTS - 1]
    while len(_CACHE) > _CACHE_SIZE:
        del _CACHE[next(iter(_CACHE))]


def _built(fun, wrt, mode, aux=False, ranks=None, backend="numpy", classes=None, memory=None,
           shapes=None):
    """The compiled derivative, built once per function, wrt, mode, argument ranks, backend,
    checkpoint memory budget (bytes) and shape pattern (``passes.shapes``).

    Keyed by the code object and checked against the function's own globals
    and cells: two closures of one ``def`` share code but not the values they
    read. The cache is an LRU, so closures made in a loop do not pile up.
    """
    if backend == "auto":  # the environment's choice is part of the key
        backend = os.environ.get("ADJOINT_BACKEND", "auto")
    fun = _python_function(fun)
    key = (fun.__code__, wrt, mode, aux, ranks, backend, classes, _compile.check_tapes(), memory,
           shapes)
    with _LOCK:
        built = _cached(key, fun)
        if built is None:
            built = _build(fun, wrt, mode, aux, ranks, backend, classes, memory, shapes)
            _store(key, fun, built)
    return built


def _build(fun, wrt, mode, aux, ranks, backend, classes=None, memory=None, shapes=None):
    """Run the pipeline; anything but an AdjointError escaping it is adjoint's bug, said so."""
    try:
        params = list(inspect.signature(fun).parameters)
        by_name = dict(zip(params, ranks)) if ranks is not None else None
        shaped = dict(zip(params, shapes)) if shapes is not None else None
        by_class = {p: c for p, c in zip(params, classes) if c is not None} if classes else None
        layout = classes[-1] if classes and isinstance(classes[-1], Layout) else None
        chosen = _compile.choose_backend(fun, backend, by_name, mode, memory)
        if chosen == "numba" and by_class:
            chosen = _objects_on_numpy(fun, by_class)
        if memory is not None:
            plain = functools.partial(_build, fun, wrt, mode, aux, ranks, backend, classes,
                                      shapes=shapes)
            return _checkpointed_or_plain(fun, (wrt, mode, aux, by_name, chosen, by_class, layout),
                                          memory, plain, shaped)
        return _compile.build(fun, wrt, mode, aux, by_name, chosen, by_class, layout, shapes=shaped)
    except AdjointError:
        raise
    except Exception as exc:
        raise internal_error(fun, exc) from exc


def _checkpointed_or_plain(fun, args, memory, plain, shapes):
    """The build with ``checkpoint_memory``; where checkpointing the loop it chose is refused,
    ``plain()`` (the tape's build), with a warning that says why, or its own error."""
    try:
        return _compile.build(fun, *args, memory, shapes=shapes)
    except AdjointError as exc:
        refused = exc
    built = plain()
    import warnings
    from .checkpoint import CheckpointWarning
    warnings.warn(CheckpointWarning(f"checkpoint_memory: {_label(fun)} keeps the plain tape (its "
                                    f"memory grows with the trip count), since its loop cannot "
                                    f"be checkpointed: {refused}"), stacklevel=7)
    return built


def _objects_on_numpy(fun, classes):
    """'numpy', with one warning: Numba compiles numbers and arrays, not Python objects."""
    import warnings
    from .errors import BackendWarning
    names = ", ".join(f"'{p}' ({c.__qualname__})" for p, c in classes.items())
    warnings.warn(BackendWarning(f"{_label(fun)} takes the objects {names}, which Numba does not "
                                 "compile; using the NumPy backend"), stacklevel=7)
    return "numpy"


def _python_function(fun):
    """The Python function adjoint reads the source of, or a clear error for one without source."""
    if isinstance(fun, types.FunctionType):
        return fun
    inner = getattr(fun, "py_func", None)  # a numba-compiled function: its Python original
    if isinstance(inner, types.FunctionType):
        return inner
    label = getattr(fun, "__name__", None) or type(fun).__name__
    if isinstance(fun, np.ufunc):
        hint = f"wrap it in a function, e.g. def f(x): return np.{label}(x)"
    elif isinstance(fun, functools.partial):
        hint = "grad, value_and_grad, vjp and jvp take a partial; here, differentiate its function"
    else:
        hint = "adjoint differentiates Python functions (def or lambda), which may call it"
    raise SourceUnavailableError(f"cannot differentiate {label!r}: it is a {type(fun).__name__}, "
                                 f"with no Python source to transform; {hint}")


def _wrt_names(fun, wrt):
    """``wrt`` as a tuple of parameter names, and whether one gradient (not a tuple) is wanted."""
    names, single, picks = _wrt_plan(fun, wrt)
    if picks is not None:
        raise WrtError(f"wrt={wrt!r} reaches into *args or **kwargs of {_label(fun)}: grad, "
                       "value_and_grad and vjp take that; here, name the whole parameter")
    return names, single


def _wrt_plan(fun, wrt):
    """``_wrt_names`` and, where ``wrt`` reaches into ``*args`` or ``**kwargs``, what to pick.

    An integer counts the positional arguments as passed: with ``def f(x, *args)``,
    ``wrt=1`` is ``args[0]``; a name that is no parameter is an item of ``**kwargs``.
    The derivative is taken along the whole tuple or dict and the items picked from it:
    picks is None, or one ``(index in names, item or None)`` per ``wrt`` entry.
    """
    signature = inspect.signature(fun).parameters
    params = list(signature)
    kinds = [p.kind for p in signature.values()]
    positional = [n for n, k in zip(params, kinds) if k in (inspect.Parameter.POSITIONAL_ONLY,
                                                             inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    star = next((n for n, k in zip(params, kinds) if k is inspect.Parameter.VAR_POSITIONAL), None)
    stars = next((n for n, k in zip(params, kinds) if k is inspect.Parameter.VAR_KEYWORD), None)
    single = not isinstance(wrt, (tuple, list))
    items = [wrt] if single else list(wrt)
    wanted = []
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise WrtError(f"wrt must be a parameter's position or name, not {w!r}")
        if isinstance(w, int) and star is not None and w >= len(positional):
            wanted.append((star, w - len(positional)))
        elif isinstance(w, int):
            if not -len(params) <= w < len(params):
                raise WrtError(f"wrt={w} is out of range: {_label(fun)} has {len(params)} "
                               f"parameters {params}")
            wanted.append((params[w], None))
        elif w in params:
            wanted.append((w, None))
        elif stars is not None:
            wanted.append((stars, w))
        else:
            raise WrtError(f"wrt={w!r} names no parameter of {_label(fun)}; its parameters "
                           f"are {params}")
    if all(item is None for _, item in wanted):
        return tuple(n for n, _ in wanted), single, None
    names = tuple(dict.fromkeys(n for n, _ in wanted))
    return names, single, [(names.index(n), item) for n, item in wanted]


def _label(fun) -> str:
    return getattr(fun, "__qualname__", None) or repr(fun)


def _budget(memory):
    """``checkpoint_memory`` in bytes (None: no automatic checkpointing), checked when the
    derivative is made rather than at its first call."""
    if memory is None:
        return None
    from .runtime.checkpoint import memory_bytes
    try:
        return memory_bytes(memory)
    except ValueError as exc:
        raise AdjointError(str(exc)) from None


def _check_differentiable(name, value):
    kind = type(value)
    if kind is float or (kind is np.ndarray and value.dtype.kind in "fc"):
        return
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise WrtError(f"cannot differentiate with respect to '{name}': it is {value!r}")
    if isinstance(value, numbers.Integral):
        raise WrtError(f"cannot differentiate with respect to '{name}': it is the integer "
                       f"{value!r}; pass a float such as {float(value)!r}")
    if isinstance(value, np.ndarray) and not np.issubdtype(value.dtype, np.inexact):
        raise WrtError(f"cannot differentiate with respect to '{name}': its dtype is "
                       f"{value.dtype}; convert it with .astype(float)")
    if argument_classes((value,)) and not is_record(value):
        raise WrtError(f"cannot differentiate with respect to '{name}': it is an object of class "
                       f"{type(value).__qualname__}, which is not a pytree; make it a dataclass "
                       "or a NamedTuple, or register it with adjoint.register_pytree")


_ndarray = np.ndarray
_SHAPES_KEPT = 256  # call keys (argument shapes) one derivative remembers


def _call_key(args):
    """The key of the compiled code for ``args``: their types, unless an array needs its rank.

    Without arrays the types decide everything ``call_key`` would (rank and
    differentiability), and ``map(type, ...)`` costs no Python-level call.
    """
    key = tuple(map(type, args))
    return tuple(map(call_key, args)) if _ndarray in key else key


class Transformed:
    """A derivative of ``fun``: callable like ``fun``, with ``.source`` to read."""

    def __init__(self, fun, wrt, mode, has_aux=False, backend="auto", checkpoint_memory=None):
        fun = _python_function(fun)
        functools.update_wrapper(self, fun)
        self._backend = backend
        self._memory = _budget(checkpoint_memory)
        self.__wrapped__ = fun
        self._fun = fun
        self._wrt, self._single, self._picks = _wrt_plan(fun, wrt)
        self._mode = mode
        self._aux = has_aux
        self._signature = inspect.signature(fun)
        self._nparams = len(self._signature.parameters)
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in self._signature.parameters.values()):
            self._nparams = -1  # every call binds: the generated code takes the tuple and the dict
        params = list(self._signature.parameters)
        self._positions = [params.index(w) for w in self._wrt]
        self._one_tuple = not self._single and len(self._wrt) == 1 and self._picks is None
        self._entries = {}  # call key -> compiled entry points
        self._layouts = False  # whether call keys hold the object arguments' layout
        self._arrays = False  # whether an array came (keys then skip the types: _Joint)
        self._ranks = {}  # call key -> (the argument ranks, classes, shape pattern) of its code
        # (call key, its "main" entry point) of the latest call: one attribute, so that a
        # thread never pairs one call's key with another's entry point
        self._last = (None, None)

    @property
    def source(self) -> str:
        """The generated Python module, as text (for the arguments of the latest call)."""
        return self._build(*self._ranks.get(self._last[0], (None,))).source

    def _build(self, ranks=None, classes=None, shapes=None):
        return _built(self._fun, self._wrt, self._mode, self._aux, ranks, self._backend, classes,
                      self._memory, shapes)

    def _entry(self, args):
        key = _call_key(args)
        if self._layouts:
            key = key + (object_layout(args),)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._miss(key, args)
        self._last = (key, entry.get("main"))
        return entry

    def _miss(self, key, args):
        """First call with this call key: check the ``wrt`` values, then build (or reuse) the code.

        The key decides the checks' outcome, so a key that is stored passed them.
        """
        for name, p in zip(self._wrt, self._positions):
            _check_differentiable(name, args[p])
        ranks = tuple(map(argument_rank, args))
        classes = argument_classes(args)
        # the key holds the shapes; the code is made per pattern (grad's backward sweep uses it)
        shapes = pattern(args) if self._mode in ("grad", "value_and_grad") else None
        entry = self._build(ranks, classes, shapes).entry
        if len(self._entries) >= _SHAPES_KEPT:  # calls of ever new sizes: forget the old ones
            self._entries.clear()
            self._ranks.clear()
        self._ranks[key] = (ranks, classes, shapes)
        self._entries[key] = entry
        if classes and isinstance(classes[-1], Layout):  # calls are keyed by the layout too
            self._layouts = True
            self._ranks[key + (classes[-1],)] = (ranks, classes, shapes)
            self._entries[key + (classes[-1],)] = entry
        return entry

    def _args(self, args, kwargs):
        """Positional arguments with defaults filled in."""
        if kwargs or len(args) != self._nparams:
            bound = self._signature.bind(*args, **kwargs)
            bound.apply_defaults()
            args = tuple(bound.arguments.values())
        return args

    def _locate(self, exc):
        built = self._build(*self._ranks.get(self._last[0], (None,)))
        return type(exc)(exc.message, built.filename, built.return_line)

    def _raised(self, exc):
        """What to raise for ``exc`` from generated code: located, without adjoint's frames."""
        if isinstance(exc, NonScalarOutputError) and not exc.filename:
            exc = self._locate(exc)
            exc.__suppress_context__ = True  # as ``raise ... from None``
            return exc
        return located(exc)


class _Joint(Transformed):
    def __call__(self, *args, **kwargs):
        # The hot path: no binding for plain positional calls, a key and one dict lookup.
        if kwargs or len(args) != self._nparams:
            args = self._args(args, kwargs)
        # _call_key(args), inlined (a call costs ~10% of this path); once arrays have come, the
        # types are not worth taking first: a key for them costs more than the arithmetic of a
        # small gradient. Both keys are exact, so which one a call takes changes no result.
        if self._arrays:
            key = tuple(map(call_key, args))
        else:
            key = tuple(map(type, args))
            if _ndarray in key:
                self._arrays = True
                key = tuple(map(call_key, args))
        if self._layouts:  # the classes of objects held in attributes of object arguments
            key = key + (object_layout(args),)
        last_key, main = self._last
        if key != last_key:  # the usual case: arguments of the same kinds as last time
            entry = self._entries.get(key)
            if entry is None:
                try:
                    entry = self._miss(key, args)
                except AdjointError as exc:
                    raise hidden(exc)
            main = entry["main"]
            self._last = (key, main)
        try:
            result = main(*args)
        except Exception as exc:
            raise self._raised(exc)
        if self._one_tuple:
            return _wrap_one(result, self._mode == "value_and_grad", self._aux)
        if self._picks is not None:
            return self._picked_result(result)
        return result

    def _picked_result(self, result):
        """The items of ``*args``/``**kwargs`` that ``wrt`` asked for, from their whole gradients."""
        with_value = self._mode == "value_and_grad"
        first, grads = result if with_value or self._aux else (None, result)
        if self._aux and not with_value:
            grads, first = result
        grads = _picks((grads,) if len(self._wrt) == 1 else grads, self._picks, self._single)
        if with_value:
            return first, grads
        return (grads, first) if self._aux else grads


def _picks(whole, picks, single):
    """The gradients ``picks`` names (see ``_wrt_plan``) from those of the whole parameters."""
    out = tuple(whole[k] if item is None else whole[k][item] for k, item in picks)
    return out[0] if single else out


def _wrap_one(result, with_value, aux):
    """The gradients as a 1-tuple, for ``wrt=(w,)`` (the generated code returns one gradient)."""
    if with_value:
        return result[0], (result[1],)
    return ((result[0],), result[1]) if aux else (result,)


class _Grad(_Joint):
    pass


@overload
def grad(fun: Callable[P, tuple[Any, A]], wrt: Wrt = 0, *, has_aux: Literal[True],
         backend: Backend = "auto", checkpoint_memory: int | str | None = None
         ) -> Derivative[P, tuple[Any, A]]: ...
@overload
def grad(fun: Callable[P, Any], wrt: Wrt = 0, *, has_aux: Literal[False] = False,
         backend: Backend = "auto", checkpoint_memory: int | str | None = None
         ) -> Derivative[P, Any]: ...
@overload
def grad(fun: None = None, wrt: Wrt = 0, *, has_aux: bool = False,
         backend: Backend = "auto", checkpoint_memory: int | str | None = None
         ) -> Callable[[Callable[P, Any]], Derivative[P, Any]]: ...
@public
def grad(fun: Callable[..., Any] | None = None, wrt: Wrt = 0, *, has_aux: bool = False,
         backend: Backend = "auto", checkpoint_memory: int | str | None = None) -> Any:
    """The gradient of a scalar-valued ``fun`` with respect to the argument(s) ``wrt``.

    ``wrt`` is a position or parameter name (one gradient) or a tuple of them (a
    tuple of gradients). A position counts the positional arguments as passed,
    so with ``def f(x, *args)`` ``wrt=1`` is ``args[0]``; a name may be a
    keyword-only parameter, ``"args"``/``"kwargs"`` (the whole tuple or dict) or
    an item of ``**kwargs``. Usable as ``@grad`` or ``@grad(wrt="w")``. With
    ``has_aux=True``, ``fun`` returns ``(loss, aux)`` and the result is
    ``(gradient, aux)``. ``backend``: "numpy", "numba" (compile the derivative
    with numba.njit) or "auto" (Numba when it is installed and the function
    loops over numbers or array elements; the ADJOINT_BACKEND environment
    variable overrides "auto"). ``checkpoint_memory`` (bytes, or a size such as
    "256MB"): reverse ``fun``'s first top-level loop with a trip count that is not
    a literal by binomial checkpointing, keeping as many copies of its state as
    fit in that budget, as ``adjoint.checkpointed(..., memory=...)`` would.
    """
    kw = dict(has_aux=has_aux, backend=backend, checkpoint_memory=checkpoint_memory)
    if fun is None:
        return lambda f: grad(f, wrt, **kw)
    if isinstance(fun, Transformed) or type(fun).__module__ == "adjoint.transforms":
        from .transforms import grad_of_grad
        if has_aux or checkpoint_memory is not None:
            raise AdjointError(f"{'has_aux' if has_aux else 'checkpoint_memory'} is not "
                               "supported on the gradient of a gradient")
        return grad_of_grad(fun, wrt)
    fun = _as_partial(fun)
    if isinstance(fun, functools.partial):
        return _bound(fun, wrt, lambda f, w: grad(f, w, **kw))
    return _Grad(fun, wrt, "grad", has_aux, backend, checkpoint_memory)


@overload
def value_and_grad(fun: Callable[P, tuple[R, A]], wrt: Wrt = 0, *, has_aux: Literal[True],
                   backend: Backend = "auto", checkpoint_memory: int | str | None = None
                   ) -> Derivative[P, tuple[tuple[R, A], Any]]: ...
@overload
def value_and_grad(fun: Callable[P, R], wrt: Wrt = 0, *, has_aux: Literal[False] = False,
                   backend: Backend = "auto", checkpoint_memory: int | str | None = None
                   ) -> Derivative[P, tuple[R, Any]]: ...
@overload
def value_and_grad(fun: None = None, wrt: Wrt = 0, *, has_aux: bool = False,
                   backend: Backend = "auto", checkpoint_memory: int | str | None = None
                   ) -> Callable[[Callable[P, R]], Derivative[P, tuple[R, Any]]]: ...
@public
def value_and_grad(fun: Callable[..., Any] | None = None, wrt: Wrt = 0, *, has_aux: bool = False,
                   backend: Backend = "auto", checkpoint_memory: int | str | None = None) -> Any:
    """Like ``grad``, returning ``(value, gradient)`` from one forward sweep.

    With ``has_aux=True`` the result is ``((value, aux), gradient)``.
    """
    kw = dict(has_aux=has_aux, backend=backend, checkpoint_memory=checkpoint_memory)
    if fun is None:
        return lambda f: value_and_grad(f, wrt, **kw)
    fun = _as_partial(fun)
    if isinstance(fun, functools.partial):
        return _bound(fun, wrt, lambda f, w: value_and_grad(f, w, **kw))
    return _Joint(fun, wrt, "value_and_grad", has_aux, backend, checkpoint_memory)


class _VJP(Transformed):
    def __call__(self, *args, **kwargs):
        try:
            args = self._args(args, kwargs)
            entry = self._entry(args)
        except AdjointError as exc:
            raise hidden(exc)
        reads = CellReads()  # what the sweep reads from closure cells, for a pullback that reruns it
        try:
            with reading_cells(reads):
                out, saved = entry["fwd"](*args)
        except Exception as exc:
            raise self._raised(exc)
        pullback = self._pullback(entry, args, saved, reads)
        if self._aux:  # the forward sweep returned ((out, aux), saved)
            out, aux = out
            return out, pullback, aux
        return out, pullback

    def _pullback(self, entry, args, saved, reads):
        """The pullback of one forward sweep; it may run any number of times."""
        from .runtime import grad_like, writable_copy
        fwd, bwd = entry["fwd"], entry["bwd"]
        wrt_values = [args[p] for p in self._positions]
        single, picks = self._single, self._picks
        # The backward sweep restores what the forward sweep overwrote, in place, as in grad:
        # the first pullback uses the forward sweep's state, each later one a fresh forward sweep
        # (copying that state instead would break the memory its arrays and views share).
        state = {"saved": saved, "args": writable_copy(args, keep_objects=True)}

        def pullback(seed):
            """The vector-Jacobian product: the adjoints of the inputs for the output's adjoint ``seed``."""
            try:
                residuals = state.pop("saved", None)
                if residuals is None:  # the function ran once: cells read as then, none written
                    with reading_cells(reads, replay=True):
                        residuals = fwd(*writable_copy(state["args"], keep_objects=True))[1]
                raw = bwd(residuals, seed)
            except Exception as exc:
                raise located(exc)
            grads = tuple(grad_like(g, x) for g, x in zip(raw, wrt_values))
            if picks is not None:
                return _picks(grads, picks, single)
            return grads[0] if single else grads

        return pullback


@overload
def vjp(fun: Callable[P, tuple[R, A]], wrt: Wrt = 0, *, has_aux: Literal[True],
        checkpoint_memory: int | str | None = None) -> Derivative[P, tuple[R, Pullback, A]]: ...
@overload
def vjp(fun: Callable[P, R], wrt: Wrt = 0, *, has_aux: Literal[False] = False,
        checkpoint_memory: int | str | None = None) -> Derivative[P, tuple[R, Pullback]]: ...
@overload
def vjp(fun: None = None, wrt: Wrt = 0, *, has_aux: bool = False,
        checkpoint_memory: int | str | None = None
        ) -> Callable[[Callable[P, R]], Derivative[P, tuple[R, Pullback]]]: ...
@public
def vjp(fun: Callable[..., Any] | None = None, wrt: Wrt = 0, *, has_aux: bool = False,
        checkpoint_memory: int | str | None = None) -> Any:
    """``vjp(fun)(*args)`` returns ``(out, pullback)``; ``pullback(seed)`` gives the input adjoints.

    The forward sweep runs once; ``pullback`` may be called any number of times
    (the equivalent of ``y.backward(v)`` for a non-scalar ``y``). With
    ``has_aux=True``, ``fun`` returns ``(out, aux)`` and the result is
    ``(out, pullback, aux)``: ``aux`` passes through without a derivative.
    ``checkpoint_memory`` as for ``grad``.
    """
    kw = dict(has_aux=has_aux, checkpoint_memory=checkpoint_memory)
    if fun is None:
        return lambda f: vjp(f, wrt, **kw)
    fun = _as_partial(fun)
    if isinstance(fun, functools.partial):
        return _bound(fun, wrt, lambda f, w: vjp(f, w, **kw))
    return _VJP(fun, wrt, "split", has_aux, checkpoint_memory=checkpoint_memory)


class _JVP(Transformed):
    """Forward mode: ``(primals, tangents) -> (out, out_tangent)``."""

    def __init__(self, fun, wrt):
        self._all = wrt is None
        super().__init__(fun, 0 if wrt is None else wrt, "jvp")
        if self._picks is not None:
            raise WrtError(f"jvp takes a tangent per whole parameter: wrt={wrt!r} reaches into "
                           "*args or **kwargs; name the whole parameter ('args', 'kwargs')")
        self._entries = {}  # (wrt names, argument ranks) -> compiled entry points
        self._last_ranks = None

    @property
    def source(self) -> str:
        wrt, ranks, classes = self._last_ranks or (self._wrt, None, None)
        return _built(self._fun, wrt, "jvp", ranks=ranks, classes=classes).source

    @public
    def __call__(self, primals, tangents):
        if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
            raise WrtError("jvp takes (primals, tangents): a tuple of the arguments and a tuple of "
                           "their tangents, e.g. jvp(f)((x,), (v,))")
        args = self._args(tuple(primals), {})
        params = list(self._signature.parameters)
        if self._all:
            if len(tangents) != len(primals):
                raise WrtError(f"jvp got {len(primals)} primals but {len(tangents)} tangents; give "
                               "one tangent per argument (None for one not to differentiate)")
            pairs = [(params[k], t) for k, t in enumerate(tangents) if t is not None]
        else:
            if len(tangents) != len(self._wrt):
                raise WrtError(f"jvp with wrt={self._wrt} needs {len(self._wrt)} tangents, "
                               f"got {len(tangents)}")
            pairs = list(zip(self._wrt, tangents))
        wrt = tuple(w for w, _ in pairs)
        for w, t in pairs:
            value = args[params.index(w)]
            _check_differentiable(w, value)
            _check_tangent(w, value, t)
        ranks, classes = tuple(map(argument_rank, args)), argument_classes(args)
        entry = self._entries.get((wrt, ranks, classes))
        if entry is None:
            entry = self._entries[wrt, ranks, classes] = _built(self._fun, wrt, "jvp", ranks=ranks,
                                                                classes=classes).entry
        self._last_ranks = (wrt, ranks, classes)
        try:
            out, out_dot = entry["main"](*args, *(t for _, t in pairs))
        except Exception as exc:
            raise located(exc)
        from .runtime import grad_like
        return out, grad_like(out_dot, out) if out is not None else None


def _check_tangent(name, value, tangent):
    from .pytree import is_record, tree_structure
    if isinstance(value, (dict, list, tuple)) or is_record(value):
        if tree_structure(value) != tree_structure(tangent):
            raise WrtError(f"the tangent of '{name}' must have the argument's structure "
                           f"{tree_structure(value)}")
        return
    if np.shape(tangent) != np.shape(value):
        raise WrtError(f"the tangent of '{name}' has shape {np.shape(tangent)} but the argument "
                       f"has shape {np.shape(value)}")


@public
def jvp(fun: Callable[..., Any] | None = None, wrt: Wrt | None = None
        ) -> Derivative[[Sequence[Any], Sequence[Any]], tuple[Any, Any]]:
    """Forward mode: ``jvp(fun)(primals, tangents)`` returns ``(out, out_tangent)``.

    ``primals`` is the tuple of arguments. Without ``wrt``, ``tangents`` has one
    entry per argument (None for one that is held fixed, such as an integer);
    with ``wrt`` (a position, name or tuple of them) one entry per ``wrt``
    argument. ``out_tangent`` is the directional derivative J·v, computed by
    generated tangent code (``.source``) in one sweep, without a tape.
    """
    if fun is None:
        return lambda f: jvp(f, wrt)
    fun = _as_partial(fun)
    if isinstance(fun, functools.partial):
        return _BoundJVP(fun, wrt)
    return _JVP(fun, wrt)


def _as_partial(fun):
    """A bound method as the partial it is: its function with ``self`` bound."""
    if isinstance(fun, types.MethodType):
        return functools.partial(fun.__func__, fun.__self__)
    return fun


class _Bound(functools.partial):
    """The derivative of a ``functools.partial``: its function's, with the bound arguments."""

    @property
    def source(self) -> str:
        return self.func.source


def _bound(partial, wrt, transform):
    """``transform`` of ``partial``'s function, ``wrt`` counting the partial's own parameters."""
    names, single = _wrt_names(partial, wrt)
    return _Bound(transform(partial.func, names[0] if single else names), *partial.args,
                  **partial.keywords)


class _BoundJVP:
    """``jvp`` of a ``functools.partial``: the bound arguments are primals with no tangent."""

    def __init__(self, partial, wrt):
        self._partial = partial
        self._own = list(inspect.signature(partial).parameters)
        self._signature = inspect.signature(_python_function(partial.func))
        self._inner = _JVP(partial.func, None if wrt is None else _wrt_names(partial, wrt)[0])
        self.__wrapped__ = partial

    @property
    def source(self) -> str:
        return self._inner.source

    def __call__(self, primals, tangents):
        p = self._partial
        bound = self._signature.bind(*p.args, *primals, **p.keywords)
        bound.apply_defaults()
        if self._inner._all:
            given = dict(zip(self._own, tangents))
            if len(tangents) != len(primals):
                raise WrtError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
            tangents = tuple(given.get(n) for n in bound.arguments)
        return self._inner(tuple(bound.arguments.values()), tangents)


@public
def source(fun: Callable[..., Any], wrt: Wrt = 0, mode: Mode = "grad",
           ranks: Sequence[int | None] | dict[str, int] | None = None,
           backend: Backend = "auto", checkpoint_memory: int | str | None = None) -> str:
    """The generated source of ``fun``'s derivative (``mode``: grad, value_and_grad, vjp or jvp).

    Without ``ranks`` the code is the one valid for any arguments (complex
    ones and containers included). ``ranks`` (one ``ndim`` per parameter, as a
    sequence or a dict by name; numbers are 0) gives the code a call with real
    arguments of those ranks compiles, as ``g.source`` shows after such a call
    (``backend`` as for ``grad``: with Numba installed, loops get Numba's code).
    A bound method gives the code for its object's class (``self`` held constant).
    ``checkpoint_memory`` as for ``grad``.
    """
    kind = {"grad": "grad", "value_and_grad": "value_and_grad", "vjp": "split",
            "jvp": "jvp"}.get(mode)
    if kind is None:
        raise AdjointError(f"unknown mode {mode!r}; use 'grad', 'value_and_grad', 'vjp' or 'jvp'")
    names, _ = _wrt_names(fun, wrt)
    ranks = _rank_tuple(fun, ranks)
    memory = None if kind == "jvp" else _budget(checkpoint_memory)
    if isinstance(fun, types.MethodType):  # the method's function, for this object's class
        rest = (None,) * len(inspect.signature(fun).parameters)
        classes = argument_classes((fun.__self__,) + rest)
        ranks = None if ranks is None else (None,) + ranks
        return _built(fun.__func__, names, kind, ranks=ranks, backend=backend,
                      classes=classes, memory=memory).source
    return _built(fun, names, kind, ranks=ranks, backend=backend, memory=memory).source


def _rank_tuple(fun, ranks):
    """``ranks`` as the tuple in parameter order that ``_built`` keys on (None: not given)."""
    if ranks is None:
        return None
    params = list(inspect.signature(fun).parameters)
    if isinstance(ranks, dict):
        unknown = set(ranks) - set(params)
        if unknown:
            raise WrtError(f"ranks names no parameter {sorted(unknown)}; the parameters are {params}")
        return tuple(ranks.get(p) for p in params)
    ranks = tuple(ranks)
    if len(ranks) != len(params):
        raise WrtError(f"ranks gives {len(ranks)} values for {len(params)} parameters {params}")
    return ranks
