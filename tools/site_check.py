"""Open every page of the built course website in headless Chromium and check it.

Usage: ``python -m tools.site_check build/site [--notebooks notebooks]`` (what
``make test-site`` runs after ``make site``).

The site is served from 127.0.0.1 on a free port; every request to any other host is
blocked (the site must work offline: MathJax, fonts and scripts are served by the site
itself). A page fails when

* the browser logs a console error or an uncaught exception, or it asked another host;
* maths is left untypeset: a ``.math`` element without MathJax's output, or raw TeX
  (``$$``, ``\\frac``, ``\\(`` ...) in the page's text outside code;
* an image did not load (``naturalWidth`` 0);
* a link to the site itself points at a missing file, or at an anchor (``#id``) that the
  target page does not have.

With ``--notebooks``, every notebook must also have its page, a page must show an image
where its notebook stores a figure, and each cell tagged ``solution`` must be collapsed
behind a toggle. The search page must find a word every chapter uses. A full-page
screenshot of each page lands in artifacts/site/. The last line is
``site-check: N passed, N failed``.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tools.browser_check import CHROMIUM, CHROMIUM_ARGS, ensure_chromium
from tools.notebooks import find

ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1280, "height": 900}
PAGE_TIMEOUT_MS = 30_000
MAX_SCREENSHOT_HEIGHT = 30_000  # px
SOLUTION_TAG = "solution"
SEARCH_WORD = "softmax"
# Folders of the build that hold assets, not pages (their .html files are theme partials).
NOT_PAGES = {"_static", "_sources", "_images", "_downloads"}
# TeX that MathJax would have replaced: display/inline delimiters and common commands.
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\(?:frac|sum|begin|mathrm|mathbf|sqrt|log|exp)\b")

# Wait for MathJax to finish typesetting the page (when the page loads it at all).
MATHJAX_DONE = """async () => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) { await mj.startup.promise; }
  return !!(mj && mj.startup);
}"""

# Make lazy images load, wait (bounded) for every image, return the sources that failed.
BROKEN_IMAGES = """async (timeoutMs) => {
  const images = Array.from(document.images);
  images.forEach((img) => { img.loading = 'eager'; });
  const settled = images.map((img) => img.complete ? Promise.resolve() :
    new Promise((resolve) => { img.addEventListener('load', resolve);
                               img.addEventListener('error', resolve); }));
  await Promise.race([Promise.all(settled),
                      new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  return images.filter((img) => !(img.complete && img.naturalWidth > 0))
               .map((img) => img.getAttribute('src') || '(no src)');
}"""

# Everything the checks read from a typeset page, in one round trip.
PAGE_FACTS = """() => {
  const maths = Array.from(document.querySelectorAll('.math'));
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, kbd, script, style, textarea, mjx-container, .highlight')
       .forEach((node) => node.remove());
  const hidden = Array.from(document.querySelectorAll('details.hide.above-input'));
  return {
    title: document.title,
    mathCount: maths.length,
    untypeset: maths.filter((node) => !node.querySelector('mjx-container'))
                    .map((node) => node.textContent.trim().slice(0, 60)),
    text: clone.textContent,
    links: Array.from(document.querySelectorAll('a[href]')).map((a) => a.href),
    ids: Array.from(document.querySelectorAll('[id], a[name]'))
              .map((node) => node.id || node.getAttribute('name')),
    images: document.images.length,
    collapsedSolutions: hidden.filter((node) => !node.open).length,
    openSolutionOutputs: document.querySelectorAll('.tag_solution > .cell_output').length,
    hiddenCells: hidden.length,
  };
}"""

FULL_HEIGHT = "() => document.documentElement.scrollHeight"


@dataclass
class PageResult:
    name: str  # path inside the site, e.g. notebooks/01_softmax_formula.html
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        status = "FAIL" if self.failures else "ok  "
        return f"  {status} {self.name}  {self.seconds:.1f} s"


# --------------------------------------------------------------------------- pure parts


def find_pages(site: Path) -> list[str]:
    """Every HTML page of the site, as paths inside it, assets' folders left out."""
    return sorted(
        path.relative_to(site).as_posix()
        for path in site.rglob("*.html")
        if path.relative_to(site).parts[0] not in NOT_PAGES
    )


def raw_tex(text: str) -> list[str]:
    """Snippets of text around TeX that should have been typeset."""
    return [
        " ".join(text[max(0, m.start() - 20) : m.end() + 20].split())
        for m in RAW_TEX.finditer(text)
    ]


def link_failures(
    page: str, links: list[str], base: str, site: Path, ids: dict[str, set[str]]
) -> list[str]:
    """Dead internal links of ``page``: missing files, or anchors the target lacks.

    ``links`` are absolute URLs as the browser resolved them; those on ``base`` (the
    site's own origin) are checked, others (GitHub, Binder, licence texts) are not.
    ``ids`` maps site paths of pages to their element ids.
    """
    failures = []
    origin = urllib.parse.urlsplit(base)
    for link in sorted(set(links)):
        url = urllib.parse.urlsplit(link)
        if url.scheme not in ("http", "https") or url.netloc != origin.netloc:
            continue
        path = urllib.parse.unquote(url.path).lstrip("/")
        if path == "" or path.endswith("/"):
            path += "index.html"
        target = site / path
        if not target.is_file():
            failures.append(f"{page}: link to a missing file: {path}")
            continue
        fragment = urllib.parse.unquote(url.fragment)
        if fragment and target.suffix == ".html":
            known = ids.get(path)
            if known is None:
                known = ids[path] = html_ids(target)
            if fragment not in known:
                failures.append(f"{page}: link to a missing anchor: {path}#{fragment}")
    return failures


def html_ids(path: Path) -> set[str]:
    """Ids and anchor names in an HTML file that the browser did not visit."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return set(re.findall(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""", text))


