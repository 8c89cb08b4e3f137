"""Keep the book's notebooks in shape.

    python tools/notebooks.py sync     # fix every notebook under book/ in place
    python tools/notebooks.py check    # exit 1 and list what `sync` would change

`sync` makes the first code cell of every notebook the Colab set-up cell (below, with the
repository address read from _config.yml), tags it `remove-cell` so the rendered page hides
it, and strips outputs, execution counts and widget state. tests/test_book.py runs `check`.

A notebook that needs a package gdlutils does not depend on (RDKit for the molecules of 6.2)
declares it in its metadata, `metadata["gdl"]["colab_packages"] = ["rdkit"]`; an entry
`"pip-name:module"` names the module to look for when it differs from the pip name
(`"libigl:igl"`). The set-up cell then also installs each declared package whose module
cannot be found, and nothing where all are installed. torch is never installed this way.
tests/test_notebook_extras.py checks the declarations and the cell.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUP_TAG = "colab-setup"

SETUP_TEMPLATE = '''\
# Set-up for Colab and other fresh environments: install gdlutils if it is missing.
# It does nothing where gdlutils is installed (a local build of the book), and it never
# reinstalls torch. GDLUTILS_SOURCE overrides where gdlutils is installed from.
import importlib.util, os
if importlib.util.find_spec("gdlutils") is None:
    _source = os.environ.get("GDLUTILS_SOURCE", "git+{url}")
    %pip install --quiet {{_source}}'''


def repository_url() -> str:
    for line in (ROOT / "_config.yml").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("url:") and "github.com" in stripped:
            return stripped.split(":", 1)[1].strip().strip("'\"")
    raise SystemExit("_config.yml has no repository url")


EXTRAS_HEADER = "\n# Packages this notebook also needs (its metadata gdl.colab_packages), installed if missing:"
EXTRA_TEMPLATE = '''
if importlib.util.find_spec("{module}") is None:
    %pip install --quiet {package}'''

_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,-]+\])?(==[A-Za-z0-9.+!-]+)?$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def colab_packages(nb: dict) -> list[tuple[str, str]]:
    """The extra packages a notebook declares, as (pip requirement, module to look for) pairs."""
    declared = nb.get("metadata", {}).get("gdl", {}).get("colab_packages", [])
    if not isinstance(declared, list) or not all(isinstance(p, str) for p in declared):
        raise SystemExit(f"metadata gdl.colab_packages must be a list of strings, got {declared!r}")
    out = []
    for entry in declared:
        package, _, module = entry.partition(":")
        name = re.split(r"[\[=]", package)[0]
        module = module or name.replace("-", "_").lower()
        if not _PACKAGE.match(package) or not _MODULE.match(module):
            raise SystemExit(
                f"gdl.colab_packages entry {entry!r} is not 'pip-name', 'pip-name==version' or 'pip-name:module'"
            )
        if name.lower() in ("torch", "torchvision", "torchaudio"):
            raise SystemExit(f"gdl.colab_packages must not list {name}: the set-up cell never (re)installs torch")
        out.append((package, module))
    return out


def setup_source(extras: list[tuple[str, str]] | tuple = ()) -> str:
    """The set-up cell: install gdlutils if missing, then each declared extra if missing."""
    source = SETUP_TEMPLATE.format(url=repository_url())
    if extras:
        source += EXTRAS_HEADER
    for package, module in extras:
        source += EXTRA_TEMPLATE.format(package=package, module=module)
    return source


def notebooks() -> list[Path]:
    return sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def normalise(nb: dict) -> dict:
    """Return the notebook with the set-up cell first and no outputs."""
    setup = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": ["remove-cell", SETUP_TAG]},
        "outputs": [],
        "source": setup_source(colab_packages(nb)).splitlines(keepends=True),
    }
    cells = [c for c in nb["cells"] if SETUP_TAG not in c.get("metadata", {}).get("tags", [])]
    out_cells = [setup]
    for cell in cells:
        cell = dict(cell)
        cell["source"] = _source(cell).splitlines(keepends=True)
        cell.pop("id", None)
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            meta = dict(cell.get("metadata", {}))
            meta.pop("execution", None)
            meta.pop("collapsed", None)
            cell["metadata"] = meta
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        out_cells.append(cell)
    meta = dict(nb.get("metadata", {}))
    meta.pop("widgets", None)
    meta["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    meta["language_info"] = {"name": "python"}
    return {"cells": out_cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 4}


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("sync", "check"):
        print(__doc__)
        return 2
    changed = []
    for path in notebooks():
        text = path.read_text()
        new = dumps(normalise(json.loads(text)))
        if new != text:
            changed.append(path.relative_to(ROOT))
            if argv[0] == "sync":
                path.write_text(new)
    if argv[0] == "check" and changed:
        print("notebooks out of shape (run `python tools/notebooks.py sync`):")
        for p in changed:
            print(f"  {p}")
        return 1
    if argv[0] == "sync":
        print(f"synced {len(notebooks())} notebooks, changed {len(changed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
