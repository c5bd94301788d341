"""The Numba backend: the same generated source, compiled with ``numba.njit``.

This is the only module that imports numba, and it does so lazily. The
generated module is written to a file in the disk cache (``adjoint.cache``: the
user cache directory, or ``ADJOINT_CACHE``) named by the hash of its text, imported from
there and each function wrapped in ``njit`` — from a real file, so Numba's
on-disk cache can reuse the machine code in the next process. The runtime
helpers the generated code calls are given Numba implementations with
``numba.extending.overload`` by this package's modules, which mirror
``adjoint/runtime/`` (``core.py`` holds the twins of ``runtime/core.py``, and so
on), so the source stays identical on both backends.

Numba resolves globals once, at compilation; values the code reads from the
user's module are therefore frozen, and the on-disk cache is used only when
the code reads no such values (only modules and functions, none of them a Python
function of the user's: that one is njit-compiled into the module, and the cache's
key does not see its source).

A function Numba cannot compile is not an error: the caller falls back to the
NumPy backend with one ``BackendWarning`` naming the function and Numba's reason.
"""
from __future__ import annotations

import hashlib
import importlib.util
import linecache
import os
import re
import sys
import tempfile
import threading
import traceback
import types as pytypes
import warnings


from ... import cache
from ...errors import BackendWarning, _ours, generated_origin

_REGISTERED = False
_REGISTER_LOCK = threading.Lock()


def available() -> bool:
    """Whether numba can be imported (without importing it twice)."""
    if "numba" in sys.modules:
        return True
    return importlib.util.find_spec("numba") is not None


def cache_dir() -> str:
    """This environment's folder of the disk cache (see ``adjoint.cache``)."""
    return cache.environment_dir()


def _write_once(path: str, source: str) -> None:
    """Put ``source`` at ``path`` atomically: readers see no file or the whole file.

    Each writer (thread or process) writes its own temporary file in the same
    directory and renames it into place; equal names mean equal text, so the
    last rename wins harmlessly.
    """
    if os.path.exists(path):
        return
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(source)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _module_from_file(source: str, values: dict):
    """A fresh module of ``source``, from its file, with ``values`` bound before its code runs."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    name = f"adjoint_generated_{digest}"
    path = os.path.join(cache_dir(), name + ".py")
    if not os.path.exists(path):
        _write_once(path, source)
        cache.prune(keep=name)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(values)  # defaults in signatures read them as the module runs
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def compile_functions(source: str, names: list, user_values: dict, cacheable: bool) -> dict:
    """njit-compiled functions of the module ``source``; compilation happens at the first call."""
    import numba
    _register()
    _quiet_performance_hints(numba)
    from .users import jitted_users
    module = _module_from_file(source, jitted_users(user_values))
    jitted = {}
    for fname in names:
        jitted[fname] = numba.njit(cache=cacheable)(getattr(module, fname))
    for fname, fn in jitted.items():
        setattr(module, fname, fn)  # calls between generated functions reach the compiled ones
    return jitted


def _quiet_performance_hints(numba):
    """Numba's performance hints about generated code (``'@' is faster on contiguous arrays``)
    are not shown: the user cannot act on them. A hint about the user's own functions, which
    their files name, still is. Set at each compilation, since ``warnings.catch_warnings``
    (a test's, a user's) restores the filters it found; an equal filter is replaced, not added."""
    warnings.filterwarnings("ignore", category=numba.core.errors.NumbaPerformanceWarning,
                            module=r".*adjoint_generated_")


def users_function(value) -> bool:
    """A plain Python function of the user's: not a library's (Numba compiles its own NumPy,
    and what a library does is its business), not adjoint's (its helpers have Numba twins)."""
    from ...passes.objects import is_library
    if not isinstance(value, pytypes.FunctionType) or is_library(value):
        return False
    return not os.path.realpath(value.__code__.co_filename).startswith(_ADJOINT)


_ADJOINT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))) + os.sep


