"""The chapter index pages and the welcome page list exactly the sections that exist.

A chapter's `index.md` has a table of its sections; the welcome page's "What you will find"
table links every chapter. Both are written by hand, so they are compared with `_toc.yml`
(which tests/test_book.py compares with the notebooks on disk).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
LINK = re.compile(r"\]\(([^)#\s]+)\)")


def _links(page: Path) -> set[str]:
    """Targets of the relative links of a Markdown page, as paths from the repository root
    without an extension."""
    out = set()
    for target in LINK.findall(page.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        path = (page.parent / target).resolve().relative_to(ROOT)
        out.add(str(path.with_suffix("")) if path.suffix in {".md", ".ipynb"} else str(path))
    return out


def _chapters() -> list[dict]:
    return [chapter for part in TOC["parts"] for chapter in part["chapters"]]


CHAPTERS_WITH_SECTIONS = [c for c in _chapters() if c.get("sections")]


@pytest.mark.parametrize("chapter", CHAPTERS_WITH_SECTIONS, ids=lambda c: c["file"])
def test_chapter_index_lists_exactly_its_sections(chapter):
    page = ROOT / (chapter["file"] + ".md")
    sections = {s["file"] for s in chapter["sections"]}
    linked = {link for link in _links(page) if Path(link).parent == Path(chapter["file"]).parent}
    assert linked == sections, (
        f"{page.relative_to(ROOT)} must link every section of its chapter in _toc.yml and nothing else: "
        f"missing {sorted(sections - linked)}, extra {sorted(linked - sections)}"
    )


def test_welcome_page_lists_every_chapter():
    chapters = {c["file"] for part in TOC["parts"] if part["caption"] != "Back matter" for c in part["chapters"]}
    page = ROOT / (TOC["root"] + ".md")
    text = page.read_text()
    assert "## What you will find" in text
    found = text.split("## What you will find", 1)[1].split("\n## ", 1)[0]
    linked = set()
    for target in LINK.findall(found):
        if "://" not in target:
            path = (page.parent / target).resolve().relative_to(ROOT)
            linked.add(str(path.with_suffix("")) if path.suffix in {".md", ".ipynb"} else str(path))
    linked.discard("book/back/api")
    assert linked == chapters, f"welcome page: missing {sorted(chapters - linked)}, extra {sorted(linked - chapters)}"


def test_a_wrong_list_fails(tmp_path):
    """The comparison is not vacuous: a page that forgets a section or links a missing one fails."""
    chapter = {"file": "book/x/index", "sections": [{"file": "book/x/a"}, {"file": "book/x/b"}]}
    folder = tmp_path / "book" / "x"
    folder.mkdir(parents=True)
    globals()["ROOT"], saved = tmp_path, ROOT
    try:
        (folder / "index.md").write_text("| [A](a) | [C](c) |\n")
        with pytest.raises(AssertionError, match="missing \\['book/x/b'\\], extra \\['book/x/c'\\]"):
            test_chapter_index_lists_exactly_its_sections(chapter)
        (folder / "index.md").write_text("| [A](a.ipynb) | [B](b) |\n")
        test_chapter_index_lists_exactly_its_sections(chapter)
    finally:
        globals()["ROOT"] = saved
