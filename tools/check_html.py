"""Check the rendered book in a real headless browser (Debian ``chromium``), with the network blocked.

    python tools/check_html.py                      # every page of _toc.yml in _build/html
    python tools/check_html.py --screenshots /tmp/shots

For every page: it loads from ``file://``; requests to any non-local URL are blocked and reported (the book
must read offline: MathJax and the widget manager are served from the build); no error output or traceback;
math rendered (each Sphinx math element holds a MathJax ``mjx-container``, no raw TeX left in the text); a widget
rendered wherever the page saved widget views; no uncaught JavaScript exception; and each chapter page
(a notebook) shows at least one figure (an ``<img>`` in a cell output that decoded to a nonzero size) and a
Colab launch button.
Exit status 1 with one line per failure naming the page and what failed.

The browser is driven through the Chrome DevTools protocol over ``--remote-debugging-pipe`` (fd 3 / fd 4,
NUL-terminated JSON), so no client library is needed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio",
                  "--allow-file-access-from-files",
                  # Second guard after Network.setBlockedURLs: no host name resolves, so nothing leaves the machine.
                  "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1280,2000"]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome", "devtools:")

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
    widgetViews: views.length,
    widgetsRendered: rendered(),
    widgetErrors: document.querySelectorAll('.widget-subarea .jupyter-widgets-error-widget').length,
  });
})()
"""