class Fallback:
    """Call the compiled function; if Numba cannot compile it, warn once and use NumPy for good.

    Numba compiles per argument types, so a refusal can come at any call (a
    float32 array after float64 ones), not only the first. The NumPy twin runs
    the call before anything is said: if it raises, the error is the user's
    own (Numba only met it first), and it surfaces without a warning.
    """

    def __init__(self, jitted, plain, label, filename=None):
        self.jitted = jitted
        self.plain = plain
        self.label = label
        self.filename = filename  # the generated module's name in ``linecache``
        self.call = jitted
        self._lock = threading.Lock()

    @property
    def compiled(self) -> bool:
        """Whether calls still run Numba's machine code (False once it fell back)."""
        return self.call is self.jitted

    def __call__(self, *args):
        call = self.call
        if call is self.plain:
            return call(*args)
        try:
            return call(*args)
        except _refusals() as exc:
            refusal = exc
        result = self.plain(*args)  # outside the handler: a user error is not chained to Numba's
        self._give_up(refusal)
        return result

    def _give_up(self, exc):
        """Use NumPy from now on; the first thread to get here warns, at the user's call."""
        with self._lock:
            if self.call is self.plain:
                return
            self.call = self.plain
        warnings.warn(BackendWarning(
            f"Numba cannot compile {self.label}{self._where(exc)}; using the NumPy backend. "
            f"Numba said: {numba_reason(exc)}"), stacklevel=_caller_level())

    def _where(self, exc):
        """`` at file.py:line (the user's statement)`` for the line Numba's error points at."""
        found = re.search(r'File "[^"]*adjoint_generated_\w+\.py", line (\d+)', str(exc))
        line = int(found.group(1)) if found else _lowered_line(exc)
        place = line and self.filename and generated_origin(self.filename, line)
        if not place:
            return ""
        path, line = place
        text = linecache.getline(path, line).strip()
        return f" at {os.path.basename(path)}:{line}" + (f" ({text})" if text else "")


class Tiered(Fallback):
    """``backend="auto"``: the NumPy twin answers while Numba compiles in a background thread.

    The first call runs on NumPy and then starts one thread, which imports
    numba, compiles for the first call's argument types (or loads them from
    the disk cache) and switches calls over; from then on this is a
    ``Fallback``. A refusal in the thread is reported as a ``BackendWarning``
    at the next call, in the caller's thread. Both backends run the same
    source, so results agree to rounding whichever answers. The thread is not
    a daemon: a process that exits meanwhile waits for it, so the disk cache
    is written for the next process.
    """

    def __init__(self, make, plain, label, filename=None):
        super().__init__(None, plain, label, filename)
        self.call = plain
        self._make = make  # () -> the Numba dispatcher; imports numba
        self._thread = None
        self._refused = None

    @property
    def compiled(self) -> bool:
        return self.jitted is not None and self.call is self.jitted

    def __call__(self, *args):
        if self.call is self.jitted:
            return super().__call__(*args)
        result = self.plain(*args)
        if self._thread is None:
            self._start(args)
        elif self._refused is not None:
            self._report()
        return result

    def _start(self, args):
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._compile, args=(args,),
                                            name=f"adjoint: Numba for {self.label}")
        self._thread.start()

    def _compile(self, args):
        try:
            import numba
            jitted = self._make()
            jitted.compile(tuple(numba.typeof(a) for a in args))
        except Exception as exc:  # anything: NumPy keeps answering, and the next call says why
            self._refused = exc
            return
        self.jitted = jitted
        self.call = jitted

    def _report(self):
        with self._lock:
            exc, self._refused = self._refused, None
            if exc is None:
                return
        warnings.warn(BackendWarning(
            f"Numba cannot compile {self.label}{self._where(exc)}; using the NumPy backend. "
            f"Numba said: {numba_reason(exc)}"), stacklevel=_caller_level())

    def wait(self, timeout=None) -> bool:
        """Wait for the background compilation (for tests and benchmarks); whether it compiled."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.compiled


_REASONS = ("Untyped global name", "No implementation of function")


def numba_reason(exc) -> str:
    """Numba's reason in one line: the first "Untyped global name ..." or "No implementation
    of function ..." line (with the signature it could not match), else its first line that
    is not the pipeline's "Failed in ..." banner (a name Numba could not unify given as the
    user's, not as its SSA version in the generated file), else the line of Numba's that raised."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # Numba may colour its messages
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for k, line in enumerate(lines):
        if line.startswith(_REASONS):
            line = re.sub(r" at 0x[0-9a-f]+", "", line)
            if line.endswith("found for signature:") and k + 1 < len(lines):
                line += " " + lines[k + 1].lstrip("> ")
            return line
    rest = [line for line in lines if not line.startswith("Failed in ")]
    if not rest:
        return _failed_inside(exc)
    return re.sub(r"for '(\w+)\.\d+', defined at \S+adjoint_generated_\w+\.py \(\d+\)", r"for '\1'", rest[0])


