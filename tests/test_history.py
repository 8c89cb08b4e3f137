"""The history table of chapter 7 and its timeline figure (gdlutils.plot)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gdlutils.plot import TIMELINE_AREAS, TIMELINE_COLUMNS, load_timeline, timeline_figure

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "gdlutils" / "timeline.csv"


@pytest.fixture(scope="module")
def table():
    return load_timeline(TABLE)


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(), re.M))


def test_default_path_is_the_repository_table(table):
    assert load_timeline() == table


def test_every_citation_resolves_in_references_bib(table):
    keys = bib_keys()
    missing = sorted({row["citation"] for row in table} - keys)
    assert not missing, f"citation keys of timeline.csv not in references.bib: {missing}"
    assert "no_such_key2099" not in keys  # the check above can fail


def test_table_is_sorted_by_year(table):
    years = [row["year"] for row in table]
    assert years == sorted(years)
    assert all(isinstance(y, int) for y in years)


@pytest.mark.parametrize("section", [f"5.{s}" for s in range(1, 9)])
def test_every_model_chapter_has_an_event(table, section):
    assert any(row["chapter"] == section for row in table), f"no event of the timeline applies to section {section}"


def test_chapters_name_existing_sections(table):
    for row in table:
        assert re.fullmatch(r"\d(\.\d)?", row["chapter"]), row


def test_the_events_the_issue_lists(table):
    keys = {row["citation"] for row in table}
    for key in ["klein1893vergleichende", "noether1918invariante", "rosenblatt1958perceptron", "fukushima1980neocognitron",
                "rumelhart1986learning", "lecun1989backpropagation", "hochreiter1997long", "gori2005new", "scarselli2009graph",
                "bruna2014spectral", "kipf2017semi", "cohen2016group", "zaheer2017deep", "gilmer2017neural",
                "vaswani2017attention", "thomas2018tensor", "satorras2021en", "cohen2019gauge", "jumper2021highly",
                "elman1990finding", "tallec2018can", "masci2015geodesic", "monti2017geometric", "dehaan2021gauge"]:
        assert key in keys, key
    klein = next(r for r in table if r["citation"] == "klein1893vergleichende")
    assert klein["year"] == 1872  # the programme, not the 1893 reprint


def test_figure_has_one_marker_per_event_with_citation_in_hover(table):
    fig = timeline_figure(table)
    markers = [(text, key) for trace in fig.data for text, key in zip(trace.text, trace.customdata)]
    assert len(markers) == len(table)
    assert sorted(key for _, key in markers) == sorted(row["citation"] for row in table)
    for text, key in markers:
        assert f"cite: {key}" in text
    assert [trace.name for trace in fig.data] == [a for a in TIMELINE_AREAS if any(r["area"] == a for r in table)]


def test_figure_keeps_order_in_time(table):
    fig = timeline_figure(table)
    for trace in fig.data:
        assert list(trace.x) == sorted(trace.x)
    euclid = fig.data[0].x[0]
    assert euclid < min(min(t.x) for t in fig.data[1:])


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        timeline_figure([])
    with pytest.raises(TypeError, match="keys"):
        timeline_figure([{"year": 1990}])
    with pytest.raises(ValueError, match="area must be one of"):
        timeline_figure([{"year": 1990, "event": "x", "area": "cooking", "citation": "k", "chapter": "5.1"}])
    with pytest.raises(FileNotFoundError, match="no file"):
        load_timeline(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("year,event\n1990,x\n")
    with pytest.raises(ValueError, match="columns"):
        load_timeline(bad)
    bad.write_text(",".join(TIMELINE_COLUMNS) + "\nabout 1990,x,grids,k,5.1\n")
    with pytest.raises(ValueError, match="line 2: year must be an integer"):
        load_timeline(bad)
