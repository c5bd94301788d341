"""CI mode of the differential fuzzer (run by hand until its findings are fixed: see docs/testing.md).

ADJOINT_FUZZ_COUNT, ADJOINT_FUZZ_SEED and ADJOINT_FUZZ_FAMILIES (see
tests/fuzz/families.py and docs/testing.md) scale the run up or widen it.
"""
import importlib.util
import os

import pytest

from . import families, generator, runner

COUNT = int(os.environ.get("ADJOINT_FUZZ_COUNT", "300"))
SEED = int(os.environ.get("ADJOINT_FUZZ_SEED", "0"))
FAMILIES = families.parse(os.environ.get("ADJOINT_FUZZ_FAMILIES", "ci"))
NUMBA = importlib.util.find_spec("numba") is not None


def test_fuzz_ci():
    chosen = FAMILIES if NUMBA else tuple(f for f in FAMILIES if f != "numba")
    summary = runner.run(seed=SEED, count=COUNT, families=chosen, numba_limit=6, hash_limit=30)
    report = summary.report()
    shown = "\n\n".join(f.text() for f in summary.failures[:5])
    assert not summary.failures, f"{report}\n\n{shown}"
    assert summary.status["invalid"] < COUNT // 10, report  # the generator stays inside the subset
    assert summary.status["ok"] + summary.status["refused"] > COUNT // 2, report


def test_same_seed_same_program():
    a, b = generator.generate(5, families.ALL), generator.generate(5, families.ALL)
    assert a.source == b.source and a.wrt == b.wrt


def test_pending_families_are_known():
    assert set(families.PENDING) <= set(families.FAMILIES)
    assert not set(families.CI) & set(families.PENDING)


@pytest.mark.parametrize("family", sorted(families.PENDING))
def test_each_pending_family_is_generated(family):
    """A family switched on by the lead must really produce its constructs."""
    if family in families.CHECKS:
        return
    used = set()
    for seed in range(60):
        used |= generator.generate(seed, families.CI + (family,)).used
    assert family in used
