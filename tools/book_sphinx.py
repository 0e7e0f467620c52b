"""Sphinx fixes for this book, loaded from _config.yml (``sphinx.local_extensions``).

sphinx-thebe adds its configuration as an inline script (``app.add_js_file(None, body=...)``) after the HTML
builder started; Sphinx 7.4 keeps both the registry's copy (filename ``''``) and the builder's (filename
``None``), so every page declares ``const THEBE_JS_URL`` twice and the browser throws a SyntaxError (which
tools/check_html.py rightly reports). Drop the duplicate inline scripts from each page.

And add this book's own assets (``tools/static``, copied into the build's static folder by tools/build_book.py):
``book.css`` wraps long code lines at the page's width, ``fit_math.js`` shrinks a display equation wider than
the text column to fit it (MathJax 3 cannot break lines), and what is still too wide scrolls.
"""

from __future__ import annotations

STATIC = ("book.css", "fit_math.js")


def dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        key = (getattr(js, "filename", None) or "", tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    scripts[:] = kept


def setup(app):
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.add_css_file("book.css")
    app.add_js_file("fit_math.js")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
