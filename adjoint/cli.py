"""Command line: print the derivative adjoint generates for a function in a file.

    adjoint model.py:loss --wrt w,b --mode grad      # or value_and_grad, vjp, jvp
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="adjoint", description=__doc__.splitlines()[0])
    parser.add_argument("target", help="FILE.py:FUNCTION")
    parser.add_argument("--wrt", help="parameters to differentiate, by name or position, comma-separated")
    parser.add_argument("--mode", default="grad", choices=["grad", "value_and_grad", "vjp", "jvp"])
    args = parser.parse_args(argv)
    path, _, func = args.target.rpartition(":")
    if not path or not func:
        parser.error("target must look like FILE.py:FUNCTION")
    fn = getattr(_load(path), func, None)
    if fn is None:
        parser.error(f"{path} defines no function {func!r}")
    try:
        sys.stdout.write(source(getattr(fn, "__wrapped__", fn), _wrt(args.wrt), args.mode))
    except AdjointError as exc:
        print(f"adjoint: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
