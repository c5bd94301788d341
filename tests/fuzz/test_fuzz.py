"""CI mode of the differential fuzzer: 300 seeded programs with the families that pass today.

ADJOINT_FUZZ_COUNT, ADJOINT_FUZZ_SEED and ADJOINT_FUZZ_FAMILIES (see
tests/fuzz/families.py and docs/testing.md) scale the run up or widen it.
"""
import importlib.util
import os

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


def test_every_construct_family_is_generated():
    """A family the lead switches on must really produce its constructs."""
    used = set()
    for seed in range(100):
        used |= generator.generate(seed, families.ALL).used
    assert set(families.CONSTRUCTS) <= used, set(families.CONSTRUCTS) - used


def test_refusals_group_by_message_and_check_the_line():
    from .checks import _mentions, named, normal
    msg = "'x_bar_' is changed in place here, and 'b' may refer to the same array; (x = x.copy())"
    assert normal(msg) == "'X' is changed in place here, and 'X' may refer to the same array; (X = X.copy())"
    assert named(msg) == ["x_bar_", "b"]
    assert not any(_mentions("    x_bar[0] = 1.0", q) for q in named(msg))
    assert named("no derivative rule for reversed; register") == ["reversed"]
    assert named("numpy.where is not differentiable") == ["where"]
