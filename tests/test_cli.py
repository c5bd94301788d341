"""The command line: show, export (a module that runs without adjoint), cache, --version, errors."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import adjoint

HERE = os.path.dirname(__file__)
TARGET = os.path.join(HERE, "cli_target.py")


def run(*args, env=None):
    root = os.path.dirname(os.path.dirname(adjoint.__file__))
    env = dict(os.environ, PYTHONPATH=root, **(env or {}))
    return subprocess.run([sys.executable, "-m", "adjoint", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_prints_source():
    out = run(os.path.join(HERE, "constructs.py") + ":scalar_loop", "--wrt", "a,b")
    assert out.returncode == 0, out.stderr
    assert "def scalar_loop_grad(a, b, x0):" in out.stdout
    assert "x_tape.append(x)" in out.stdout


def test_show_verb_backend_and_the_files_own_output():
    out = run("show", TARGET + ":loss", "--backend", "numpy")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# grad of loss (cli_target.py:")
    assert "def loss_grad(w, X, y):" in out.stdout and "helper_bwd" in out.stdout
    assert "importing cli_target" in out.stderr and "main block" not in out.stdout + out.stderr


def test_show_a_method_counts_wrt_after_self():
    out = run("show", TARGET + ":Model.loss", "--mode", "value_and_grad")
    assert out.returncode == 0, out.stderr
    assert "def loss_value_and_grad(self, w, X):" in out.stdout
    assert "with respect to w." in out.stdout
    by_position = run("show", TARGET + ":Model.loss", "--wrt", "1")
    assert "with respect to X." in by_position.stdout
    static = run("show", TARGET + ":Model.plain")
    assert static.returncode == 0 and "def plain_grad(w):" in static.stdout


def test_vjp_mode():
    out = run(os.path.join(HERE, "constructs.py") + ":while_doubling", "--mode", "vjp")
    assert out.returncode == 0, out.stderr
    assert "def while_doubling_bwd(saved, seed):" in out.stdout


def test_jvp_mode():
    out = run(os.path.join(HERE, "constructs.py") + ":scalar_loop", "--wrt", "a", "--mode", "jvp")
    assert out.returncode == 0, out.stderr
    assert "def scalar_loop_jvp(a, b, x0, a_dot):" in out.stdout
    assert "_tape" not in out.stdout


def test_error_names_line():
    out = run(os.path.join(HERE, "bad_functions.py") + ":uses_try")
    assert out.returncode == 1
    assert "bad_functions.py:" in out.stderr and "try" in out.stderr


@pytest.mark.parametrize("target, words", [
    ("no_such_file.py:loss", "no such file: no_such_file.py"),
    (TARGET + ":nothing", "cli_target.py defines no 'nothing'"),
    (TARGET + ":Model.nothing", "cli_target.py:Model defines no 'nothing'"),
    (TARGET + ":SCALE", "is a float, not a function"),
    ("loss", "must look like FILE.py:FUNCTION"),
])
def test_a_missing_file_or_function_is_one_line_and_status_2(target, words):
    for verb in ("show", "export"):
        out = run(verb, target)
        assert out.returncode == 2, out.stderr
        lines = [line for line in out.stderr.splitlines() if line != "importing cli_target"]
        assert len(lines) == 1 and lines[0].startswith("adjoint: error: ")
        assert words in lines[0] and not out.stdout


def test_a_misspelt_function_or_method_suggests_the_right_one():
    out = run("show", TARGET + ":los")
    assert out.returncode == 2
    assert "cli_target.py defines no 'los'; did you mean loss?\n" in out.stderr
    method = run("export", TARGET + ":Model.plian")
    assert method.returncode == 2 and "defines no 'plian'; did you mean plain?" in method.stderr


def test_a_warning_is_one_line_without_adjoints_frames(monkeypatch, capsys):
    from adjoint import cli
    from adjoint.backends import numba as nb
    monkeypatch.setattr(nb, "available", lambda: False)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the command puts the file's folder first
    loaded = "cli_target" in sys.modules
    try:
        assert cli.main(["show", TARGET + ":Model.plain", "--backend", "numba"]) == 0
    finally:
        if not loaded:
            sys.modules.pop("cli_target", None)
    err = [line for line in capsys.readouterr().err.splitlines() if line != "importing cli_target"]
    assert err == ["adjoint: BackendWarning: numba is not installed; using the NumPy backend "
                   "(pip install 'adjoint-ad[numba]')"]


def test_help_names_the_distribution_and_its_home():
    out = run("--help")
    assert out.returncode == 0
    for words in ("show", "export", "cache", "pip install adjoint-ad",
                  "https://github.com/adjoint-ad/adjoint"):
        assert words in out.stdout


def test_a_file_that_fails_to_import_is_one_line(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import numpy as np\nundefined_name + 1\n")
    out = run("show", f"{broken}:f")
    assert out.returncode == 2
    assert out.stderr == "adjoint: error: importing " + str(broken) + \
        " raised NameError: name 'undefined_name' is not defined\n"


def test_version():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"adjoint {adjoint.__version__}"


def test_cache_info_and_clear(tmp_path):
    env = {"ADJOINT_CACHE": str(tmp_path)}
    (tmp_path / "env-0123456789ab").mkdir()
    (tmp_path / "env-0123456789ab" / "adjoint_generated_x.py").write_text("x = 1\n")
    (tmp_path / "unrelated.txt").write_text("kept")
    info = run("cache", "info", env=env)
    assert info.returncode == 0, info.stderr
    assert f"cache: {tmp_path}" in info.stdout and "env-0123456789ab: 1 entries" in info.stdout
    cleared = run("cache", "clear", env=env)
    assert cleared.returncode == 0 and "removed 1 environment folder" in cleared.stdout
    assert sorted(os.listdir(tmp_path)) == ["unrelated.txt"]


# A driver that makes sure adjoint cannot be imported, then runs the exported module.
DRIVER = textwrap.dedent("""
    import sys
    sys.modules["adjoint"] = None  # adjoint may be installed in this environment: block it
    try:
        import adjoint
    except ImportError:
        pass
    else:
        raise SystemExit("adjoint is importable")
    import runpy
    import numpy as np
    names = runpy.run_path(sys.argv[1])
    args = [np.asarray(a) for a in eval(sys.argv[3])]
    print(repr(np.asarray(eval(sys.argv[2], names, {"args": args})).tolist()))
