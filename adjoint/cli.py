"""Command line: show or export the derivative adjoint generates for a function in a file.

    adjoint show model.py:loss --wrt w,b --mode grad      # or value_and_grad, vjp, jvp
    adjoint show model.py:loss --ranks w=0,b=0,X=1,Y=1    # the code for these real arguments
    adjoint show model.py:Model.loss                      # a method: wrt counts after self
    adjoint export model.py:loss -o loss_grad.py          # a module that needs NumPy alone
    adjoint cache info | adjoint cache clear
    adjoint --version

The file is imported under its own name, so its ``if __name__ == "__main__":``
block does not run. ``adjoint model.py:loss`` (without a verb) is ``show``.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import os
import sys
import types
import warnings
from typing import Any, Callable, Sequence

from . import __version__
from .errors import AdjointError, did_you_mean

VERBS = ("show", "export", "cache")


class CommandError(Exception):
    """A mistake in the command (no such file or function): one line, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] not in VERBS and not args[0].startswith("-"):
        args.insert(0, "show")  # the verb-less form of earlier versions
    options = _parser().parse_args(args)
    if options.verb is None:
        _parser().print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return int(options.run(options))
    except CommandError as exc:
        print(f"adjoint: error: {exc}", file=sys.stderr)
        return 2
    except AdjointError as exc:
        print(f"adjoint: {exc}", file=sys.stderr)
        return 1


def _one_line_warning(message: Warning | str, category: type[Warning], *_: Any,
                      **__: Any) -> None:
    """A warning as one line naming its kind, not the line of adjoint that issued it."""
    print(f"adjoint: {category.__name__}: {message}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="adjoint", description="Show or export the derivative "
                                     "adjoint generates for a function in a file.",
                                     epilog=f"adjoint {__version__}, from the adjoint-ad "
                                     "distribution (pip install adjoint-ad). Documentation: "
                                     "https://github.com/adjoint-ad/adjoint")
    parser.add_argument("--version", action="version", version=f"adjoint {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="{show,export,cache}")
    show = verbs.add_parser("show", help="print the generated derivative of FILE:FUNC")
    _target_options(show)
    show.add_argument("--backend", default="auto", choices=["auto", "numpy", "numba"],
                      help="the code for this backend (Numba's preallocates some tapes)")
    show.set_defaults(run=_show)
    export = verbs.add_parser("export", help="write the derivative as a module needing only NumPy")
    _target_options(export)
    export.add_argument("-o", "--output", help="the module to write (default: standard output)")
    export.set_defaults(run=_export)
    cache = verbs.add_parser("cache", help="the disk cache of compiled derivatives")
    cache.add_argument("action", choices=["info", "clear"])
    cache.set_defaults(run=_cache)
    return parser


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help="FILE.py:FUNCTION or FILE.py:Class.method")
    parser.add_argument("--wrt", help="parameters to differentiate, by name or position, "
                        "comma-separated (default: the first, after self for a method)")
    parser.add_argument("--mode", default="grad", choices=["grad", "value_and_grad", "vjp", "jvp"])
    parser.add_argument("--ranks", help="the code for real arguments of these ranks (ndim; 0 for "
                        "numbers): one per parameter, 0,0,1,1, or by name, w=0,X=1")


def _show(options: argparse.Namespace) -> int:
    from .api import source
    fn, wrt, ranks = _resolve_target(options)
    sys.stdout.write(source(fn, wrt, options.mode, ranks, options.backend))
    return 0


