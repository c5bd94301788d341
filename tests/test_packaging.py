"""The package as an installer and a new user see it: one name, one version, its licence,
its extras, its links, and a wheel that carries the type information and the command.
"""
import glob
import os
import re
import subprocess
import sys
import zipfile

import pytest

import adjoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "adjoint-ad"
HOME = "https://github.com/adjoint-ad/adjoint"
EXTRAS = {"numba": ["numba"], "scipy": ["scipy"], "progress": ["tqdm"], "plot": ["matplotlib"],
          "docs": ["mkdocs", "mkdocs-material", "mkdocstrings"],
          "dev": ["pytest", "hypothesis", "mypy"]}


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as f:
        return f.read()


def pyproject():
    try:
        import tomllib
    except ImportError:  # Python 3.10: the dev extra installs tomli
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads(read("pyproject.toml"))


def requirement_names(requirements):
    return [re.match(r"[A-Za-z0-9_.-]+", r).group(0) for r in requirements]


def test_the_distribution_declares_name_licence_urls_and_extras():
    project = pyproject()["project"]
    assert project["name"] == NAME and project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"] and project["dynamic"] == ["version"]
    assert all(url.startswith(HOME) for url in project["urls"].values())
    extras = project["optional-dependencies"]
    assert sorted(extras) == sorted(EXTRAS)
    for extra, names in EXTRAS.items():
        assert set(names) <= set(requirement_names(extras[extra])), extra
    assert requirement_names(project["dependencies"]) == ["numpy", "gast"]
    assert project["scripts"] == {"adjoint": "adjoint.cli:main"}


def test_classifiers_match_the_supported_pythons():
    project = pyproject()["project"]
    assert project["requires-python"] == ">=3.10"
    versions = [c.rsplit(" :: ", 1)[1] for c in project["classifiers"]
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert versions == ["3.10", "3.11", "3.12", "3.13"]
    assert "Typing :: Typed" in project["classifiers"]
    assert "License ::" not in " ".join(project["classifiers"])  # the SPDX string says it


def test_the_version_has_one_place():
    assert re.fullmatch(r"\d+\.\d+\.\d+", adjoint.__version__)
    assert pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "adjoint.__version__"}
    assert "version" not in pyproject()["project"]
    defined = [path for path in glob.glob(os.path.join(ROOT, "adjoint", "**", "*.py"),
                                          recursive=True)
               if re.search(r"^__version__\s*=", read(path), re.M)]
    assert defined == [os.path.join(ROOT, "adjoint", "__init__.py")]


def test_licence_and_changelog():
    assert read("LICENSE").startswith("MIT License\n")
    changelog = read("CHANGELOG.md")
    assert "## [Unreleased]" in changelog and f"## [{adjoint.__version__}]" in changelog


def test_readme_starts_with_the_two_commands():
    assert read("README.md").splitlines()[:6] == [
        "# adjoint",
        "",
        "```bash",
        "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/python examples/quickstart.py",
        "python3 -m venv .venv && .venv/bin/pip install -q \".[dev,numba]\" && .venv/bin/python -m pytest",
        "```",
    ]


def test_readme_and_docs_name_the_distribution_and_every_extra():
    for page in (read("README.md"), read("docs", "index.md")):
        assert f"pip install \"{NAME}[numba]\"" in page
        for extra in EXTRAS:
            assert f"| `{extra}` |" in page, extra


def test_readme_says_what_each_example_needs():
    install = read("README.md").split("## Install", 1)[1].split("\n## ", 1)[0]
    examples = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "examples", "*.py"))
                      if not os.path.basename(p).startswith("_"))
    assert [e for e in examples if e not in install] == []


def _project_texts():
    patterns = ("README.md", "CHANGELOG.md", "pyproject.toml", "mkdocs.yml", "docs/*.md",
                "adjoint/**/*.py", "examples/*.py", ".ci/run")
    for pattern in patterns:
        for path in glob.glob(os.path.join(ROOT, pattern), recursive=True):
            yield os.path.relpath(path, ROOT), read(path)


def test_no_text_installs_the_unrelated_adjoint_or_links_elsewhere():
    for path, text in _project_texts():
        assert not re.search(r"install\s+['\"]?adjoint(\[|['\"\s]|$)", text, re.M), path
        assert not re.search(r"(?<![\w-])adjoint\[(numba|scipy|progress|plot|docs|dev)", text), path
        for url in re.findall(r"https://github\.com/[^\s)\"'>`]*", text):
            assert url.startswith(HOME), (path, url)


def test_the_package_ships_its_type_information():
    assert os.path.isfile(os.path.join(ROOT, "adjoint", "py.typed"))
    assert pyproject()["tool"]["setuptools"]["package-data"] == {"adjoint": ["py.typed"]}


def _new_setuptools():
    try:
        import setuptools
    except ImportError:
        return False
    return tuple(int(p) for p in setuptools.__version__.split(".")[:2]) >= (77, 0)


@pytest.mark.skipif(not _new_setuptools(), reason="building needs setuptools>=77 "
                    "(pip install '.[dev]')")
def test_the_wheel_carries_metadata_types_licence_and_command(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-q", "-w", str(tmp_path), ROOT], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    wheel, = glob.glob(str(tmp_path / "adjoint_ad-*.whl"))
    assert os.path.basename(wheel).startswith(f"adjoint_ad-{adjoint.__version__}-py3-none-any")
    names = zipfile.ZipFile(wheel).namelist()
    info = f"adjoint_ad-{adjoint.__version__}.dist-info"
    assert "adjoint/py.typed" in names and f"{info}/licenses/LICENSE" in names
    packages = {os.path.dirname(n) for n in names if n.endswith("__init__.py")}
    on_disk = {os.path.relpath(os.path.dirname(p), ROOT) for p in
               glob.glob(os.path.join(ROOT, "adjoint", "**", "__init__.py"), recursive=True)}
    assert packages == on_disk
    meta = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    for line in (f"Name: {NAME}", f"Version: {adjoint.__version__}", "License-Expression: MIT",
                 f"Project-URL: Homepage, {HOME}", "Requires-Python: >=3.10"):
        assert line in meta.splitlines()
    assert sorted(re.findall(r"^Provides-Extra: (\w+)$", meta, re.M)) == sorted(EXTRAS)
    entry_points = zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()
    assert "adjoint = adjoint.cli:main" in entry_points
