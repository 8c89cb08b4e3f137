"""The book as a whole: table of contents, notebook hygiene, CI wiring, and the build."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return files


def book_notebooks() -> list[Path]:
    return sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_toc_entries_exist_and_are_unique():
    files = toc_files()
    assert len(files) == len(set(files)), "a page is listed twice in _toc.yml"
    for entry in files:
        matches = [ROOT / f"{entry}{ext}" for ext in (".ipynb", ".md") if (ROOT / f"{entry}{ext}").exists()]
        assert len(matches) == 1, f"_toc.yml lists {entry!r}: expected exactly one of {entry}.ipynb / {entry}.md"


def test_every_notebook_is_in_the_toc():
    listed = {ROOT / f"{entry}.ipynb" for entry in toc_files()}
    missing = [str(p.relative_to(ROOT)) for p in book_notebooks() if p not in listed]
    assert not missing, f"notebooks missing from _toc.yml: {missing}"
    pages = {ROOT / f"{entry}.md" for entry in toc_files()}
    stray = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "book").rglob("*.md")
        if p not in pages and "_vendor" not in p.parts
    ]
    assert not stray, f"markdown pages missing from _toc.yml: {stray}"


@pytest.mark.parametrize("path", book_notebooks(), ids=lambda p: p.name)
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text())
    with_output = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not with_output, f"{path.name}: code cells {with_output} carry outputs (run tools/notebooks.py sync)"
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert "colab-setup" in first["metadata"].get("tags", []), f"{path.name}: the Colab set-up cell must come first"
    assert "remove-cell" in first["metadata"]["tags"]
    text = "".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in nb["cells"])
    assert "seed" in text, f"{path.name}: seed the random number generators"
    assert re.search(r"^# \d", "".join(nb["cells"][1]["source"]), re.M), f"{path.name}: open with a numbered title"
    assert "{exercise}" in text and "{solution-start}" in text, f"{path.name}: end with exercises and solutions"
    assert "assert " in text, f"{path.name}: check claims with asserts"


def test_notebooks_are_in_sync_with_the_setup_template():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "notebooks.py"), "check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_setup_cell_uses_the_configured_repository():
    sys.path.insert(0, str(ROOT / "tools"))
    import notebooks

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert notebooks.repository_url() == url
    assert f"git+{url}" in notebooks.setup_source()
    assert "torch" not in notebooks.setup_source().split("reinstalls torch")[1]  # never installs torch


def test_every_gdlutils_module_is_in_the_api_reference():
    import pkgutil

    import gdlutils

    api = (ROOT / "book" / "back" / "api.md").read_text()
    for module in pkgutil.iter_modules(gdlutils.__path__):
        if not module.name.startswith("_"):
            assert f"gdlutils.{module.name}" in api, f"gdlutils.{module.name} is missing from book/back/api.md"


def test_citations_resolve():
    bib = (ROOT / "references.bib").read_text()
    keys = re.findall(r"^@\w+\{([^,]+),", bib, re.M)
    assert len(keys) == len(set(keys)), "duplicate keys in references.bib"
    cited = set()
    for page in list(book_notebooks()) + list((ROOT / "book").rglob("*.md")):
        for group in re.findall(r"\{cite[pt]?\}`([^`]+)`", page.read_text()):
            cited.update(k.strip() for k in group.split(","))
    assert cited - set(keys) == set(), f"cited but not in references.bib: {sorted(cited - set(keys))}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make book" in readme
    assert re.search(r"^\s*(exec )?make test\b", ci, re.M), ".ci/run must call the README's test command"


def test_github_workflows_pass_actionlint():
    actionlint = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    assert actionlint, "actionlint is not installed (it is in requirements.txt)"
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert {w.name for w in workflows} >= {"test.yml", "publish.yml"}
    out = subprocess.run([actionlint, "-shellcheck=", "-pyflakes=", *map(str, workflows)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_book_builds_without_warnings(book_build):
    """`jupyter-book build -W -n --keep-going`, without executing notebooks (nbval does that).

    The build is shared with the browser tests (tests/test_browser.py), see conftest.py."""
    log = re.sub(r"\x1b\[[0-9;]*m", "", book_build["log"])
    warnings = [line for line in log.splitlines() if "WARNING" in line and "IPKernelApp" not in line]
    assert book_build["returncode"] == 0 and not warnings, "\n".join(warnings) or log[-3000:]
    html = book_build["html"]
    for entry in toc_files():
        assert (html / f"{entry}.html").exists(), f"no page for {entry}"
    assert (html / "_static" / "mathjax" / "tex-mml-chtml.js").exists(), "MathJax must be served from the site"
    page = (html / "book" / "welcome.html").read_text()
    assert 'src="_static/mathjax/tex-mml-chtml.js' in page or "mathjax/tex-mml-chtml.js" in page
    assert "cdn.jsdelivr" not in page
