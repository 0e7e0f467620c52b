"""Sphinx fixes for this book, loaded from _config.yml (``sphinx.local_extensions``).

sphinx-thebe adds its configuration as an inline script (``app.add_js_file(None, body=...)``) after the HTML
builder started; Sphinx 7.4 keeps both the registry's copy (filename ``''``) and the builder's (filename
``None``), so every page declares ``const THEBE_JS_URL`` twice and the browser throws a SyntaxError (which
tools/check_html.py rightly reports). Drop the duplicate inline scripts from each page.
"""

from __future__ import annotations


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
    return {"parallel_read_safe": True, "parallel_write_safe": True}
