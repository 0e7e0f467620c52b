"""Check the rendered book in a real headless browser (the system Chromium), with the network blocked.

    python tools/check_html.py                      # every page of _toc.yml in _build/html
    python tools/check_html.py --screenshots /tmp/shots   # and a full-page PNG of each

For every page: it loads from ``file://``; requests to any non-local URL are blocked and reported (the book
must read offline: MathJax and the widget manager are served from the build); no error output or traceback;
no cell output that is a bare Python repr (a quoted string, ``<... at 0x...>``, ``<... object>``,
``<Figure size ...>``: a cell that meant to display something and printed its value instead); nothing cut off at
the page's width (a display equation, a code line or a text output wider than its box at the 1280-px desktop
viewport: code wraps and long equations shrink to fit, see tools/static/); math rendered (each Sphinx math element holds
a MathJax ``mjx-container``, no raw TeX left in the text); a widget rendered wherever the page saved widget
views; no uncaught JavaScript exception; and each chapter page (a notebook) shows at least one figure (an
``<img>`` in a cell output that decoded to a nonzero size) and a Colab launch button.
Exit status 1 with one line per failure naming the page and what failed.

Driver: Playwright for Python (a PyPI package, in requirements.txt) launching the system Chromium through
``executable_path`` (``$CHROMIUM``, else ``chromium`` / ``chromium-browser`` / ``google-chrome`` on the PATH, else
a browser installed with ``playwright install chromium``). Chosen over Selenium + Debian's ``chromium-driver``
because the check needs request interception (block and list every non-local URL), uncaught page errors and
full-page screenshots, which Playwright's API has built in and Selenium reaches only through raw DevTools
calls; and it needs no second system package whose version must match the browser. Measured here: launching
Chromium 156 through Playwright 1.65 and loading a page takes ~2.7 s, once per check.

Without a browser the check cannot run: ``find_browser`` says why in one line. The build then skips the check
with that line, except in CI (``CI=true``), where the check is required.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from book_toc import REPO, BuildError, toc_files

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio",
                  "--allow-file-access-from-files",
                  # Second guard after the request interception: no host name resolves, nothing leaves the machine.
                  "--host-resolver-rules=MAP * ~NOTFOUND"]
VIEWPORT = {"width": 1280, "height": 900}
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome", "devtools:")
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def ci() -> bool:
    """Whether this runs in CI (``CI=true``, as GitHub Actions and .ci/run set it): there the check is required."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def find_browser() -> tuple[str | None, str]:
    """(executable, "") of the Chromium to drive, or (None, one line saying what is missing and how to get it)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return None, "Playwright for Python is not installed (pip install -r requirements.txt)"
    wanted = os.environ.get("CHROMIUM")
    if wanted:
        exe = shutil.which(wanted)
        return (exe, "") if exe else (None, f"$CHROMIUM={wanted!r} is not an executable")
    for name in BROWSER_NAMES:
        exe = shutil.which(name)
        if exe:
            return exe, ""
    managed = _playwright_chromium()
    if managed:
        return managed, ""
    return None, ("no Chromium found (Debian/Ubuntu: apt-get install -y chromium; or python -m playwright install "
                  "chromium; or set CHROMIUM to a Chrome/Chromium executable)")


def _playwright_chromium() -> str | None:
    """The Chromium ``playwright install chromium`` downloaded, if it did."""
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            path = pw.chromium.executable_path
    except Exception:
        return None
    return path if path and Path(path).exists() else None


# Runs in the page after load: waits for MathJax and the widget manager, then reports what is on the page.
PROBE = r"""
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
  const rendered = () => document.querySelectorAll('.widget-subarea > *, .jupyter-widgets.widget-subarea *').length;
  for (let i = 0; i < 100 && views.length && rendered() === 0; i++) { await sleep(100); }
  if (views.length) { await sleep(300); }
  const article = document.querySelector('article') || document.body;
  const text = el => { const c = el.cloneNode(true);
    c.querySelectorAll('pre, code, script, style, .highlight, mjx-container').forEach(n => n.remove());
    return c.textContent; };
  const imgs = [...article.querySelectorAll('.cell_output img')];
  const mathEls = [...article.querySelectorAll('.math')];
  await new Promise(requestAnimationFrame);  // after tools/static/fit_math.js resized the equations
  // Content wider than its box (scrolled or hidden, either way cut off where the reader sees the page).
  const clipped = sel => [...article.querySelectorAll(sel)].filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 2)
                         .map(e => `${e.textContent.trim().slice(0, 40)} (${e.scrollWidth} px in ${e.clientWidth})`);
  return JSON.stringify({
    title: document.title,
    figures: imgs.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0).length,
    brokenImages: [...article.querySelectorAll('img')].filter(i => !(i.complete && i.naturalWidth > 0))
                  .map(i => i.getAttribute('src')),
    errorOutputs: article.querySelectorAll('.output.traceback, .output.error, .cell_output .traceback').length,
    tracebackText: article.textContent.includes('Traceback (most recent call last)'),
    math: mathEls.length,
    unrenderedMath: mathEls.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.trim().slice(0, 60)),
    mathjax: !!(window.MathJax && MathJax.version),
    // TeX the parser left as text: any $$, or $...$ around a backslash command (e.g. a raw $\\alpha$).
    rawMath: (text(article).match(/\$\$|\$[^$\n]{0,80}\\[a-zA-Z]+[^$\n]{0,80}\$/) || [null])[0],
    colab: !!document.querySelector('a[href*="colab.research.google.com/github/"]'),
    clippedMath: clipped('mjx-container[display="true"]'),
    clippedCode: clipped('pre'),
    widgetViews: views.length,
    widgetsRendered: rendered(),
    // text/plain results that are a Python repr: a quoted string, an object address, a matplotlib object
    reprOutputs: [...article.querySelectorAll('.cell_output .output.text_plain')]
                 .map(o => (o.querySelector('pre') || o).textContent.trim())
                 .filter(t => /^[bruf]?(['"])[\s\S]*\1$/.test(t) || /^<[\w.]+[^<>]* at 0x[0-9a-f]+>$/.test(t)
                              || /^<[\w.]+[^<>]* object>$/.test(t)
                              || /^(\[)?<(Figure size|matplotlib\.)/.test(t)).map(t => t.slice(0, 60)),
    widgetErrors: document.querySelectorAll('.widget-subarea .jupyter-widgets-error-widget').length,
  });
})()
"""


class Browser:
    """Headless Chromium driven by Playwright: one page, every non-local request blocked and recorded."""

    def __init__(self, executable: str | None = None, timeout: float = 60.0):
        from playwright.sync_api import sync_playwright

        exe = executable
        if exe is None:
            exe, why = find_browser()
            if exe is None:
                raise RuntimeError(why)
        self.timeout_ms = timeout * 1000
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS, headless=True,
                                                     timeout=self.timeout_ms)
        except Exception as e:  # playwright's Error: say which browser, as a RuntimeError like the others
            self._pw.stop()
            raise RuntimeError(f"{exe} did not start under Playwright: {str(e).splitlines()[0]}") from None
        self.page = self._browser.new_page(viewport=VIEWPORT)
        self.page.set_default_timeout(self.timeout_ms)
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.exceptions: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("websocket", lambda ws: self.requests.append(ws.url))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("pageerror", lambda e: self.exceptions.append(str(e)))
        self.page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(LOCAL_SCHEMES)
                        else route.abort("blockedbyclient"))

    def load(self, url: str) -> str | None:
        """Navigate and wait for the load event; returns the navigation error, if any."""
        self.requests, self.failed, self.exceptions = [], [], []
        try:
            self.page.goto(url, wait_until="load")
        except Exception as e:  # playwright's Error / TimeoutError
            return str(e).splitlines()[0]
        return None

    def evaluate(self, expression: str):
        return self.page.evaluate(expression)

    def screenshot(self, path: Path) -> None:
        """The whole page, top to bottom and edge to edge."""
        self.page.screenshot(path=str(path), full_page=True)

    def close(self) -> None:
        try:
            self._browser.close()
        finally:
            self._pw.stop()


SMOKE_PROBE = ("JSON.stringify({banner: document.body.innerText.includes('Smoke run'), "
               "box: !!document.querySelector('.smoke-run')})")


def check_page(browser: Browser, html: Path, *, chapter: bool, name: str, screenshot: Path | None = None,
               smoke: bool = False) -> list[str]:
    """Everything wrong with one page, one message each ("<page>: <what>"). ``smoke``: the book was built at the
    smoke scale, so every page must say so (the banner) and every chapter page show its smoke warning box."""
    if not html.exists():
        return [f"{name}: page not built ({html} missing)"]
    error = browser.load(html.resolve().as_uri())
    if error:
        return [f"{name}: page did not load: {error}"]
    info = json.loads(browser.evaluate(PROBE))
    if screenshot:
        browser.screenshot(screenshot)
    problems = []
    blocked = sorted({u for u in browser.requests if not u.startswith(LOCAL_SCHEMES)})
    if blocked:
        problems.append(f"requests non-local URL(s) (the book must read offline): {', '.join(blocked[:5])}")
    failed = sorted({f for f in browser.failed if f.startswith(LOCAL_SCHEMES)})
    if failed:
        problems.append(f"resources failed to load: {', '.join(failed[:5])}")
    if browser.exceptions:
        problems.append(f"JavaScript exception: {browser.exceptions[0]}"[:300])
    if info["brokenImages"]:
        problems.append(f"images that did not load: {info['brokenImages'][:5]}")
    if chapter and info["figures"] == 0:
        problems.append("no figure: a chapter page needs at least one image from a cell output")
    if chapter and not info["colab"]:
        problems.append("no Colab launch button (launch_buttons.colab_url and repository.url in _config.yml)")
    if info["reprOutputs"]:
        n, first = len(info["reprOutputs"]), info["reprOutputs"][0]
        problems.append(f"{n} cell output(s) that are a bare Python repr, e.g. {first!r} (display it, or end the "
                        "cell with ';')")
    if info["errorOutputs"] or info["tracebackText"]:
        problems.append(f"error output / traceback on the page ({info['errorOutputs']} error outputs)")
    if info["math"] and not info["mathjax"]:
        problems.append("math on the page but MathJax did not load")
    if info["unrenderedMath"]:
        n, first = len(info["unrenderedMath"]), info["unrenderedMath"][0]
        problems.append(f"{n} math element(s) not rendered by MathJax, e.g. {first!r}")
    if info["rawMath"]:
        problems.append(f"raw TeX left in the text (math the parser did not recognize): {info['rawMath'][:80]!r}")
    if info["clippedMath"]:
        n, first = len(info["clippedMath"]), info["clippedMath"][0]
        problems.append(f"{n} display equation(s) cut off at the page's width, e.g. {first!r} (split it into lines)")
    if info["clippedCode"]:
        n, first = len(info["clippedCode"]), info["clippedCode"][0]
        problems.append(f"{n} code block(s) or text output(s) cut off at the page's width, e.g. {first!r}")
    if info["widgetViews"] and (info["widgetsRendered"] == 0 or info["widgetErrors"]):
        problems.append(f"{info['widgetViews']} saved widget view(s) but the widget manager rendered none")
    if smoke:
        said = json.loads(browser.evaluate(SMOKE_PROBE))
        if not said["banner"]:
            problems.append("a smoke build, but the page does not say 'Smoke run'")
        if chapter and not said["box"]:
            problems.append("a smoke build, but the chapter shows no smoke warning (notebook.setup)")
    return [f"{name}: {p}" for p in problems]


def check_site(html_dir: Path, pages: list[Path], *, screenshots: Path | None = None, smoke: bool = False) -> list[str]:
    """Check every toc page (``book/x.ipynb`` -> ``html_dir/book/x.html``); notebooks are chapter pages.
    ``smoke``: every page must say it is a smoke run (``check_page``)."""
    failures = []
    if screenshots:
        screenshots.mkdir(parents=True, exist_ok=True)
    browser = Browser()
    try:
        if not (html_dir / "index.html").exists():
            failures.append(f"index.html: missing in {html_dir}")
        for page in pages:
            html = html_dir / page.with_suffix(".html")
            shot = screenshots / f"{page.stem}.png" if screenshots else None
            found = check_page(browser, html, chapter=page.suffix == ".ipynb", name=str(page), screenshot=shot,
                               smoke=smoke)
            print(f"[check] {page}: {'ok' if not found else 'FAILED'}", flush=True)
            failures += found
    finally:
        browser.close()
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("html", nargs="?", type=Path, default=None, help="the built site (default: ROOT/_build/html)")
    ap.add_argument("--root", type=Path, default=REPO, help="the book's root, for _toc.yml")
    ap.add_argument("--screenshots", type=Path, default=None, help="save a full-page PNG of every page here")
    ap.add_argument("--smoke", action="store_true", help="a smoke build: every page must say so")
    args = ap.parse_args(argv)
    try:
        pages = toc_files(args.root)
    except BuildError as e:
        print(f"CHECK FAILED: {e}", file=sys.stderr)
        return 1
    try:
        failures = check_site(args.html or args.root / "_build" / "html", pages, screenshots=args.screenshots,
                              smoke=args.smoke)
    except (RuntimeError, TimeoutError) as e:
        failures = [f"browser check could not run: {e}"]
    if failures:
        print("CHECK FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"all {len(pages)} pages ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
