"""Extra packages a notebook needs in Colab (metadata gdl.colab_packages): every notebook that
uses RDKit declares it, the set-up cell installs exactly the declared extras, only when they
are missing, and `tools/notebooks.py check` fails when a notebook is out of sync."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402

USES_RDKIT = re.compile(
    r"^\s*(import\s+rdkit\b|from\s+rdkit\b)"  # RDKit itself
    r"|gdlutils\.molecules\b|^\s*from\s+gdlutils\s+import\s+[^\n]*\bmolecules\b",  # or gdlutils' wrapper of it
    re.M,
)
PIP_LINE = re.compile(r"^(\s*)%pip\s+(.*)$", re.M)


def code_without_setup(nb: dict) -> str:
    return "\n".join(
        notebooks._source(c) for c in nb["cells"]
        if c["cell_type"] == "code" and notebooks.SETUP_TAG not in c.get("metadata", {}).get("tags", [])
    )


def declared_modules(nb: dict) -> set[str]:
    return {module for _, module in notebooks.colab_packages(nb)}


def setup_cell(nb: dict) -> str:
    cell = nb["cells"][0]
    assert notebooks.SETUP_TAG in cell["metadata"].get("tags", [])
    return notebooks._source(cell)


def run_setup_cell(source: str, missing: set[str] = frozenset()) -> list[str]:
    """Execute a set-up cell with its %pip lines recorded instead of run; modules in
    ``missing`` look uninstalled. Returns the pip command lines it would run."""
    calls: list[str] = []
    python = PIP_LINE.sub(lambda m: f"{m.group(1)}_pip_calls.append(f{m.group(2)!r})", source)
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name in missing else real(name, *args, **kwargs)

    importlib.util.find_spec = find_spec
    try:
        exec(compile(python, "<setup cell>", "exec"), {"_pip_calls": calls})
    finally:
        importlib.util.find_spec = real
    return calls


def book_notebooks() -> list[Path]:
    return notebooks.notebooks()


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: p.name)
def test_notebooks_using_rdkit_declare_it(path):
    nb = json.loads(path.read_text())
    if USES_RDKIT.search(code_without_setup(nb)):
        assert "rdkit" in declared_modules(nb), (
            f"{path.name} uses RDKit: declare it in the notebook metadata, "
            'metadata["gdl"]["colab_packages"] = ["rdkit"], then run tools/notebooks.py sync'
        )


def test_the_rdkit_detector_sees_every_way_in():
    for code in ["from rdkit import Chem", "import rdkit", "from gdlutils import molecules as m",
                 "from gdlutils.molecules import smiles_to_graph", "gdlutils.molecules.load_esol()",
                 "from gdlutils import data, molecules"]:
        assert USES_RDKIT.search(code), code
    for code in ["from gdlutils import gnn", "x = 'rdkit is not imported here'.upper()", "import rdkitx"]:
        assert not USES_RDKIT.search(code), code
    assert any(USES_RDKIT.search(code_without_setup(json.loads(p.read_text()))) for p in book_notebooks()), \
        "no notebook uses RDKit: the declaration test above checks nothing"


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: p.name)
def test_setup_cell_installs_exactly_the_declared_extras(path):
    nb = json.loads(path.read_text())
    source = setup_cell(nb)
    extras = notebooks.colab_packages(nb)
    installed = [m.group(2) for m in PIP_LINE.finditer(source) if "{_source}" not in m.group(2)]
    assert installed == [f"install --quiet {package}" for package, _ in extras]
    looked_for = re.findall(r'find_spec\("([^"]+)"\)', source)
    assert looked_for == ["gdlutils"] + [module for _, module in extras]
    assert not re.search(r"install[^\n]*\btorch\b", source.split("reinstalls torch")[1])


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: p.name)
def test_setup_cell_does_nothing_where_everything_is_installed(path):
    nb = json.loads(path.read_text())
    source = setup_cell(nb)
    assert run_setup_cell(source) == []
    # and it would install exactly what is missing (so the line above can fail)
    extras = notebooks.colab_packages(nb)
    for package, module in extras:
        assert run_setup_cell(source, missing={module}) == [f"install --quiet {package}"]
    assert run_setup_cell(source, missing={"gdlutils"})[0].startswith("install --quiet ")


def test_the_molecules_notebook_declares_rdkit():
    path = ROOT / "book" / "06_applications" / "06_2_molecules.ipynb"
    nb = json.loads(path.read_text())
    assert nb["metadata"]["gdl"]["colab_packages"] == ["rdkit"]
    assert 'find_spec("rdkit") is None' in setup_cell(nb)


def test_declarations_are_validated():
    def declare(packages):
        return {"metadata": {"gdl": {"colab_packages": packages}}, "cells": []}

    assert notebooks.colab_packages(declare(["rdkit", "libigl:igl", "robust-laplacian", "rdkit==2026.9.1"])) == [
        ("rdkit", "rdkit"), ("libigl", "igl"), ("robust-laplacian", "robust_laplacian"), ("rdkit==2026.9.1", "rdkit")]
    for bad, words in [(["torch"], "never"), (["torch==2.0"], "never"), (["rdkit>1"], "not 'pip-name'"),
                       (["a; rm -rf /"], "not 'pip-name'"), ("rdkit", "list of strings"), ([1], "list of strings")]:
        with pytest.raises(SystemExit, match=re.escape(words)):
            notebooks.colab_packages(declare(bad))


def test_check_fails_when_the_setup_cell_is_out_of_sync(tmp_path, monkeypatch, capsys):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "book").mkdir()
    nb_path = tmp_path / "book" / "a.ipynb"
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# 0 A"},
                    {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": "from rdkit import Chem"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    monkeypatch.setattr(notebooks, "ROOT", tmp_path)
    nb_path.write_text(notebooks.dumps(notebooks.normalise(nb)))
    assert notebooks.main(["check"]) == 0
    # declaring an extra without syncing: check fails, sync writes the install lines, check passes
    synced = json.loads(nb_path.read_text())
    synced["metadata"]["gdl"] = {"colab_packages": ["rdkit"]}
    nb_path.write_text(notebooks.dumps(synced))
    assert notebooks.main(["check"]) == 1
    assert "a.ipynb" in capsys.readouterr().out
    assert notebooks.main(["sync"]) == 0 and notebooks.main(["check"]) == 0
    assert "%pip install --quiet rdkit" in setup_cell(json.loads(nb_path.read_text()))
    # removing the declaration again is also caught
    stale = json.loads(nb_path.read_text())
    stale["metadata"]["gdl"]["colab_packages"] = []
    nb_path.write_text(notebooks.dumps(stale))
    assert notebooks.main(["check"]) == 1