class Browser:
    """Headless chromium spoken to with the DevTools protocol over a pipe; one tab, flat session."""

    def __init__(self, executable: str | None = None, timeout: float = 60.0):
        exe = executable or os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
        exe = shutil.which(exe) if exe else None
        if not exe:
            raise RuntimeError("chromium not found: the browser check needs it (Debian: apt-get install -y chromium; "
                               "or set CHROMIUM to a Chrome/Chromium executable)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="check_html_")
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # Move our ends above 10 so the dup2 onto 3 / 4 in the child cannot clobber one another.
        high = [os.dup2(fd, 100 + i) for i, fd in enumerate((to_chrome_r, from_chrome_w))]

        def child_fds():
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen([exe, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
                                      "about:blank"], preexec_fn=child_fds, close_fds=False,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (to_chrome_r, from_chrome_w, *high):
            os.close(fd)
        self.w = os.fdopen(to_chrome_w, "wb", buffering=0)
        self.r = os.fdopen(from_chrome_r, "rb", buffering=0)
        self.buf = b""
        self.next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            self.call(f"{domain}.enable", session=True)
        self.call("Network.setBlockedURLs", session=True, urls=["http://*", "https://*", "ws://*", "wss://*"])

    def _read(self, timeout: float | None = None) -> dict:
        while b"\0" not in self.buf:
            if not select.select([self.r], [], [], self.timeout if timeout is None else max(timeout, 0.01))[0]:
                raise TimeoutError(f"chromium said nothing for {self.timeout:.0f} s")
            chunk = self.r.read(1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe (did it crash?)")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, session: bool = False, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self.w.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            reply = self._read(deadline - time.monotonic())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)
        raise TimeoutError(f"{method}: no reply in {self.timeout:.0f} s")

    def wait_event(self, method: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e["method"] == method for e in self.events):
                return True
            try:
                self.events.append(self._read(deadline - time.monotonic()))
            except TimeoutError:
                return False
        return False

    def load(self, url: str) -> tuple[str | None, list[dict]]:
        """Navigate and wait for the load event; returns (navigation error, events seen during the load)."""
        self.events = []
        nav = self.call("Page.navigate", session=True, url=url)
        if nav.get("errorText"):
            return nav["errorText"], self.events
        if not self.wait_event("Page.loadEventFired", self.timeout):
            return f"no load event in {self.timeout:.0f} s", self.events
        return None, self.events

    def evaluate(self, expression: str):
        res = self.call("Runtime.evaluate", session=True, expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"].get("exception", {}).get("description", "JS exception"))
        return res["result"].get("value")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for f in (self.w, self.r):
            f.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def check_page(browser: Browser, html: Path, *, chapter: bool, name: str, screenshot: Path | None = None) -> list[str]:
    """Everything wrong with one page, one message each ("<page>: <what>")."""
    if not html.exists():
        return [f"{name}: page not built ({html} missing)"]
    error, events = browser.load(html.resolve().as_uri())
    if error:
        return [f"{name}: page did not load: {error}"]
    info = json.loads(browser.evaluate(PROBE))
    events = browser.events
    if screenshot:
        browser.screenshot(screenshot)
    problems = []
    blocked = sorted({e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
                      and not e["params"]["request"]["url"].startswith(LOCAL_SCHEMES)})
    if blocked:
        problems.append(f"requests non-local URL(s) (the book must read offline): {', '.join(blocked[:5])}")
    urls = {e["params"]["requestId"]: e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"}
    failed = sorted({f"{urls.get(e['params']['requestId'], '?')} ({e['params'].get('errorText')})" for e in events
                     if e["method"] == "Network.loadingFailed" and not e["params"].get("blockedReason")
                     and urls.get(e["params"]["requestId"], "").startswith(LOCAL_SCHEMES)})
    if failed:
        problems.append(f"resources failed to load: {', '.join(failed[:5])}")
    exceptions = [e["params"]["exceptionDetails"] for e in events if e["method"] == "Runtime.exceptionThrown"]
    if exceptions:
        d = exceptions[0]
        problems.append(f"JavaScript exception: {d.get('exception', {}).get('description', d.get('text'))}"[:300])
    if info["brokenImages"]:
        problems.append(f"images that did not load: {info['brokenImages'][:5]}")
    if chapter and info["figures"] == 0:
        problems.append("no figure: a chapter page needs at least one image from a cell output")
    if chapter and not info["colab"]:
        problems.append("no Colab launch button (launch_buttons.colab_url and repository.url in _config.yml)")
    if info["errorOutputs"] or info["tracebackText"]:
        problems.append(f"error output / traceback on the page ({info['errorOutputs']} error outputs)")
    if info["math"] and not info["mathjax"]:
        problems.append("math on the page but MathJax did not load")
    if info["unrenderedMath"]:
        n, first = len(info["unrenderedMath"]), info["unrenderedMath"][0]
        problems.append(f"{n} math element(s) not rendered by MathJax, e.g. {first!r}")
    if info["rawMath"]:
        problems.append(f"raw TeX left in the text (math the parser did not recognize): {info['rawMath'][:80]!r}")
    if info["widgetViews"] and (info["widgetsRendered"] == 0 or info["widgetErrors"]):
        problems.append(f"{info['widgetViews']} saved widget view(s) but the widget manager rendered none")
    return [f"{name}: {p}" for p in problems]


def check_site(html_dir: Path, pages: list[Path], *, screenshots: Path | None = None) -> list[str]:
    """Check every toc page (``book/x.ipynb`` -> ``html_dir/book/x.html``); notebooks are chapter pages."""
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
            found = check_page(browser, html, chapter=page.suffix == ".ipynb", name=str(page), screenshot=shot)
            print(f"[check] {page}: {'ok' if not found else 'FAILED'}", flush=True)
            failures += found
    finally:
        browser.close()
    return failures


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(TOOLS))
    from build_book import REPO, BuildError, toc_files

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("html", nargs="?", type=Path, default=None, help="the built site (default: ROOT/_build/html)")
    ap.add_argument("--root", type=Path, default=REPO, help="the book's root, for _toc.yml")
    ap.add_argument("--screenshots", type=Path, default=None, help="save a full-page PNG of every page here")
    args = ap.parse_args(argv)
    try:
        pages = toc_files(args.root)
    except BuildError as e:
        print(f"CHECK FAILED: {e}", file=sys.stderr)
        return 1
    try:
        failures = check_site(args.html or args.root / "_build" / "html", pages, screenshots=args.screenshots)
    except (RuntimeError, TimeoutError) as e:
        failures = [f"browser check could not run: {e}"]
    if failures:
        print("CHECK FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"all {len(pages)} pages ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
