"""The disk cache of compiled derivatives (the Numba backend's generated modules and machine code).

It lives in the platform's user cache directory (``platformdirs`` when
installed, else ``$XDG_CACHE_HOME/adjoint`` or ``~/.cache/adjoint``), or in
``$ADJOINT_CACHE``. Each Python environment has a folder of its own, since
cached machine code may call into the environment's libraries (``np.dot`` into
SciPy's BLAS) and can crash another. The cache is bounded: after each new
entry the least recently written entries are removed until it holds at most
``ADJOINT_CACHE_MAX_MB`` megabytes (default 256).
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass

__all__ = ["root", "environment_dir", "Usage", "usage", "clear", "prune"]

ENTRY_PREFIX = "adjoint_generated_"
DEFAULT_MAX_MB = 256


def root() -> str:
    """The cache's top folder (not created here)."""
    explicit = os.environ.get("ADJOINT_CACHE")
    if explicit:
        return explicit
    try:
        import platformdirs
        return platformdirs.user_cache_dir("adjoint", appauthor=False)
    except ImportError:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return os.path.join(base, "adjoint")


def environment_dir() -> str:
    """This Python environment's folder of the cache, created when missing."""
    path = os.path.join(root(), _environment())
    os.makedirs(path, exist_ok=True)
    return path


def _environment() -> str:
    import numpy
    scipy = importlib.util.find_spec("scipy") is not None
    key = f"{sys.prefix}|{sys.version}|{numpy.__version__}|{scipy}|{_compiled_code()}"
    return "env-" + hashlib.sha256(key.encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=None)
def _compiled_code(here: str = os.path.dirname(os.path.abspath(__file__))) -> str:
    """A digest of what cached machine code is compiled from besides its module's text: the
    runtime helpers and their Numba twins under the package folder ``here`` (Numba's own
    cache index sees only the module's file, so after an upgrade of adjoint it would keep
    running the old twins)."""
    digest = hashlib.sha256()
    for folder in ("runtime", os.path.join("backends", "numba")):
        for name in sorted(os.listdir(os.path.join(here, folder))):
            if name.endswith(".py"):
                with open(os.path.join(here, folder, name), "rb") as f:
                    digest.update(name.encode() + b"\0" + f.read())
    return digest.hexdigest()[:16]


def _environments() -> list[str]:
    top = root()
    if not os.path.isdir(top):
        return []
    return [os.path.join(top, d) for d in sorted(os.listdir(top)) if d.startswith("env-")]


def _entries(folder: str) -> dict[str, list[str]]:
    """Each entry's files (its module and Numba's files for it), by entry name."""
    entries: dict[str, list[str]] = {}
    for base, _, files in os.walk(folder):
        for f in files:
            if f.startswith(ENTRY_PREFIX):
                entries.setdefault(f.split(".")[0], []).append(os.path.join(base, f))
    return entries


def _size(paths: list[str]) -> int:
    return sum(os.path.getsize(p) for p in paths if os.path.exists(p))


@dataclass(frozen=True)
class Usage:
    """Where the cache is, and what each environment's folder holds."""
    root: str
    environment: str  # this environment's folder
    folders: dict[str, tuple[int, int]]  # folder -> (entries, bytes)
    max_bytes: int  # the bound per folder


def usage() -> Usage:
    """Where the cache is, and how many entries and bytes each environment's folder holds."""
    folders = {}
    for env in _environments():
        entries = _entries(env)
        folders[env] = (len(entries), sum(_size(files) for files in entries.values()))
    return Usage(root(), os.path.join(root(), _environment()), folders, _max_bytes())


def clear() -> int:
    """Remove every environment's folder of the cache; returns how many were removed."""
    folders = _environments()
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return len(folders)


def _max_bytes() -> int:
    text = os.environ.get("ADJOINT_CACHE_MAX_MB", "")
    try:
        return int(float(text) * 2 ** 20) if text else DEFAULT_MAX_MB * 2 ** 20
    except ValueError:
        return DEFAULT_MAX_MB * 2 ** 20


def prune(folder: str | None = None, max_bytes: int | None = None, keep: str = "") -> int:
    """Remove the least recently written entries of ``folder`` beyond ``max_bytes``; returns the count.

    Entries are whole: a generated module goes with Numba's files for it. The
    entry ``keep`` (the one just written, still in use) stays. A file another
    process removes first is no error.
    """
    folder = folder or environment_dir()
    limit = _max_bytes() if max_bytes is None else max_bytes
    entries = _entries(folder)
    entries.pop(keep, None)
    sizes = {name: _size(files) for name, files in entries.items()}
    total = sum(sizes.values())
    removed = 0
    for name in sorted(entries, key=lambda n: _newest(entries[n])):
        if total <= limit:
            break
        for path in entries[name]:
            _remove(path)
        total -= sizes[name]
        removed += 1
    return removed


def _newest(paths: list[str]) -> float:
    return max((os.path.getmtime(p) for p in paths if os.path.exists(p)), default=0.0)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
