"""Checks of the built website as a reader's browser sees it (used by tests/test_browser.py).

Two layers:

- :func:`check_links` reads the HTML files: every internal link points at a page that exists,
  and every ``#anchor`` at an element with that id.
- :func:`crawl` serves the site over HTTP on the loopback and opens each page in headless
  Chromium (Debian's ``chromium``, driven by Playwright), with every request that leaves the
  loopback blocked, as on a closed network. It collects what a reader would meet: JavaScript
  errors, console errors, images that did not load, math left unrendered, cell outputs with a
  traceback, plotly figures that did not draw, horizontal scrolling at phone width; it also
  returns what it measured on each page (launch links, counts) and writes screenshots.

Each problem is a :class:`Problem` naming the page, a kind and the detail.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

#: The browser: Debian's chromium by default; GDL_CHROMIUM names another executable, or
#: "playwright" for the browser that `playwright install chromium` downloaded (GitHub runners).
CHROMIUM = os.environ.get("GDL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@dataclass(frozen=True)
class Problem:
    page: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: [{self.kind}] {self.detail}"


@dataclass
class PageReport:
    page: str
    problems: list[Problem] = field(default_factory=list)
    facts: dict = field(default_factory=dict)


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package `playwright` is not installed (pip install playwright)"
    if CHROMIUM != "playwright" and not Path(CHROMIUM).exists():
        return "Chromium is not installed (Debian: apt-get install chromium)"
    return None


def _launch(p):
    if CHROMIUM == "playwright":
        return p.chromium.launch(args=CHROMIUM_ARGS)
    return p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def pages_of(html: Path) -> list[str]:
    """The site's content pages (relative paths), without Sphinx's generated index pages."""
    skip = {"genindex.html", "py-modindex.html", "search.html"}
    return sorted(
        str(p.relative_to(html))
        for p in html.rglob("*.html")
        if not ({"_static", "_sources", "_modules", "reports", "_images"} & set(p.relative_to(html).parts))
        and str(p.relative_to(html)) not in skip
        and not _is_redirect(p)
    )


def _is_redirect(path: Path) -> bool:
    """Jupyter Book's root index.html only redirects to the first page."""
    head = path.read_text(errors="replace")[:2000].lower()
    return 'http-equiv="refresh"' in head


# ---------------------------------------------------------------------------------- static links
class _Anchors(HTMLParser):
    """Collects the ids and the link targets of a page (script contents are not parsed)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.hrefs: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.add(attrs["href"])


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(path.read_text(errors="replace"))
    return parser


def check_links(html: Path, pages: list[str] | None = None) -> list[Problem]:
    """Every internal link of every page resolves to a file, and every anchor to an id."""
    problems = []
    for page in pages or pages_of(html):
        path = html / page
        for href in sorted(_parse(path).hrefs):
            url = urlparse(href)
            if url.scheme or href.startswith(("//", "mailto:", "javascript:")):
                continue
            target, fragment = urldefrag(href)
            target_path = (path.parent / unquote(target)).resolve() if target else path
            if target_path.is_dir():
                target_path = target_path / "index.html"
            if not target_path.exists():
                problems.append(Problem(page, "broken link", href))
            elif fragment and target_path.suffix == ".html" and unquote(fragment) not in _parse(target_path).ids:
                problems.append(Problem(page, "broken anchor", href))
    return problems


# ---------------------------------------------------------------------------------- the browser
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a page closed mid-download: not a fault
        pass


@contextmanager
def serve(html: Path):
    """Serve `html` on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# What the page looks like once loaded: one evaluation in the page, returning plain data.
_INSPECT = r"""
async () => {
  const out = {};
  // math: wait for MathJax to finish typesetting
  out.mathElements = document.querySelectorAll('.math, div.math, span.math').length;
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await Promise.race([MathJax.startup.promise, new Promise(r => setTimeout(r, 15000))]); }
    catch (e) { out.mathError = String(e); }
  }
  out.mjx = document.querySelectorAll('mjx-container').length;
  out.mjxErrors = Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent).slice(0, 5);
  // text outside code, scripts and rendered math that still looks like LaTeX
  const skip = 'pre, code, script, style, mjx-container, .highlight, textarea, .mjx-chtml';
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement && node.parentElement.closest(skip)) continue;
    const t = node.textContent;
    const m = t.match(/\$\$|\\begin\{|\\frac|\\mathbb|\\mathcal/);
    if (m) raw.push(t.trim().slice(0, 80));
  }
  out.rawMath = raw.slice(0, 5);
  // images
  const imgs = Array.from(document.images);
  imgs.forEach(img => { img.loading = 'eager'; });  // lazy images off screen would never load
  const settled = Promise.all(imgs.map(img => img.complete ? null : new Promise(r => { img.onload = img.onerror = r; })));
  await Promise.race([settled, new Promise(r => setTimeout(r, 10000))]);
  out.images = imgs.length;
  out.brokenImages = imgs.filter(img => img.naturalWidth === 0).map(img => img.getAttribute('src'));
  // cell outputs with an error
  out.tracebacks = Array.from(document.querySelectorAll('.cell_output .output, .cell_output pre'))
    // an error output (myst-nb marks it .traceback / .error), or a traceback printed to a
    // stream; a cell that prints an exception's message on purpose ("ValueError: ...") is fine
    .filter(e => e.matches('.traceback, .error') || /Traceback \(most recent call last\)/.test(e.textContent))
    .map(e => e.textContent.trim().split('\n').slice(-1)[0].slice(0, 120));
  // plotly
  const plots = Array.from(document.querySelectorAll('.plotly-graph-div'));
  out.plotly = plots.length;
  out.plotlyDrawn = plots.filter(p => p.classList.contains('js-plotly-plot') && p.querySelector('svg.main-svg, canvas')).length;
  out.plotlySliders = plots.filter(p => p.querySelector('.slider-container, g.slider-container')).length;
  // launch buttons
  out.launch = Array.from(document.querySelectorAll('a[href*="colab.research.google.com"], a[href*="mybinder.org"]')).map(a => a.href);
  // layout
  out.scrollWidth = document.documentElement.scrollWidth;
  out.innerWidth = window.innerWidth;
  return out;
}
"""


