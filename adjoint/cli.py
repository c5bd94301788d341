"""Command line: print the derivative adjoint generates for a function in a file.

    adjoint model.py:loss --wrt w,b --mode grad      # or value_and_grad, vjp, jvp
    adjoint model.py:loss --wrt w,b --ranks w=0,b=0,X=1,Y=1   # for these real arguments
    python -m adjoint model.py:loss
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys

from .api import source
from .errors import AdjointError


def _load(path: str):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"adjoint: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec.loader.exec_module(module)
    return module


def _wrt(text: str | None):
    if not text:
        return 0
    items = [int(w) if w.strip().lstrip("-").isdigit() else w.strip() for w in text.split(",")]
    return items[0] if len(items) == 1 else tuple(items)


def _ranks(text: str | None):
    """``0,0,1,1`` (one per parameter) or ``w=0,X=1`` (by name; the others unknown)."""
    if not text:
        return None
    items = [t.strip() for t in text.split(",")]
    if all("=" in t for t in items):
        return {k.strip(): int(v) for k, v in (t.split("=", 1) for t in items)}
    return [int(t) for t in items]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="adjoint", description=__doc__.splitlines()[0])
    parser.add_argument("target", help="FILE.py:FUNCTION")
    parser.add_argument("--wrt", help="parameters to differentiate, by name or position, comma-separated")
    parser.add_argument("--mode", default="grad", choices=["grad", "value_and_grad", "vjp", "jvp"])
    parser.add_argument("--ranks", help="the code for real arguments of these ranks (ndim; 0 for "
                        "numbers): one per parameter, 0,0,1,1, or by name, w=0,X=1")
    args = parser.parse_args(argv)
    path, _, func = args.target.rpartition(":")
    if not path or not func:
        parser.error("target must look like FILE.py:FUNCTION")
    fn = getattr(_load(path), func, None)
    if fn is None:
        parser.error(f"{path} defines no function {func!r}")
    try:
        ranks = _ranks(args.ranks)
    except ValueError:
        parser.error(f"--ranks wants integers, as in 0,0,1,1 or w=0,X=1; got {args.ranks!r}")
    try:
        sys.stdout.write(source(getattr(fn, "__wrapped__", fn), _wrt(args.wrt), args.mode, ranks))
    except AdjointError as exc:
        print(f"adjoint: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