""")


def run_exported(tmp_path, module, call, args):
    """Run ``call`` in ``module`` with ``python -I`` from an empty folder: no adjoint there."""
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    out = subprocess.run([sys.executable, "-I", str(driver), str(module), call, repr(args)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    return np.array(eval(out.stdout))


def exported(tmp_path, *args):
    module = tmp_path / "grad_module.py"
    out = run("export", *args, "-o", str(module))
    assert out.returncode == 0, out.stderr
    text = module.read_text()
    assert "import adjoint" not in text and "from adjoint" not in text
    return module, text


def test_export_runs_without_adjoint(tmp_path):
    from . import cli_target as t
    module, text = exported(tmp_path, TARGET + ":loss")
    assert "def extremum_grad(" in text and "def _restore_axes(" in text  # a private helper
    assert "SCALE = 2.0" in text
    rng = np.random.default_rng(0)
    args = [rng.normal(size=3).tolist(), rng.normal(size=(4, 3)).tolist(),
            rng.normal(size=4).tolist()]
    got = run_exported(tmp_path, module, "loss_grad(*args)", args)
    want = adjoint.grad(t.loss)(*map(np.array, args))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    adjoint.check_grad(t.loss, *map(np.array, args))


def test_export_vjp_mode_with_ranks(tmp_path):
    from . import cli_target as t
    module, text = exported(tmp_path, TARGET + ":curve", "--mode", "vjp", "--ranks", "1")
    w, seed = [0.3, -1.0, 2.0], [1.0, 0.5, -2.0]
    got = run_exported(tmp_path, module, "curve_bwd(curve_fwd(args[0])[1], args[1])",
                       [w, seed])
    _, pullback = adjoint.vjp(t.curve)(np.array(w))
    np.testing.assert_allclose(got.ravel(), pullback(np.array(seed)), rtol=1e-12)


def test_export_copies_a_custom_rule_without_its_decorators(tmp_path):
    module, text = exported(tmp_path, TARGET + ":clipped_loss")
    assert "def clipped_vjp(g, ans, x, limit):" in text and "@" not in text
    got = run_exported(tmp_path, module, "clipped_loss_grad(*args)", [[0.01, 1.0]])
    np.testing.assert_allclose(got, [0.18, 1.5])  # 2 * 3x clipped to 0.5, times 3


def test_export_writes_out_the_arrays_a_function_reads(tmp_path):
    """A module-level array is written into the module: the user's module is not importable."""
    target = tmp_path / "users_model.py"
    target.write_text(textwrap.dedent("""\
        import numpy as np
        import adjoint

        W0 = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
        SHIFT = np.float64(0.25)
        BIG = np.zeros(20_000)
        MASK = np.array([True, False])

        def loss(w):
            return np.sum((W0 @ w - SHIFT) ** 2) + np.sum(BIG[:2] * w) + np.sum(w[MASK] * 3.0)
        """))
    module, text = exported(tmp_path, f"{target}:loss")
    assert "W0 = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32).reshape((2, 2))" in text
    assert "SHIFT = np.float64(0.25)" in text and "from users_model import BIG" in text
    assert "MASK = np.array([True, False], dtype=np.bool_).reshape((2,))" in text
    text = text.replace("from users_model import BIG", "import numpy as np\nBIG = np.zeros(20000)")
    module.write_text(text)  # as if the user's module held it, without importing that module
    (tmp_path / "users_model.py").unlink()
    got = run_exported(tmp_path, module, "loss_grad(*args)", [[0.5, -1.0]])
    W0, w = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), np.array([0.5, -1.0])
    np.testing.assert_allclose(got, 2 * W0.T @ (W0 @ w - 0.25) + [3.0, 0.0], rtol=1e-6)


