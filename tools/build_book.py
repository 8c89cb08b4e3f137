"""Build the book (`make book`), and make a failed notebook execution impossible to miss.

    python tools/build_book.py                    # the book at the repository root
    python tools/build_book.py SOURCE --path-output DIR [--execute off|cache|force]

Jupyter Book 1 caches both executions (jupyter-cache) and parsed pages (Sphinx's environment).
When a notebook fails to execute (say the data folder was missing), its page is written with
the traceback in its outputs. Before this script, the next build, with the cause fixed, did
not re-execute it: the source had not changed, so Sphinx reused the stale page and exited 0.

This script runs `jupyter-book build -W -n --keep-going`; when the build fails it names the
notebooks whose execution failed (from the execution reports), deletes Sphinx's saved
environment so that the next build reads every page again (successful executions stay in the
execution cache, so only the failed notebooks run again), and exits non-zero with a message
saying how to recover.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def book_config(source: Path, *, execute: str | None = None, base: Path | None = None) -> dict:
    """The book's `_config.yml` (or `base`'s) as a dict, with the paths it names made absolute,
    so that it can be written anywhere and used with `--config`."""
    base = base or (source / "_config.yml")
    config = yaml.safe_load(base.read_text())
    here = base.parent
    sphinx = config.setdefault("sphinx", {})
    for name, path in (sphinx.get("local_extensions") or {}).items():
        sphinx["local_extensions"][name] = str((here / path).resolve())
    cfg = sphinx.setdefault("config", {})
    if "html_static_path" in cfg:
        cfg["html_static_path"] = [str((here / p).resolve()) for p in cfg["html_static_path"]]
    if "bibtex_bibfiles" in config:
        config["bibtex_bibfiles"] = [str((here / p).resolve()) for p in config["bibtex_bibfiles"]]
    if execute is not None:
        config.setdefault("execute", {})["execute_notebooks"] = execute
    return config


def build(
    source: Path, output: Path, *, config: dict | None = None, env: dict | None = None, capture: bool = True
) -> subprocess.CompletedProcess:
    """Run `jupyter-book build SOURCE -W -n --keep-going` into `output/_build/html`.

    With ``capture=False`` the build's output goes straight to the terminal (for `make book`,
    which takes minutes); otherwise it is returned in ``stdout``/``stderr``."""
    args = [str(BIN / "jupyter-book"), "build", str(source), "--path-output", str(output), "-W", "-n", "--keep-going"]
    with tempfile.TemporaryDirectory() as tmp:
        if config is not None:
            cfg = Path(tmp) / "_config.yml"
            cfg.write_text(yaml.safe_dump(config))
            args += ["--config", str(cfg)]
        return subprocess.run(
            args,
            capture_output=capture,
            text=True,
            env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1", **(env or {})},
        )


def failed_executions(output: Path) -> list[str]:
    """Notebooks whose execution failed in the last build (myst-nb writes a report for each)."""
    reports = output / "_build" / "html" / "reports"
    return sorted(p.name.removesuffix(".err.log") for p in reports.rglob("*.err.log")) if reports.is_dir() else []


def forget_parsed_pages(output: Path) -> bool:
    """Delete Sphinx's saved environment so the next build reads (and executes) pages again."""
    pickle = output / "_build" / ".doctrees" / "environment.pickle"
    if pickle.exists():
        pickle.unlink()
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", default=str(ROOT), type=Path)
    parser.add_argument("--path-output", type=Path, default=None, help="folder that receives _build (default: SOURCE)")
    parser.add_argument("--execute", choices=["off", "cache", "force"], default=None, help="override execute_notebooks")
    args = parser.parse_args(argv)
    source = args.source.resolve()
    output = (args.path_output or source).resolve()
    config = book_config(source, execute=args.execute) if args.execute else None
    sys.stdout.flush()
    result = build(source, output, config=config, capture=False)
    if result.returncode == 0:
        return 0
    failed = failed_executions(output)
    forget_parsed_pages(output)
    print("\nThe book did not build cleanly (see the warnings above).", file=sys.stderr)
    if failed:
        print(
            "These notebooks failed to execute: " + ", ".join(failed) + "\n"
            f"Their execution logs are in {output / '_build' / 'html' / 'reports'}.\n"
            "A common cause is a missing data folder: set GDL_DATA to it (or unset GDL_OFFLINE so\n"
            "data can be downloaded).",
            file=sys.stderr,
        )
    print(
        "The saved build environment was removed, so the next `make book` reads every page again\n"
        "and re-executes the notebooks that failed (the others come from the execution cache).",
        file=sys.stderr,
    )
    return result.returncode or 1


if __name__ == "__main__":
    raise SystemExit(main())
