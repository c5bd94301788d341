"""The disk cache: where it lives, one folder per environment, bounded in size."""
import os
import sys

import pytest

from adjoint import cache


def test_the_suite_uses_a_temporary_cache():
    assert os.path.basename(cache.root()).startswith("adjoint-test-cache-")
    assert not cache.root().startswith(os.path.expanduser("~/.cache"))


def test_root_follows_platformdirs_then_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("ADJOINT_CACHE")
    monkeypatch.setitem(sys.modules, "platformdirs", None)  # as if not installed
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.root() == os.path.join(str(tmp_path), "adjoint")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.root() == os.path.join(os.path.expanduser("~"), ".cache", "adjoint")
    monkeypatch.delitem(sys.modules, "platformdirs")  # installed or not, as it really is
    platformdirs = pytest.importorskip("platformdirs")
    assert cache.root() == platformdirs.user_cache_dir("adjoint", appauthor=False)


def test_adjoint_cache_wins_and_each_environment_has_a_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("ADJOINT_CACHE", str(tmp_path))
    folder = cache.environment_dir()
    assert os.path.dirname(folder) == str(tmp_path) and os.path.basename(folder).startswith("env-")
    assert os.path.isdir(folder)


def entry(folder, name, size, mtime):
    """A generated module and one file Numba would keep for it, written at ``mtime``."""
    paths = [os.path.join(folder, f"adjoint_generated_{name}.py"),
             os.path.join(folder, "__pycache__", f"adjoint_generated_{name}.f-3.py311.nbc")]
    os.makedirs(os.path.dirname(paths[1]), exist_ok=True)
    for p in paths:
        with open(p, "wb") as f:
            f.write(b"x" * size)
        os.utime(p, (mtime, mtime))


def test_prune_removes_the_oldest_whole_entries(tmp_path):
    for k, name in enumerate("abcd"):
        entry(str(tmp_path), name, 100, 1000 + k)
    assert cache.prune(str(tmp_path), max_bytes=450) == 2  # 4 entries of 200 bytes: keep 2
    left = sorted(os.listdir(tmp_path)) + sorted(os.listdir(tmp_path / "__pycache__"))
    assert left == ["__pycache__", "adjoint_generated_c.py", "adjoint_generated_d.py",
                    "adjoint_generated_c.f-3.py311.nbc", "adjoint_generated_d.f-3.py311.nbc"]
    assert cache.prune(str(tmp_path), max_bytes=0, keep="adjoint_generated_d") == 1
    assert sorted(os.listdir(tmp_path)) == ["__pycache__", "adjoint_generated_d.py"]


def test_the_limit_comes_from_the_environment(monkeypatch, tmp_path):
    entry(str(tmp_path), "a", 2 ** 20, 1000)
    entry(str(tmp_path), "b", 2 ** 20, 2000)
    monkeypatch.setenv("ADJOINT_CACHE_MAX_MB", "3")
    assert cache.prune(str(tmp_path)) == 1
    assert cache.usage().max_bytes == 3 * 2 ** 20


def test_the_numba_backend_writes_into_the_cache(monkeypatch, tmp_path):
    pytest.importorskip("numba")
    import numpy as np

    import adjoint
    from . import constructs as c
    monkeypatch.setenv("ADJOINT_CACHE", str(tmp_path))
    adjoint.grad(c.scalar_loop, backend="numba")(0.9, 0.3, 0.5)
    files = os.listdir(cache.environment_dir())
    assert any(f.startswith("adjoint_generated_") and f.endswith(".py") for f in files)
    assert np.isfinite(adjoint.grad(c.scalar_loop, backend="numba")(0.9, 0.3, 0.5))


def test_another_version_of_a_twin_gets_another_folder(tmp_path):
    """Numba's cache index sees only a generated module's file: machine code compiled with an
    older runtime helper or Numba twin must not be found after either changes."""
    import shutil

    package = os.path.dirname(cache.__file__)
    for folder in ("runtime", os.path.join("backends", "numba")):
        shutil.copytree(os.path.join(package, folder), tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    before = cache._compiled_code.__wrapped__(str(tmp_path))  # not remembered: it changes
    assert before == cache._compiled_code(package)
    with open(tmp_path / "backends" / "numba" / "core.py", "a") as f:
        f.write("\n# a changed twin\n")
    assert cache._compiled_code.__wrapped__(str(tmp_path)) != before