def notebook_expectations(notebooks: Path) -> dict[str, dict[str, Any]]:
    """``{site page: what its notebook promises}``: figures, solution cells."""
    expected = {}
    for path in find([notebooks]):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook.get("cells", [])
        expected[f"notebooks/{path.stem}.html"] = {
            "notebook": f"{notebooks.name}/{path.name}",
            "figures": any(
                "image/png" in output.get("data", {})
                for cell in cells
                for output in cell.get("outputs", [])
            ),
            "solutions": sum(
                SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])
                for cell in cells
                if cell.get("cell_type") == "code"
            ),
        }
    return expected


def expectation_failures(page: str, facts: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    failures = []
    if expected["figures"] and facts.get("images", 0) == 0:
        failures.append(f"{page}: {expected['notebook']} stores a figure, the page shows none")
    if facts.get("collapsedSolutions", 0) != expected["solutions"]:
        failures.append(
            f"{page}: {expected['notebook']} has {expected['solutions']} solution cell(s), "
            f"the page collapses {facts.get('collapsedSolutions', 0)} behind a toggle"
        )
    if facts.get("openSolutionOutputs", 0):
        failures.append(
            f"{page}: {facts['openSolutionOutputs']} solution output(s) shown outside their "
            "toggle (the answers would be on the page)"
        )
    return failures


# --------------------------------------------------------------------------- serving


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass


@contextmanager
def serving(site: Path) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 and a free port; yield the base URL."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- the browser


def _watched_page(context: Any) -> tuple[Any, list[str]]:
    """A new page, and the list its console errors and uncaught exceptions are collected in."""
    page = context.new_page()
    console: list[str] = []
    page.on(
        "console",
        lambda message: console.append(message.text) if message.type == "error" else None,
    )
    page.on(
        "pageerror",
        lambda error: console.append(
            f"uncaught {getattr(error, 'name', '') or 'Error'}: {getattr(error, 'message', error)}"
        ),
    )
    return page, console


def check_page(context: Any, base: str, name: str, shots: Path) -> PageResult:
    result = PageResult(name)
    start = time.perf_counter()
    page, console = _watched_page(context)
    try:
        page.goto(base + urllib.parse.quote(name), wait_until="load", timeout=PAGE_TIMEOUT_MS)
        typeset = page.evaluate(MATHJAX_DONE)
        broken = page.evaluate(BROKEN_IMAGES, 10_000)
        page.wait_for_timeout(100)  # late console messages
        facts = page.evaluate(PAGE_FACTS)
        result.facts = facts
        for message in console:
            result.failures.append(f"{name}: console error: {message[:300]}")
        if facts["mathCount"] and not typeset:
            result.failures.append(f"{name}: the page has maths but MathJax did not start")
        for snippet in facts["untypeset"][:5]:
            result.failures.append(f"{name}: maths not typeset: {snippet}")
        snippets = raw_tex(facts["text"])
        if snippets:
            result.failures.append(
                f"{name}: raw TeX in the page text ({len(snippets)} places), "
                f"the first: ...{snippets[0]}..."
            )
        for source in broken:
            result.failures.append(f"{name}: image did not load: {source}")
        _screenshot(page, shots / (name.removesuffix(".html").replace("/", "__") + ".png"))
    except Exception as error:  # Playwright's TimeoutError, a crashed page, ...
        first_line = (str(error).splitlines() or [""])[0]
        result.failures.append(f"{name}: {type(error).__name__}: {first_line}")
    finally:
        page.close()
    result.seconds = time.perf_counter() - start
    return result


def check_search(context: Any, base: str, word: str) -> PageResult:
    """The search page finds ``word`` in the site's pages (the index and its script work)."""
    result = PageResult(f"search.html?q={word}")
    start = time.perf_counter()
    page, console = _watched_page(context)
    try:
        page.goto(f"{base}search.html?q={word}", wait_until="load", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_function(
            "() => document.querySelectorAll('#search-results li').length > 0",
            timeout=PAGE_TIMEOUT_MS,
        )
        found = page.evaluate("() => document.querySelectorAll('#search-results li').length")
        result.facts = {"found": found}
    except Exception as error:
        result.failures.append(f"search: no result for {word!r} ({type(error).__name__})")
    finally:
        page.close()
    result.failures += [f"search: console error: {message[:300]}" for message in console]
    result.seconds = time.perf_counter() - start
    return result


def _screenshot(page: Any, path: Path) -> None:
    try:
        height = min(page.evaluate(FULL_HEIGHT), MAX_SCREENSHOT_HEIGHT)
        page.screenshot(
            path=str(path),
            full_page=True,
            clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height},
            timeout=30_000,
        )
    except Exception as error:  # a missing screenshot must not hide the real failure
        print(f"  (no screenshot for {path.name}: {type(error).__name__})", file=sys.stderr)


def run_checks(
    site: Path, pages: list[str], shots: Path, notebooks: Path | None
) -> list[PageResult]:
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    expected = notebook_expectations(notebooks) if notebooks else {}
    results: list[PageResult] = []
    with serving(site) as base, sync_playwright() as playwright:
        host = urllib.parse.urlsplit(base).netloc
        blocked: list[tuple[str, str]] = []  # (page that asked, url)

        def route(route: Any) -> None:
            url = route.request.url
            if urllib.parse.urlsplit(url).netloc == host or url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                frame = route.request.frame
                blocked.append((frame.url if frame else "?", url))
                route.abort()

        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport=VIEWPORT)
        context.route("**/*", route)
        ids: dict[str, set[str]] = {}
        for name in pages:
            blocked.clear()
            result = check_page(context, base, name, shots)
            for _, url in blocked:
                result.failures.append(f"{name}: asked another host (blocked): {url[:200]}")
            ids[name] = set(result.facts.get("ids", []))
            if name in expected:
                result.failures += expectation_failures(name, result.facts, expected[name])
            results.append(result)
        for name, wanted in expected.items():
            if name not in pages:
                results.append(
                    PageResult(name, failures=[f"{wanted['notebook']} has no page ({name})"])
                )
        for result in results:  # every page's ids are known now
            result.failures += link_failures(
                result.name, result.facts.get("links", []), base, site, ids
            )
        if "search.html" in pages:
            results.append(check_search(context, base, SEARCH_WORD))
        context.close()
        browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built site (build/site)")
    parser.add_argument(
        "--notebooks", type=Path, help="the notebooks the site was built from (each needs a page)"
    )
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=ROOT / "artifacts" / "site",
        help="where the screenshots go (default: artifacts/site)",
    )
    args = parser.parse_args(argv)
    pages = find_pages(args.site) if args.site.is_dir() else []
    if "index.html" not in pages:  # an empty run passing would hide a wrong path
        raise SystemExit(f"site check: no index.html in {args.site} (run `make site` first?)")
    ensure_chromium()
    try:
        import playwright  # noqa: F401
    except ImportError:
        raise SystemExit("site check needs the playwright package: run `make setup`") from None
    start = time.perf_counter()
    results = run_checks(args.site, pages, args.artifacts, args.notebooks)
    for result in results:
        extra = f"  ({result.facts['found']} results)" if "found" in result.facts else ""
        print(result.line() + extra, flush=True)
        for failure in result.failures:
            print(f"       {failure}", flush=True)
    failed = sum(1 for result in results if result.failures)
    print(
        f"site check: {len(results)} checks in {time.perf_counter() - start:.1f} s, "
        f"screenshots in {args.artifacts}"
    )
    print(f"site-check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