def _export(options: argparse.Namespace) -> int:
    fn, wrt, ranks = _resolve_target(options)
    text = export_module(fn, wrt, options.mode, ranks)
    if options.output:
        with open(options.output, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {options.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def export_module(fn: Callable[..., Any], wrt: Any, mode: str, ranks: Any) -> str:
    """The standalone module of ``fn``'s derivative (see ``adjoint.export``)."""
    from . import api, export
    kind = {"grad": "grad", "value_and_grad": "value_and_grad", "vjp": "split", "jvp": "jvp"}[mode]
    names, _ = api._wrt_names(fn, wrt)
    built = api._built(fn, names, kind, ranks=api._rank_tuple(fn, ranks), backend="numpy")
    namespace = next(iter(built.entry.values())).__globals__
    return export.standalone(fn, built.source, namespace, fn.__module__)


def _cache(options: argparse.Namespace) -> int:
    from . import cache
    if options.action == "clear":
        print(f"removed {cache.clear()} environment folder(s) from {cache.root()}")
        return 0
    info = cache.usage()
    print(f"cache: {info.root}")
    print(f"this environment: {info.environment}")
    print(f"limit: {info.max_bytes / 2 ** 20:.0f} MB per environment (ADJOINT_CACHE_MAX_MB)")
    for folder, (entries, size) in info.folders.items():
        print(f"  {os.path.basename(folder)}: {entries} entries, {size / 2 ** 20:.1f} MB")
    return 0


# -- the target ---------------------------------------------------------------------------
def _resolve_target(options: argparse.Namespace) -> tuple[Callable[..., Any], Any, Any]:
    """The function of ``options.target``, and ``--wrt``/``--ranks`` for it."""
    path, _, dotted = options.target.rpartition(":")
    if not path or not dotted:
        raise CommandError(f"the target must look like FILE.py:FUNCTION, not {options.target!r}")
    fn, skip = _function(_load(path), dotted, path)
    try:
        ranks = _ranks(options.ranks, skip)
    except ValueError:
        raise CommandError(f"--ranks wants integers, as in 0,0,1,1 or w=0,X=1; got "
                           f"{options.ranks!r}") from None
    return fn, _wrt(options.wrt, skip), ranks


def _load(path: str) -> types.ModuleType:
    """Import the file ``path`` as a module named after it (never as ``__main__``)."""
    if not os.path.isfile(path):
        raise CommandError(f"no such file: {path}")
    name = os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules or not name.isidentifier():
        name = f"adjoint_target_{abs(hash(os.path.abspath(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CommandError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        with contextlib.redirect_stdout(sys.stderr):  # what the file prints is not the output
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        raise CommandError(f"importing {path} raised {type(exc).__name__}: {exc}") from None
    return module


def _function(module: types.ModuleType, dotted: str, path: str) -> tuple[Callable[..., Any], int]:
    """The function ``dotted`` names in ``module``, and how many leading parameters to skip."""
    owner: Any = module
    parts = dotted.split(".")
    for k, part in enumerate(parts):
        if not hasattr(owner, part):
            where = path if k == 0 else f"{path}:{'.'.join(parts[:k])}"
            raise CommandError(f"{where} defines no {part!r}"
                               f"{did_you_mean(part, [*vars(owner), *dir(owner)])}")
        parent, owner = owner, inspect.getattr_static(owner, part)
    if isinstance(owner, staticmethod):
        return owner.__func__, 0
    if isinstance(owner, classmethod):
        return owner.__func__, 1
    if isinstance(owner, types.FunctionType):
        return owner, int(inspect.isclass(parent))  # a method's self
    fn = getattr(owner, "__wrapped__", getattr(owner, "py_func", None))
    if isinstance(fn, types.FunctionType):  # a decorated function (adjoint.grad, numba.njit)
        return fn, 0
    raise CommandError(f"{path}:{dotted} is a {type(owner).__name__}, not a function")


def _wrt(text: str | None, skip: int) -> Any:
    """``--wrt`` as ``source`` takes it; positions count after a method's self."""
    if not text:
        return skip
    items: list[Any] = [int(w) + skip if w.strip().lstrip("-").isdigit() else w.strip()
                        for w in text.split(",")]
    return items[0] if len(items) == 1 else tuple(items)


def _ranks(text: str | None, skip: int) -> Any:
    """``0,0,1,1`` (one per parameter) or ``w=0,X=1`` (by name; the others unknown)."""
    if not text:
        return None
    items = [t.strip() for t in text.split(",")]
    if all("=" in t for t in items):
        return {k.strip(): int(v) for k, v in (t.split("=", 1) for t in items)}
    return [None] * skip + [int(t) for t in items]


if __name__ == "__main__":
    raise SystemExit(main())