def _failed_inside(exc) -> str:
    """A message-less error (an assertion of Numba's own failing, such as its lowering of a
    mask of two axes): its type and the line of Numba's it came from."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return (f"{type(exc).__name__} in Numba's {last.name} "
            f"({os.path.basename(last.filename)}:{last.lineno}: {last.line})")


def _lowered_line(exc):
    """The generated line Numba was lowering when ``exc`` came (its message names none)."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        loc = getattr(tb.tb_frame.f_locals.get("self"), "loc", None)
        if "adjoint_generated_" in str(getattr(loc, "filename", "")):
            line = loc.line
        tb = tb.tb_next
    return line


def _caller_level() -> int:
    """The ``stacklevel`` naming the first frame outside adjoint's modules (the user's call)."""
    frame, level = sys._getframe(2), 2  # the caller of the function that calls this one
    while frame is not None and _ours(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    return level


def _refusals():
    """The exceptions by which Numba says it cannot compile or run a function.

    A ``TypeError`` is one too: compiled code checks the types a name takes at
    run time (``expected array(float64, 1d, C), got None`` for a name that is an
    array on one path and unbound on another). The NumPy twin then runs the
    call again, and raises the user's own ``TypeError`` if it was one. An
    ``ImportError`` is Numba missing an optional dependency (``np.dot`` needs SciPy).
    ``UnsupportedBytecodeError`` (not a ``NumbaError``) and ``AttributeError`` are Numba failing
    on a try of the forward sweep (``except E as e``, ``except (A, B)``); an ``AssertionError``
    is Numba's own lowering failing (boolean-mask indexing of some kinds), and a genuine one (the
    tape check) is raised again by the NumPy twin. A ``ValueError`` is Numba's NumPy differing
    from NumPy (its ``eigvals`` of a real matrix with complex eigenvalues refuses the "domain
    change"); the NumPy twin raises a genuine one again. A ``RuntimeError`` is Numba's cache
    failing to save a function another thread compiles at the same time ("no compiled object
    yet"); the next process compiles it again.
    """
    import numba
    errors = numba.core.errors
    return (errors.NumbaError, errors.UnsupportedBytecodeError, NotImplementedError, TypeError,
            ImportError, AttributeError, AssertionError, ValueError, RuntimeError)


# -- runtime helpers inside njit ------------------------------------------------------
def _register():
    """Give each runtime helper generated loop code calls an implementation Numba can compile.

    The implementations live in the modules of this package that mirror
    ``adjoint/runtime/`` (``core``, ``ufuncs``, ...); importing them registers them.
    """
    global _REGISTERED
    with _REGISTER_LOCK:
        if not _REGISTERED:
            from . import builders, builtins, core, fft, linalg, numpy, reductions, shapes, ufuncs  # noqa: F401
            _REGISTERED = True


def user_values(live, names) -> tuple[dict, bool]:
    """The values of the user's globals the generated code reads, and whether caching is safe."""
    values, cacheable = {}, True
    for n in names:
        try:
            value = live[n]
        except KeyError:
            continue
        values[n] = value
        if not isinstance(value, (pytypes.ModuleType, pytypes.FunctionType, pytypes.BuiltinFunctionType)) \
                and not callable(value) or users_function(value):  # its source is not in the key
            cacheable = False
    return values, cacheable
