"""Small fixes to the HTML that Jupyter Book 1 writes, found by the browser tests.

- Jupyter Book registers the inline scripts (once with filename None, once with "") of sphinx-thebe and sphinx-togglebutton twice, so
  every page raised "Identifier 'THEBE_JS_URL' has already been declared": drop exact
  duplicate script entries from each page.
- The theme's default colour mode is empty unless set, so every page logged "Got invalid theme
  mode": default to the light mode (the book's figures are drawn for a light background).
"""
from __future__ import annotations


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    return (getattr(script, "filename", str(script)) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: handlers that run later (MathJax) append to this list


def _default_mode(app, pagename, templatename, context, doctree) -> None:
    context.setdefault("default_mode", "light")


def setup(app):
    # html-page-context stops at the first handler that returns a template name, so these run
    # early (a lower priority runs first); they return nothing.
    app.connect("html-page-context", _default_mode, priority=100)
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
