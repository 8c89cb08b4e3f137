"""The website as readers see it: every page opened in headless Chromium.

What is crawled:
- in `make test`: the site the book test builds (execution off, so pages carry no outputs),
  plus two small fixture books built here *with* execution (tests/fixtures/site_ok: matplotlib
  and plotly outputs) and one with deliberate faults (tests/fixtures/site_broken), which the
  checks must catch;
- with `--site _build/html` (`make check-site`, run by the publishing workflow after
  `make book`): the executed site, outputs and all, before it is deployed.

Needs Debian's `chromium` and the Python package `playwright`. Without them these tests are
skipped with one line saying how to enable them; `.ci/run` installs both and sets
GDL_REQUIRE_BROWSER=1, which turns that skip into a failure.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import sitecheck

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCREENSHOTS = Path(os.environ.get("GDL_SCREENSHOTS", ROOT / "_build" / "screenshots"))
REPOSITORY = "gdl-companion/gdl-book"
#: pages also opened at phone width: one of each kind (front page, chapter index, notebook
#: with wide equations, notebook with plotly, API reference)
PHONE_SAMPLE = [
    "book/welcome.html",
    "book/03_priors/index.html",
    "book/03_priors/03_1_symmetries.html",
    "book/04_domains/04_4_manifolds.html",
    "book/05_models/05_3_1_message_passing.html",
    "book/back/api.html",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session", autouse=True)  # session: decided before the (session) book build
def _browser_available():
    missing = sitecheck.browser_missing()
    if missing:
        message = (
            f"browser tests skipped: {missing}. Enable them with `apt-get install chromium` and "
            "`pip install playwright` (never `playwright install`); .ci/run does both."
        )
        if os.environ.get("GDL_REQUIRE_BROWSER"):
            pytest.fail(message.replace("skipped", "required (GDL_REQUIRE_BROWSER is set) but cannot run"), pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def site(request, book_build) -> Path:
    given = request.config.getoption("--site")
    if given:
        return Path(given).resolve()
    assert book_build["returncode"] == 0, "the book did not build (see test_book.py)"
    return book_build["html"]


@pytest.fixture(scope="module")
def crawled(site):
    pages = sitecheck.pages_of(site)
    phone = [p for p in PHONE_SAMPLE if (site / p).exists()]
    reports = sitecheck.crawl(site, pages, phone_pages=phone, screenshots=SCREENSHOTS)
    return {r.page: r for r in reports}


def _problems(reports) -> list[str]:
    return [str(p) for r in reports for p in r.problems]


def test_internal_links_and_anchors_resolve(site):
    problems = sitecheck.check_links(site)
    assert not problems, "\n".join(map(str, problems))


def test_every_page_opens_without_errors(site, crawled):
    pages = sitecheck.pages_of(site)
    assert len(pages) >= 20, f"only {len(pages)} pages found in {site}"
    assert len(crawled) == len(pages) + len([p for p in PHONE_SAMPLE if (site / p).exists()])
    problems = _problems(crawled.values())
    assert not problems, "\n".join(problems)


def test_math_is_rendered_by_the_vendored_mathjax(crawled):
    with_math = [r for r in crawled.values() if r.facts["mathElements"]]
    assert len(with_math) >= 10, "expected math on most pages"
    assert all(r.facts["mjx"] > 0 for r in with_math), [r.page for r in with_math if not r.facts["mjx"]]


def test_screenshots_at_desktop_and_phone_width(crawled):
    desktop = list((SCREENSHOTS / "desktop").glob("*.png"))
    phone = list((SCREENSHOTS / "phone").glob("*.png"))
    assert len(desktop) >= len([r for r in crawled if r.endswith("(desktop)")])
    assert len(phone) >= len([p for p in crawled if p.endswith("(phone)")]) > 0
    assert all(p.stat().st_size > 5000 for p in desktop + phone), "a screenshot is (nearly) empty"


def test_launch_buttons_open_the_page_s_own_notebook(site, crawled):
    notebooks = [p for p in sitecheck.pages_of(site) if (ROOT / p).with_suffix(".ipynb").exists()]
    assert notebooks, "no notebook pages found"
    for page in notebooks:
        links = crawled[f"{page} (desktop)"].facts["launch"]
        source = str(Path(page).with_suffix(".ipynb"))
        colab = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/{source}"
        binder = f"https://mybinder.org/v2/gh/{REPOSITORY}/main?urlpath=tree/{source}"
        assert colab in links, f"{page}: no Colab link to {source}: {links}"
        assert binder in links, f"{page}: no Binder link to {source}: {links}"


def test_search_finds_a_term_from_a_notebook(site):
    results = sitecheck.search(site, "holonomy")
    assert any("04_5_gauges" in url for url in results), results


# ------------------------------------------------------------------------- fixture books
def _build_fixture(name: str, tmp_path_factory, execute: str = "force") -> Path:
    sys.path.insert(0, str(ROOT / "tools"))
    import build_book

    source = FIXTURES / name
    out = tmp_path_factory.mktemp(name)
    config = build_book.book_config(source, execute=execute, base=ROOT / "_config.yml")
    config["execute"]["allow_errors"] = True
    result = build_book.build(source, out, config=config)
    html = out / "_build" / "html"
    assert html.is_dir(), result.stdout[-2000:] + result.stderr[-2000:]
    return html


def test_executed_outputs_render(tmp_path_factory):
    """A small executed book: matplotlib figures load, the plotly figure draws with its slider."""
    html = _build_fixture("site_ok", tmp_path_factory)
    reports = {r.page: r for r in sitecheck.crawl(html)}
    assert not _problems(reports.values()), "\n".join(_problems(reports.values()))
    assert not sitecheck.check_links(html)
    figures = reports["figures.html (desktop)"].facts
    assert figures["images"] >= 1 and not figures["brokenImages"]
    plot = reports["interactive.html (desktop)"].facts
    assert plot["plotly"] == plot["plotlyDrawn"] == 1 and plot["plotlySliders"] == 1, plot
    assert reports["intro.html (desktop)"].facts["mjx"] >= 2


def test_the_checks_catch_deliberate_faults(tmp_path_factory):
    """A book with a broken image, a broken link, an error output and a script that throws:
    each must be reported (so a clean report above means something)."""
    html = _build_fixture("site_broken", tmp_path_factory)
    problems = [p for r in sitecheck.crawl(html) for p in r.problems]
    kinds = {p.kind for p in problems}
    assert {"broken image", "error in a cell output", "JavaScript error", "HTTP error"} <= kinds, problems
    assert any("deliberate error output" in p.detail for p in problems if p.kind == "error in a cell output")
    links = sitecheck.check_links(html)
    assert {p.kind for p in links} == {"broken link", "broken anchor"}, links


# ------------------------------------------------------------------------- interactive figures
def test_slider_of_an_interactive_figure_works_in_the_page(tmp_path):
    """A page holding a gdlutils slider figure as the book embeds it (the book renderer's HTML,
    plotly.js inline once): dragging the slider to step k shows frame k, with no JavaScript or
    console error, and no kernel."""
    import networkx as nx
    import plotly.io as pio
    import torch
    from playwright.sync_api import sync_playwright

    from gdlutils.graphs import from_networkx
    from gdlutils.plot import oversmoothing_figure
    from gdlutils.plot_mesh import use_plotly_in_book

    use_plotly_in_book()
    edge_index, _, n = from_networkx(nx.karate_club_graph(), weight=None)
    x = torch.randn(n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    fig = oversmoothing_figure(edge_index, x, num_layers=10)
    body = pio.renderers["gdl_book"].to_mimebundle(fig.to_dict())["text/html"]
    assert "Plotly.animate" not in body  # no auto-play: the figure waits for the reader
    from plotly.offline import get_plotlyjs

    # plotly.js once in the head, as use_plotly_in_book's first output puts it once per page
    head = f"<meta charset='utf-8'><link rel='icon' href='data:,'><script>{get_plotlyjs()}</script>"
    (tmp_path / "index.html").write_text(f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>")
    expected = {k: fig.frames[k].data[0].marker.color for k in range(11)}
    problems = []
    with sitecheck.serve(tmp_path) as base, sync_playwright() as p:
        browser = sitecheck._launch(p)
        page = browser.new_page(viewport=sitecheck.DESKTOP)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
        page.goto(base + "index.html")
        page.wait_for_selector(".js-plotly-plot .slider-rail-rect", timeout=30_000)
        rail = page.locator(".slider-rail-rect").first.bounding_box()
        y = rail["y"] + rail["height"] / 2
        state = "() => { const gd = document.querySelector('.js-plotly-plot'); " \
                "return [gd.layout.sliders[0].active, Array.from(gd._fullData[1].marker.color)]; }"
        for k in (7, 2):  # a click on the rail, then a drag back
            if k == 7:
                page.mouse.click(rail["x"] + rail["width"] * k / 10, y)
            else:
                page.mouse.down()
                page.mouse.move(rail["x"] + rail["width"] * k / 10, y, steps=5)
                page.mouse.up()
            page.wait_for_timeout(800)
            active, colours = page.evaluate(state)
            assert active == k
            assert colours == pytest.approx(list(expected[k]), abs=1e-12)
        browser.close()
    assert not problems, problems