def test_export_of_a_method_runs_without_adjoint(tmp_path):
    module, text = exported(tmp_path, TARGET + ":Model.loss")
    assert "def loss_grad(self, w, X):" in text
    X = [[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]]
    got = run_exported(tmp_path, module, "loss_grad(None, *args)", [[0.3, -0.7], X])
    X, w = np.array(X), np.array([0.3, -0.7])
    np.testing.assert_allclose(got, 2 * X.T @ (X @ w), rtol=1e-12)


def test_export_to_standard_output():
    out = run("export", TARGET + ":Model.plain")
    assert out.returncode == 0 and "def plain_grad(w):" in out.stdout
    assert "from adjoint" not in out.stdout


def test_ranks_give_the_code_of_a_call():
    """``--ranks`` prints the code for real arguments of those ranks: what a call gets before
    its shapes specialise it further (which dimensions agree, ``passes/shapes.py``)."""
    from . import constructs as c
    by_ranks = adjoint.api._built(c.arith, ("x", "y"), "grad", ranks=(1, 1)).source
    for ranks in ("1,1", "x=1,y=1"):
        out = run(os.path.join(HERE, "constructs.py") + ":arith", "--wrt", "0,1", "--ranks", ranks)
        assert out.returncode == 0, out.stderr
        assert out.stdout == by_ranks
    generic = run(os.path.join(HERE, "constructs.py") + ":arith", "--wrt", "0,1")
    assert "conj(" in generic.stdout and "conj(" not in by_ranks


def test_ranks_must_be_integers():
    out = run(os.path.join(HERE, "constructs.py") + ":arith", "--ranks", "a,b")
    assert out.returncode == 2 and "--ranks" in out.stderr


def test_source_ranks_name_parameters():
    from . import constructs as c
    assert "conj(" not in adjoint.source(c.arith, 0, ranks=[1, 1])
    with pytest.raises(adjoint.WrtError, match="no parameter"):
        adjoint.source(c.arith, 0, ranks={"z": 1})
    with pytest.raises(adjoint.WrtError, match="2 parameters"):
        adjoint.source(c.arith, 0, ranks=[1])


def test_standalone_copies_by_object_under_any_name():
    """Helpers are found from the objects the code reads: an alias, a literal, a private helper."""
    from adjoint import export, runtime
    source = textwrap.dedent("""\
        # title
        # Generated by adjoint; regenerate rather than edit.
        import numpy as np
        from adjoint.runtime import shaped

        def f_grad(x):
            return shaped(x, TABLE["k"]) * np.ones(1)
        """)
    namespace = {"np": np, "shaped": runtime.unbroadcast, "TABLE": {"k": np.zeros(3).tolist()}}
    text = export.standalone(loss_like, source, namespace, "users_module")
    assert "shaped = unbroadcast" in text and "def _sum_to(" in text
    assert "TABLE = {'k': [0.0, 0.0, 0.0]}" in text and text.count("import numpy as np") == 1
    names = {}
    exec(compile(text, "standalone", "exec"), names)
    np.testing.assert_allclose(names["f_grad"](np.ones((2, 3))), [2.0, 2.0, 2.0])


def loss_like(x):
    return x
