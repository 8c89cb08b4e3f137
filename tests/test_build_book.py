"""`make book` (tools/build_book.py) after a failed notebook execution: it fails loudly, names
the notebook, and the next build executes that notebook again instead of keeping the page with
the error (Sphinx alone would see an unchanged source and reuse the stale page)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402


@pytest.mark.slow
def test_a_failed_execution_is_reported_and_executed_again(tmp_path):
    source = tmp_path / "book"
    shutil.copytree(ROOT / "tests" / "fixtures" / "site_ok", source)
    config = build_book.book_config(source, base=ROOT / "_config.yml", execute="cache")
    (source / "_config.yml").write_text(yaml.safe_dump(config))

    def make_book(**env):
        environ = {k: v for k, v in os.environ.items() if k != "GDL_FIXTURE_FAIL"}
        return subprocess.run(
            [sys.executable, str(ROOT / "tools" / "build_book.py"), str(source)],
            capture_output=True, text=True, env={**environ, **env},
        )

    page = source / "_build" / "html" / "figures.html"
    failed = make_book(GDL_FIXTURE_FAIL="1")
    assert failed.returncode != 0
    assert "failed to execute: figures" in failed.stderr, failed.stderr[-2000:]
    assert "traceback" in page.read_text(), "the failed cell should show its error"

    fixed = make_book()
    assert fixed.returncode == 0, fixed.stdout[-2000:] + fixed.stderr[-2000:]
    text = page.read_text()
    assert "traceback" not in text and "<img" in text, "the page kept its stale error output"
