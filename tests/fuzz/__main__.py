"""Long mode: ``python -m tests.fuzz --count 20000 --seed 0 --families all --out fuzz-failures``."""
import argparse
import os
import sys

from . import families, runner


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--count", type=int, default=1000, help="programs to check")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed (program k has seed*10^6+k)")
    parser.add_argument("--start", type=int, default=0, help="first program index (to resume or split a run)")
    parser.add_argument("--families", default="ci",
                        help="'ci' (what the test suite runs), 'all', or names, e.g. 'ci,aliasing,-hvp'")
    parser.add_argument("--numba", type=int, default=50, help="at most this many programs also on Numba")
    parser.add_argument("--hash", type=int, default=100, help="programs whose source is compared across hash seeds")
    parser.add_argument("--out", default="fuzz-failures", help="directory for failing programs and summary.txt")
    parser.add_argument("--shrink", type=int, default=3, help="failures of each class to shrink (0: none)")
    args = parser.parse_args(argv)
    os.environ.setdefault("ADJOINT_CHECK_TAPES", "1")  # as in the test suite: tapes end empty
    summary = runner.run(seed=args.seed, count=args.count, families=families.parse(args.families),
                         numba_limit=args.numba, hash_limit=args.hash, shrink=args.shrink,
                         out_dir=args.out, log=lambda line: print(line, flush=True), start=args.start)
    print(summary.report())
    print(f"failing programs written to {args.out}/")
    return 1 if summary.failures else 0


if __name__ == "__main__":
    sys.exit(main())
