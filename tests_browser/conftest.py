"""Fixtures for the browser test of the rendered book (`make book`, then `make browser`).

The built site `_build/html` is served on 127.0.0.1 and opened in the system Chromium
(Debian's `chromium` package) through Playwright, headless. Nothing here downloads a browser:
`playwright install` is never run, the browser is always given by `executable_path`.

Requests that leave 127.0.0.1 are recorded and aborted, so the test sees the book exactly as a
reader without a network does, whether or not the machine has one.

Missing pieces (no built book, no Playwright, no Chromium) skip the tests with the reason;
with GANLAB_REQUIRE_BROWSER=1 (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REQUIRE = os.environ.get("GANLAB_REQUIRE_BROWSER") == "1"

# Chromium flags for a quiet, headless, offline run (no sync, updates or phoning home).
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Messages that every page of a Jupyter Book 1.0.4 build prints, with nothing wrong with the
# book; they are filtered by their exact text (and listed in the summary), nothing broader.
BENIGN_MESSAGES = {
    # sphinx-thebe 0.3.1 writes its inline `const THEBE_JS_URL = ...` script twice on every
    # page, even with launch_buttons.thebe: false; the second copy throws. Thebe is unused.
    "Identifier 'THEBE_JS_URL' has already been declared",
    # pydata-sphinx-theme: a fresh browser profile has no stored light/dark choice yet; the
    # theme logs this as an error and falls back to "auto", which is the intended default.
    "Got invalid theme mode: . Resetting to auto.",
}


def _unavailable(reason: str) -> None:
    """Skip with the reason, or fail when the CI asks for the browser test to really run."""
    if REQUIRE:
        pytest.fail(f"{reason} (GANLAB_REQUIRE_BROWSER=1: the browser test must run)")
    pytest.skip(reason)


def toc_docnames() -> list[str]:
    """Every page of `_toc.yml` in reading order: the root, then chapters/parts/sections."""
    docs = [TOC["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                docs.append(entry["file"])
            for key in ("chapters", "sections"):
                walk(entry.get(key, []))

    walk(TOC.get("chapters", []) + TOC.get("parts", []))
    return [d.removesuffix(".md").removesuffix(".ipynb") for d in docs]


def chapter_docnames() -> list[str]:
    """The pages built from a notebook: the ones with a Colab button and live pieces."""
    return [d for d in toc_docnames() if (ROOT / f"{d}.ipynb").exists()]


@dataclass(frozen=True)
class Book:
    """The book's sources: root folder, `_config.yml`, pages and notebook chapters."""

    root: Path
    config: dict
    docs: list[str]
    chapters: list[str]


@pytest.fixture(scope="session")
def book() -> Book:
    return Book(ROOT, CONFIG, toc_docnames(), chapter_docnames())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`doc` runs a test on every page of the book, `chapter` on every notebook page."""
    if "doc" in metafunc.fixturenames:
        metafunc.parametrize("doc", toc_docnames())
    if "chapter" in metafunc.fixturenames:
        metafunc.parametrize("chapter", chapter_docnames())


# ---------------------------------------------------------------- the site and the browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site() -> str:
    """`_build/html` served by http.server on a free port of 127.0.0.1; yields the base URL."""
    if not (HTML / "index.html").exists():
        _unavailable(f"no built book at {HTML}: run `make book` first")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def playwright_driver():
    """(Playwright, path of the system Chromium): one driver for the session's browsers."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -r requirements.txt)")
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        _unavailable("no system Chromium: apt-get install chromium (or set CHROMIUM=path)")
    with sync_playwright() as p:
        yield p, executable


@pytest.fixture(scope="session")
def browser(playwright_driver):
    """The system Chromium, headless, driven by Playwright (no downloaded browser)."""
    p, executable = playwright_driver
    chromium = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def phone_browser(playwright_driver):
    """The system Chromium as a phone shows pages: headless, but with the scrollbars that
    Playwright hides by default (--hide-scrollbars), so that a phone context (open_phone) gets
    the overlay scrollbars of a real phone: invisible unless the page styles them."""
    p, executable = playwright_driver
    chromium = p.chromium.launch(
        executable_path=executable,
        headless=True,
        args=CHROMIUM_ARGS,
        ignore_default_args=["--hide-scrollbars"],
    )
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def open_phone(site, phone_browser):
    """open_phone(path) -> page: the page on a 390 x 844 touch phone (mobile viewport, overlay
    scrollbars), MathJax done, images decoded; one page per path for the session."""
    context = phone_browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(20_000)
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(site) else r.abort())
    pages: dict[str, object] = {}

    def _open(path: str):
        if path not in pages:
            page = context.new_page()
            page.goto(site + path, wait_until="load")
            page.evaluate(_SETTLE_JS)
            pages[path] = page
        return pages[path]

    yield _open
    context.close()