def _normalise(url: str) -> str:
    # launch links read ".../blob/main/./book/x.ipynb"; a browser drops the "./" segment
    return re.sub(r"/\./", "/", url)


def crawl(
    html: Path,
    pages: list[str] | None = None,
    *,
    phone_pages: list[str] = (),
    screenshots: Path | None = None,
    settle_ms: int = 300,
) -> list[PageReport]:
    """Open every page in Chromium (desktop width, and phone width for `phone_pages`)."""
    from playwright.sync_api import sync_playwright

    pages = pages if pages is not None else pages_of(html)
    reports = []
    with serve(html) as base, sync_playwright() as p:
        browser = _launch(p)
        try:
            for width_name, viewport, todo in (("desktop", DESKTOP, pages), ("phone", PHONE, list(phone_pages))):
                context = browser.new_context(viewport=viewport)
                # a closed network: anything that is not this site is refused
                context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
                for page_name in todo:
                    reports.append(_visit(context, base, page_name, width_name, screenshots, settle_ms))
                context.close()
        finally:
            browser.close()
    return reports


def _visit(context, base: str, page_name: str, width_name: str, screenshots: Path | None, settle_ms: int) -> PageReport:
    report = PageReport(f"{page_name} ({width_name})")
    events: list[Problem] = []
    page = context.new_page()
    page.on("pageerror", lambda e: events.append(Problem(report.page, "JavaScript error", str(e))))
    page.on(
        "console",
        lambda m: events.append(Problem(report.page, "console error", m.text)) if m.type == "error" else None,
    )
    page.on(
        "response",
        lambda r: events.append(Problem(report.page, "HTTP error", f"{r.status} {r.url}")) if r.status >= 400 else None,
    )
    try:
        page.goto(base + page_name, wait_until="load")
        facts = page.evaluate(_INSPECT)
        page.wait_for_timeout(settle_ms)  # late errors from async scripts
        if screenshots is not None:
            target = screenshots / width_name / (page_name.replace("/", "__").removesuffix(".html") + ".png")
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target))
    finally:
        page.close()
    report.facts = facts
    report.problems.extend(events)
    add = lambda kind, detail: report.problems.append(Problem(report.page, kind, detail))  # noqa: E731
    for src in facts["brokenImages"]:
        add("broken image", str(src))
    if facts["mathElements"] and not facts["mjx"]:
        add("math not rendered", f"{facts['mathElements']} math elements, no mjx-container")
    for raw in facts["rawMath"]:
        add("raw LaTeX in the text", raw)
    for err in facts["mjxErrors"]:
        add("MathJax error", err)
    for tb in facts["tracebacks"]:
        add("error in a cell output", tb)
    if facts["plotly"] != facts["plotlyDrawn"]:
        add("plotly figure not drawn", f"{facts['plotlyDrawn']} of {facts['plotly']} drawn")
    if width_name == "phone" and facts["scrollWidth"] > facts["innerWidth"] + 1:
        add("horizontal scrolling at phone width", f"page is {facts['scrollWidth']} px wide in a {facts['innerWidth']} px window")
    facts["launch"] = [_normalise(u) for u in facts["launch"]]
    return report


def search(html: Path, term: str) -> list[str]:
    """Run the site's own search for `term`; returns the result links."""
    from playwright.sync_api import sync_playwright

    with serve(html) as base, sync_playwright() as p:
        browser = _launch(p)
        try:
            page = browser.new_page()
            page.goto(f"{base}search.html?q={term}", wait_until="load")
            page.wait_for_selector("#search-results li a, ul.search li a", timeout=15000)
            return page.eval_on_selector_all("#search-results li a, ul.search li a", "els => els.map(e => e.href)")
        finally:
            browser.close()