@pytest.fixture(scope="session")
def shot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: $BROWSER_SHOTS if set, else a pytest temporary folder."""
    if os.environ.get("BROWSER_SHOTS"):
        path = Path(os.environ["BROWSER_SHOTS"]).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("browser_shots")


# ---------------------------------------------------------------- one visit of one page


@dataclass
class PageLog:
    """What happened while a page loaded: messages, requests and their answers."""

    base: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    filtered: list[str] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)
    remote_from: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    bad_local: list[str] = field(default_factory=list)
    local_ok: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)  # every request the page made, in order

    def is_local(self, url: str) -> bool:
        return url.startswith(self.base)


def _watch(page, log: PageLog) -> None:
    """Record console errors, page errors and requests; abort requests leaving 127.0.0.1."""

    def route(r) -> None:
        if log.is_local(r.request.url):
            r.continue_()
        else:
            log.remote.append(r.request.url)
            log.remote_from[r.request.url].add(r.request.frame.url.removeprefix(log.base))
            r.abort("internetdisconnected")

    def console(msg) -> None:
        if msg.type != "error":
            return
        origin = msg.location.get("url", "")
        text = f"{msg.text}  [{origin}]"
        if msg.text in BENIGN_MESSAGES:
            log.filtered.append(msg.text)
        elif msg.text.startswith("Failed to load resource") and origin in log.remote:
            # The browser's own line for a remote request we aborted: that request is
            # already recorded in log.remote and reported as a remote request.
            pass
        elif msg.text.startswith("Failed to load resource") and origin == log.base + "favicon.ico":
            # Chromium asks every site for /favicon.ico by itself; the book sets no favicon
            # and no page links to one.
            log.filtered.append("GET /favicon.ico 404 (asked for by the browser, not the book)")
        else:
            log.console_errors.append(text)

    def page_error(err) -> None:
        if str(err) in BENIGN_MESSAGES:
            log.filtered.append(str(err))
        else:
            log.page_errors.append(str(err))

    def response(resp) -> None:
        if not log.is_local(resp.url) or resp.url == log.base + "favicon.ico":
            return
        (log.local_ok if resp.status == 200 else log.bad_local).append(
            resp.url if resp.status == 200 else f"{resp.status} {resp.url}"
        )

    def failed(req) -> None:
        if log.is_local(req.url) and req.url != log.base + "favicon.ico":
            log.bad_local.append(f"failed ({req.failure}) {req.url}")

    page.route("**/*", route)
    page.on("request", lambda req: log.requested.append(req.url))
    page.on("console", console)
    page.on("pageerror", page_error)
    page.on("response", response)
    page.on("requestfailed", failed)


# Waits until MathJax (if the page loads it) has typeset, and every <img> has finished.
_SETTLE_JS = """async () => {
    for (const img of document.images) img.loading = "eager";
    if (document.querySelector('script[src*="mathjax" i]')) {
        for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
            await new Promise(r => setTimeout(r, 50));
        if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
    }
    await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
}"""


@dataclass
class Visit:
    """A page opened in the browser (still open) with its load log."""

    doc: str
    url: str
    page: object
    log: PageLog


@pytest.fixture(scope="session")
def open_page(site, browser, request):
    """open_page(path, width=1280) -> Visit: the page loaded, MathJax done, images decoded.

    Each call gets its own browser context (fresh profile), which is closed at the end.
    """
    contexts = []
    report = request.config.stash.setdefault(REPORT_KEY, Report())

    def _open(path: str, width: int = 1280, height: int = 900, lands_on: str = "") -> Visit:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        context.set_default_timeout(20_000)
        page = context.new_page()
        log = PageLog(base=site)
        report.logs.append((path or "/", log))
        _watch(page, log)
        page.goto(site + path, wait_until="load")
        if lands_on:  # a redirecting page (the site root): wait for the page it sends to
            page.wait_for_url(site + lands_on, wait_until="load")
        page.evaluate(_SETTLE_JS)
        page.wait_for_load_state("networkidle")
        return Visit(doc=path.removesuffix(".html"), url=page.url, page=page, log=log)

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshot(shot_dir, request):
    """screenshot(page, name) -> Path: a full-page PNG in shot_dir, listed in the summary."""
    report = request.config.stash.setdefault(REPORT_KEY, Report())

    def _shoot(page, name: str) -> Path:
        path = shot_dir / f"{name.replace('/', '_')}.png"
        page.screenshot(path=str(path), full_page=True)
        report.shots.append(path)
        return path

    return _shoot


@pytest.fixture(scope="session")
def visit(open_page, screenshot):
    """visit(doc) -> Visit at desktop width, opened once per session, with a screenshot."""
    cache: dict[str, Visit] = {}

    def _visit(doc: str) -> Visit:
        if not (HTML / f"{doc}.html").exists():
            pytest.fail(f"{doc} is in _toc.yml but {doc}.html is not in {HTML}: run `make book`")
        if doc not in cache:
            cache[doc] = open_page(f"{doc}.html")
            screenshot(cache[doc].page, doc)
        return cache[doc]

    return _visit


# ---------------------------------------------------------------- the printed summary


@dataclass
class Report:
    shots: list[Path] = field(default_factory=list)
    logs: list[tuple[str, PageLog]] = field(default_factory=list)  # (path opened, its log)
    live: list[str] = field(default_factory=list)  # the widgets in JupyterLab, measured


REPORT_KEY = pytest.StashKey[Report]()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """Screenshots, remote requests (aborted, not failed) and filtered benign messages."""
    report = config.stash.get(REPORT_KEY, None)
    if report is None:
        return
    remote, filtered = defaultdict(set), defaultdict(set)
    for path, log in report.logs:
        for url, pages in log.remote_from.items():
            remote[url] |= pages
        for text in log.filtered:
            filtered[text].add(path)
    tr = terminalreporter
    tr.section("rendered book in Chromium")
    for shot in report.shots:
        tr.write_line(f"screenshot: {shot}")
    tr.write_line(
        f"remote requests (the reader may have no network; aborted, not failed): {len(remote)}"
    )
    for url, pages in sorted(remote.items()):
        tr.write_line(f"  {url}  <- {', '.join(sorted(pages))}")
    tr.write_line(f"filtered benign console messages: {len(filtered)}")
    for text, pages in sorted(filtered.items()):
        tr.write_line(f"  {text!r} on {len(pages)} page(s)")
    if report.live:
        tr.section("live widgets in JupyterLab")
        for line in report.live:
            tr.write_line(line)
