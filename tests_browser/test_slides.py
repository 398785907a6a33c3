"""The lecture decks (`make slides` -> `_build/slides/<chapter>.slides.html`) in a real browser.

Each chapter's deck must work offline: its HTML names no remote script or stylesheet, and opened
in the system Chromium with every request leaving 127.0.0.1 aborted, reveal.js starts, the deck
has its slides, MathJax typesets the chapter's math, nothing logs an error, and the right arrow
key moves to the next slide. The chapters' MyST (slides/myst_slides.py) is gone from the decks:
citations read as text, and a solution is a closed <details> that a click opens, math typeset.
Run with `make browser` after `make slides`; missing decks skip these tests (fail with
GANLAB_REQUIRE_BROWSER=1, as in .ci/run).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPORT_KEY, PageLog, Report, _QuietHandler, _unavailable, _watch

ROOT = Path(__file__).resolve().parents[1]
# GANLAB_SLIDES: another build of the decks to check (an older one, to see a check fail on it)
SLIDES = Path(os.environ.get("GANLAB_SLIDES") or ROOT / "_build" / "slides")
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("*.ipynb"))
DOLLAR_MATH = re.compile(r"\$[^$\n]+\$")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def deck_path(chapter: str) -> Path:
    path = SLIDES / f"{chapter}.slides.html"
    if not path.exists():
        _unavailable(f"no deck {path}: run `make slides` first")
    return path


def shown_markdown(chapter: str) -> str:
    """The markdown the deck shows: cells not skipped (notes included, they are typeset too)."""
    nb = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text())
    return "\n".join(
        "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
        and c["metadata"].get("slideshow", {}).get("slide_type") != "skip"
    )


class _Resources(HTMLParser):
    """Every script src, link href and module import of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self._in_script = True
            if a.get("src"):
                self.urls.append(a["src"])
        elif tag == "link" and a.get("href"):
            self.urls.append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:  # import ... from 'https://...'  /  import('https://...')
            self.urls += re.findall(r"""\bimport\b[^'"]*['"]((?:https?:)?//[^'"]+)['"]""", data)


def is_remote(url: str) -> bool:
    parts = urlsplit(url)
    return (parts.scheme in {"http", "https"} or url.startswith("//")) and (
        parts.hostname not in LOCAL_HOSTS
    )


@pytest.mark.parametrize("deck", CHAPTERS)
def test_deck_references_no_remote_script_or_stylesheet(deck):
    """Parsed HTML: no <script src>, <link href> or module import leaves 127.0.0.1."""
    parser = _Resources()
    parser.feed(deck_path(deck).read_text())
    assert parser.urls, f"{deck}: the deck loads no script at all?"
    remote = [u for u in parser.urls if is_remote(u)]
    assert remote == [], f"{deck}: remote scripts or stylesheets {remote}"


# ---------------------------------------------------------------- the decks in Chromium


@pytest.fixture(scope="module")
def deck_site():
    """`_build/slides` served on a free port of 127.0.0.1; yields the base URL."""
    if not SLIDES.is_dir():
        _unavailable(f"no decks at {SLIDES}: run `make slides` first")
    handler = functools.partial(_QuietHandler, directory=str(SLIDES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def open_deck(deck_site, browser, screenshot, request):
    """open_deck(chapter) -> (page, log): the deck loaded offline, reveal.js and MathJax ready."""
    report = request.config.stash.setdefault(REPORT_KEY, Report())
    cache: dict[str, tuple] = {}
    contexts = []

    def _open(chapter: str):
        if chapter not in cache:
            deck_path(chapter)
            context = browser.new_context(viewport={"width": 1366, "height": 768})  # a projector
            contexts.append(context)
            context.set_default_timeout(60_000)
            page = context.new_page()
            log = PageLog(base=deck_site)
            report.logs.append((f"slides/{chapter}.slides.html", log))
            _watch(page, log)
            # transition=none (a reveal.js option in the query): each slide is in place at once
            page.goto(f"{deck_site}{chapter}.slides.html?transition=none", wait_until="load")
            page.wait_for_selector(".reveal.ready", state="attached")
            page.evaluate(
                """async () => {
                    for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup
                                                 && MathJax.startup.promise); i++)
                        await new Promise(r => setTimeout(r, 50));
                    if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
                }"""
            )
            from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

            try:  # a 2 MB deck may keep fetching fonts for a while; the checks below decide
                page.wait_for_load_state("networkidle", timeout=15_000)
            except PlaywrightTimeoutError:
                pass
            screenshot(page, f"slides_{chapter}")
            cache[chapter] = (page, log)
        return cache[chapter]

    yield _open
    for context in contexts:
        context.close()


@pytest.mark.parametrize("deck", CHAPTERS)
def test_deck_starts_offline_with_its_slides_and_math(open_deck, deck):
    """reveal.js is ready, > 3 slides, math typeset, no error, no request left 127.0.0.1."""
    page, log = open_deck(deck)
    info = page.evaluate(
        """() => ({
            ready: !!document.querySelector('.reveal.ready'),
            slides: document.querySelectorAll('.reveal .slides > section').length,
            math: document.querySelectorAll('mjx-container').length,
            mathErrors: document.querySelectorAll('mjx-merror').length,
        })"""
    )
    assert info["ready"], f"{deck}: reveal.js did not start"
    assert info["slides"] > 3, f"{deck}: only {info['slides']} slides"
    if DOLLAR_MATH.search(shown_markdown(deck)):
        assert info["math"] > 0, f"{deck}: the deck has $ math, MathJax typeset none"
    assert info["mathErrors"] == 0, f"{deck}: {info['mathErrors']} TeX errors"
    assert log.remote == [], f"{deck}: the deck asked the network for {log.remote}"
    assert log.bad_local == [], f"{deck}: local requests that failed {log.bad_local}"
    assert log.page_errors == [], f"{deck}: uncaught errors {log.page_errors}"
    assert log.console_errors == [], f"{deck}: console errors {log.console_errors}"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_right_arrow_moves_to_the_next_slide(open_deck, deck):
    """The deck reacts to the keyboard: each right arrow shows the next fragment of the slide
    (the URL's #/h/v/f changes) and, once they are all shown, the next horizontal slide."""
    page, log = open_deck(deck)
    present = """() => [...document.querySelectorAll('.reveal .slides > section')]
                        .findIndex(s => s.classList.contains('present'))"""
    assert page.evaluate(present) == 0, f"{deck}: the deck does not open on its first slide"
    for _ in range(30):
        before = page.evaluate("() => location.hash")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => location.hash !== {before!r}", timeout=5_000)
        if page.evaluate(present) == 1:
            break
    assert page.evaluate(present) == 1, f"{deck}: 30 right arrows did not reach slide 2"
    assert log.page_errors == [], f"{deck}: uncaught errors {log.page_errors}"


# ---------------------------------------------------------------- MyST, as the decks show it

# What nbconvert would show raw without slides/myst_slides.py: citation roles, directive fences
# (colon or backtick) and directive options.
MYST_RAW = ("{footcite", ":::{", "```{", ":class:")


@pytest.mark.parametrize("deck", CHAPTERS)
def test_deck_shows_no_raw_myst(deck):
    """The chapter's MyST was rewritten for the deck: no role, directive or option is left, the
    citations read "(Author et al. year)", and the reference list closes the deck."""
    html = deck_path(deck).read_text()
    left = [token for token in MYST_RAW if token in html]
    assert left == [], f"{deck}: raw MyST in the deck {left} (slides/myst_slides.py)"
    assert re.search(r"\([A-Z][\w-]+( et al\.| and [A-Z][\w-]+)? (19|20)\d\d[;)]", html), (
        f"{deck}: no parenthetical citation"
    )
    references = html.rsplit('id="References"', 1)
    assert len(references) == 2 and "<li>" in references[1], f"{deck}: no reference list"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_solutions_stay_hidden_until_clicked(open_deck, deck):
    """The first solution (`:class: dropdown`) is a closed <details> on its slide: its body is
    not shown; a click on its title shows it, Markdown rendered and math typeset. (The
    check-yourself answers are dropdowns too, in the speaker notes: not on a slide.)"""
    page, log = open_deck(deck)
    where = page.evaluate(
        """() => {
            const d = [...document.querySelectorAll('.reveal details.dropdown')]
                .find(d => !d.closest('aside.notes'));
            if (!d) return null;
            const top = [...document.querySelectorAll('.reveal .slides > section')];
            const h = top.findIndex(s => s.contains(d));
            const v = [...top[h].querySelectorAll(':scope > section')].findIndex(s => s.contains(d));
            return [h, Math.max(v, 0)];
        }"""
    )
    assert where is not None, f"{deck}: no solution as a <details> block"
    html = deck_path(deck).read_text()
    first = re.search(r"<details[^>]*>(\s*<summary[^>]*>\s*Solution.*?)</details>", html, re.S)
    first = first.group(1)
    page.evaluate("hash => { location.hash = hash; }", f"#/{where[0]}/{where[1]}")
    page.wait_for_function(
        """() => [...document.querySelectorAll('.reveal .slides section.present')]
                 .some(s => s.querySelector('details.dropdown'))"""
    )
    details = page.locator(".reveal section.present details.dropdown").first
    body = details.locator(":scope > :not(summary)").first
    assert details.locator("summary").inner_text().strip() == "Solution"
    assert not details.evaluate("d => d.open"), f"{deck}: the solution is open before a click"
    assert not body.is_visible(), f"{deck}: the solution is visible before a click"
    details.locator("summary").click()
    page.wait_for_function("d => d.open", arg=details.element_handle(), timeout=5_000)
    assert body.is_visible(), f"{deck}: a click on the title did not show the solution"
    assert details.locator("p").count() > 0, f"{deck}: the solution is not rendered Markdown"
    if "$" in first:
        assert details.locator("mjx-container").count() > 0, f"{deck}: no math in the solution"
    details.locator("summary").click()  # as it was, and back to the first slide
    page.evaluate("() => { location.hash = '#/'; }")
    assert log.page_errors == [], f"{deck}: uncaught errors {log.page_errors}"


# ---------------------------------------------------------------- every slide, as presented

# The slides in presentation order, [h, v] each (a slide without sub-slides is [h, 0]).
LEAVES_JS = """() => [...document.querySelectorAll('.reveal .slides > section')].flatMap((s, h) => {
    const sub = [...s.querySelectorAll(':scope > section')];
    return sub.length ? sub.map((_, v) => [h, v]) : [[h, 0]];
})"""

# The slide shown now, measured in the deck's own units (reveal.js scales the whole deck, the
# slides' heights and widths are those of the 960 x 700 design): its height, whether it scrolls
# by design (data-scroll, set by slides/deck_layout.py), and what sticks out at its sides or is
# clipped without a scrollbar. Fragments are counted as shown (they take their space hidden too).
SLIDE_GEOMETRY_JS = """() => {
    const slides = document.querySelector('.reveal .slides');
    const s = [...slides.querySelectorAll('section.present')]
        .filter(x => !x.classList.contains('stack')).pop();
    const deckHeight = parseFloat(slides.style.height) || 700;
    const scroll = s.getAttribute('data-scroll');
    const sr = s.getBoundingClientRect();
    const tol = 2 * (sr.width / s.offsetWidth || 1);
    const cut = [];
    // A piece of text or a picture is cut when it reaches past the slide's sides, or past a box
    // that hides its overflow, with no scrolling box (a scrollbar) in between.
    const check = (r, e, what) => {
        if (!r.width) return;
        for (let a = e; a && a !== s; a = a.parentElement) {
            const o = getComputedStyle(a).overflowX;
            if (o === 'auto' || o === 'scroll') return;
            if (o === 'hidden' || o === 'clip') {
                const ar = a.getBoundingClientRect();
                if (r.right > ar.right + tol || r.left < ar.left - tol) {
                    cut.push(`${what} (hidden by ${a.tagName.toLowerCase()}.${a.classList[0]})`);
                    return;
                }
            }
        }
        if (r.right > sr.right + tol || r.left < sr.left - tol) cut.push(what);
    };
    const skip = e => e.closest('aside.notes, script, style, mjx-assistive-mml');
    const walker = document.createTreeWalker(s, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.textContent.trim() || skip(n.parentElement)) continue;
        range.selectNodeContents(n);
        check(range.getBoundingClientRect(), n.parentElement, n.textContent.trim().slice(0, 40));
    }
    for (const e of s.querySelectorAll('img, svg, canvas, mjx-container, table')) {
        if (!skip(e) && !(e.parentElement && e.parentElement.closest('mjx-container')))
            check(e.getBoundingClientRect(), e.parentElement, `<${e.tagName.toLowerCase()}>`);
    }
    // A formula, table or printout box that would scroll up and down by a few pixels: where
    // scrollbars take room (a Windows or Linux laptop at the projector) it draws a vertical bar.
    const vbar = [...s.querySelectorAll('mjx-container[display="true"], table, pre')]
        .filter(e => !skip(e) && /auto|scroll/.test(getComputedStyle(e).overflowY)
                     && e.scrollHeight > e.clientHeight + 1)
        .map(e => (e.textContent || '').trim().slice(0, 30));
    // The text itself never scrolls sideways (a wide formula, table or printout has a box of its
    // own): MathJax's hidden screen-reader copies once made a list of formulas do so.
    vbar.push(...[...s.querySelectorAll('.jp-RenderedMarkdown')]
        .filter(e => !skip(e) && e.scrollWidth > e.clientWidth + 1)
        .map(e => `text ${e.scrollWidth - e.clientWidth} px wide: `
                  + (e.textContent || '').trim().slice(0, 30)));
    const height = Math.max(s.scrollHeight, s.offsetHeight);
    const overflowY = getComputedStyle(s).overflowY;
    return {height, deckHeight, scroll, vbar, tall: !scroll && height > deckHeight + 1,
            scrollsAsDesigned: !scroll || s.scrollHeight <= s.clientHeight + 1
                               || overflowY === 'auto' || overflowY === 'scroll',
            cut: [...new Set(cut)]};
}"""


def _go(page, h: int, v: int) -> None:
    """Go to slide [h, v] and wait until reveal.js shows it."""
    page.evaluate("hash => { location.hash = hash; }", f"#/{h}/{v}")
    page.wait_for_function(
        """([h, v]) => {
            const top = document.querySelectorAll('.reveal .slides > section')[h];
            const sub = top.querySelectorAll(':scope > section');
            return (sub.length ? sub[v] : top).classList.contains('present');
        }""",
        arg=[h, v],
    )


def _show(page, h: int, v: int) -> None:
    """Go to slide [h, v] and show its fragments."""
    _go(page, h, v)
    page.evaluate(
        """() => document.querySelectorAll('.reveal section.present .fragment')
                 .forEach(f => f.classList.add('visible'))"""
    )


@pytest.mark.parametrize("deck", CHAPTERS)
def test_right_arrow_visits_every_slide_in_order(open_deck, deck):
    """A lecturer who only presses -> sees every slide, sub-slides (the figures and animations
    under a section) included, in order, and the slide number "n/total" counts them all."""
    page, log = open_deck(deck)
    leaves = [tuple(x) for x in page.evaluate(LEAVES_JS)]
    page.evaluate("() => { location.hash = '#/0/0'; }")
    page.wait_for_function("() => document.querySelector('.reveal .slides > section.present')")
    where = """() => {
        const top = [...document.querySelectorAll('.reveal .slides > section')];
        const h = top.findIndex(s => s.classList.contains('present'));
        const sub = [...top[h].querySelectorAll(':scope > section')];
        return [h, Math.max(0, sub.findIndex(s => s.classList.contains('present')))];
    }"""
    visited = [tuple(page.evaluate(where))]
    for _ in range(10 * len(leaves)):
        before = page.evaluate("() => location.hash")
        page.keyboard.press("ArrowRight")
        try:
            page.wait_for_function(f"() => location.hash !== {before!r}", timeout=2_000)
        except Exception:  # the last slide, with all its fragments shown: -> does nothing
            break
        here = tuple(page.evaluate(where))
        if here != visited[-1]:
            visited.append(here)
    assert visited == leaves, (
        f"{deck}: -> visited {len(visited)} of {len(leaves)} slides; "
        f"missed {[x for x in leaves if x not in visited][:8]}"
    )
    number = page.locator(".reveal .slide-number").inner_text().replace(" ", "")
    assert number == f"{len(leaves)}/{len(leaves)}", (
        f"{deck}: the last slide is numbered {number!r}, expected {len(leaves)}/{len(leaves)}"
    )
    page.evaluate("() => { location.hash = '#/'; }")
    assert log.page_errors == [], f"{deck}: uncaught errors {log.page_errors}"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_every_slide_fits_its_screen(open_deck, deck, screenshot):
    """Every slide, fragments shown, fits the deck's 960 x 700 screen: no slide is taller
    unless it scrolls by design (data-scroll: a code cell too long for any slide, the reference
    list), and nothing sticks out at the sides or is clipped without a scrollbar (a word cut at
    the right edge), and no formula or table box scrolls up and down by a glyph's few pixels
    (a stray vertical scrollbar on a projector laptop). With BROWSER_SHOTS set, each slide is
    saved as a screenshot."""
    import os

    page, _ = open_deck(deck)
    shots = bool(os.environ.get("BROWSER_SHOTS"))
    tall, cut, vbars = [], [], []
    for n, (h, v) in enumerate(page.evaluate(LEAVES_JS)):
        _show(page, h, v)
        g = page.evaluate(SLIDE_GEOMETRY_JS)
        if g["tall"] or not g["scrollsAsDesigned"]:
            tall.append(f"#/{h}/{v} {g['height']} px")
        if g["cut"]:
            cut.append(f"#/{h}/{v} {g['cut'][:2]}")
        if g["vbar"]:
            vbars.append(f"#/{h}/{v} {g['vbar'][:2]}")
        if shots:
            page.wait_for_timeout(400)  # the fragments' fade-in
            screenshot(page, f"slides_{deck}_{n:02d}")
    page.evaluate("() => { location.hash = '#/'; }")
    assert tall == [], f"{deck}: slides taller than the {g['deckHeight']} px screen: {tall}"
    assert cut == [], f"{deck}: cut at a side of the slide: {cut}"
    assert vbars == [], f"{deck}: boxes that scroll by a few pixels: {vbars}"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_deck_is_a_presentation_not_a_notebook(open_deck, deck):
    """A title slide (the chapter's title, "Chapter N" or "Quickstart" and the book's title),
    no In [n]: / Out[n]: prompts, no display boilerplate, and speaker notes."""
    page, _ = open_deck(deck)
    info = page.evaluate(
        """() => {
            const top = document.querySelector('.reveal .slides > section');
            const first = top.querySelector(':scope > section') || top;
            return {
                h1: (first.querySelector('h1') || {}).textContent || '',
                chapter: (first.querySelector('.deck-chapter') || {}).textContent || '',
                firstText: first.innerText.length,
                prompts: document.querySelectorAll('.jp-InputPrompt, .jp-OutputPrompt').length,
                notes: [...document.querySelectorAll('aside.notes')]
                       .filter(a => a.textContent.trim()).length,
            };
        }"""
    )
    assert info["h1"].strip(), f"{deck}: the first slide has no title"
    assert re.match(r"(Chapter \d+|Quickstart) · \S", info["chapter"]), (
        f"{deck}: the title slide says {info['chapter']!r}, not the chapter and the book"
    )
    assert info["firstText"] < 300, f"{deck}: the title slide holds {info['firstText']} chars"
    assert info["prompts"] == 0, f"{deck}: {info['prompts']} In/Out prompts"
    html = deck_path(deck).read_text()
    assert "from IPython.display import" not in html, f"{deck}: display boilerplate shown"
    assert info["notes"] > 0, f"{deck}: no speaker notes"


# ---------------------------------------------------------------- each slide, as the audience reads it

# One walk through a deck, every slide with its fragments shown, measured in the deck's units:
# what each check below needs.
SLIDE_READING_JS = """() => {
    const s = [...document.querySelectorAll('.reveal .slides section.present')]
        .filter(x => !x.classList.contains('stack')).pop();
    const sr = s.getBoundingClientRect();
    const scale = sr.width / s.offsetWidth || 1;
    const inNotes = e => !!e.closest('aside.notes');
    const visible = e => !inNotes(e) && e.getClientRects().length > 0;
    // the slide's blocks in order: text (p, li, headings) and what text can lead into
    const blocks = [...s.querySelectorAll(
        'h1, h2, h3, p, li, mjx-container[display="true"], table, .jp-CodeCell, ' +
        '.jp-RenderedImage, .animation, details, pre')].filter(visible);
    const isMedia = e => !e.matches('h1, h2, h3, p, li');
    const dangling = [];
    blocks.forEach((e, i) => {
        if (!e.matches('p, li') || e.closest('.jp-CodeCell, details, .references')) return;
        const t = e.innerText.trim();
        if (!t.endsWith(':')) return;
        const after = blocks.slice(i + 1).filter(b => !e.contains(b) && !b.contains(e));
        if (!after.some(isMedia) && !after.some(b => b.matches('li'))) dangling.push(t.slice(-60));
    });
    const headings = blocks.filter(e => e.matches('h1, h2, h3'));
    const content = blocks.filter(e => !e.matches('h1, h2, h3') && (isMedia(e) || e.innerText.trim()));
    const deckHeightOf = () =>
        parseFloat(document.querySelector('.reveal .slides').style.height) || 700;
    const figures = [...s.querySelectorAll('.jp-RenderedImage img, .animation img')]
        .filter(visible).map(img => {
            const r = img.getBoundingClientRect();
            const nw = img.naturalWidth || r.width, nh = img.naturalHeight || r.height;
            // what the picture takes inside its box (object-fit: contain letterboxes it)
            const w = Math.min(r.width, r.height * nw / nh), h = Math.min(r.height, r.width * nh / nw);
            const maxH = parseFloat(getComputedStyle(img).maxHeight) * scale || Infinity;
            const image = !!img.closest('.jp-RenderedImage');
            return {share: w / sr.width, full: h >= maxH - 2 * scale, image,
                    // as large as the slide allows: its full width, or the slide's full height
                    fills: !image || w >= 0.9 * sr.width
                           || Math.max(s.scrollHeight, s.offsetHeight) >= deckHeightOf() - 30,
                    scaled: w / nw,
                    off: Math.abs((r.left + r.right) / 2 - (sr.left + sr.right) / 2) / sr.width,
                    alt: img.getAttribute('alt') || ''};
        });
    const codeBoxes = [...s.querySelectorAll('.jp-CodeCell pre, .jp-OutputArea-output pre')]
        .filter(visible).map(pre => {
            const r = pre.getBoundingClientRect();
            return {wide: pre.scrollWidth > pre.clientWidth + 1,
                    out: r.right > sr.right + 1 || r.left < sr.left - 1,
                    text: pre.innerText.split('\\n')[0].slice(0, 40)};
        }).filter(b => b.wide || b.out);
    const splitPrintouts = [...s.querySelectorAll('.jp-OutputArea')].filter(visible)
        .some(a => [...a.children].some((c, i, all) => i > 0
            && c.querySelector('[data-mime-type="application/vnd.jupyter.stdout"]')
            && all[i - 1].querySelector('[data-mime-type="application/vnd.jupyter.stdout"]')));
    const height = Math.max(s.scrollHeight, s.offsetHeight);
    const deckHeight = parseFloat(document.querySelector('.reveal .slides').style.height) || 700;
    const cue = getComputedStyle(s, '::after');
    const scrolls = s.scrollHeight > s.clientHeight + 1
        && ['auto', 'scroll'].includes(getComputedStyle(s).overflowY);
    return {
        text: [...s.querySelectorAll('h1, h2, h3, p, li, td, th, summary')].filter(visible)
            .filter(e => !e.closest('.jp-CodeCell, details')).map(e => e.innerText).join(' '),
        dangling, headingOnly: headings.length > 0 && content.length === 0,
        isTitle: !!s.querySelector('.deck-chapter'),
        heading: headings.length ? headings[0].textContent.replace(/\u00b6/g, '').trim() : '',
        running: (s.querySelector(':scope > .deck-running') || {}).textContent || '',
        tall: height > deckHeight + 1,
        cued: scrolls && cue.content.includes('scroll') && cue.visibility !== 'hidden'
              && cue.display !== 'none',
        figures, codeBoxes, splitPrintouts,
        hasFigure: figures.length > 0,
        caption: !!s.querySelector('.deck-caption'),
        notes: [...s.querySelectorAll(':scope aside.notes')]
            .filter(a => a.closest('section') === s && a.textContent.trim()).length,
    };
}"""

_READINGS: dict[str, list] = {}


def read_slides(open_deck, deck):
    """[(where, reading)] for every slide of the deck, fragments shown (one walk per deck)."""
    if deck not in _READINGS:
        page, _ = open_deck(deck)
        out = []
        for h, v in page.evaluate(LEAVES_JS):
            _show(page, h, v)
            out.append((f"#/{h}/{v}", page.evaluate(SLIDE_READING_JS)))
        page.evaluate("() => { location.hash = '#/'; }")
        _READINGS[deck] = out
    return _READINGS[deck]


@pytest.mark.parametrize("deck", CHAPTERS)
def test_no_slide_points_to_what_it_does_not_show(open_deck, deck):
    """Text that leads into something ("... live in ganlab.losses:") has it on its slide: an
    equation, a table, code, a figure or a list follows; and no slide speaks of the book's page
    ("printed above", "the cell after it", "(in the rendered book)")."""
    dangling, book = [], []
    for where, r in read_slides(open_deck, deck):
        if r["dangling"]:
            dangling.append(f"{where} …{r['dangling'][0]!r}")
        m = re.search(
            r"printed above|rendered book|the cell after it|on this web page|"
            r"run the next cell|the cell (?:below|above|computes|of \d)|"
            r"\b(?:dots?|scores?|playground|numbers|toy|animation) (?:below|above)\b|\bas above\b",
            r["text"],
            re.I,
        )
        if m:
            book.append(f"{where} {m.group(0)!r}")
    assert dangling == [], f"{deck}: text ends in ':' and nothing follows it: {dangling}"
    assert book == [], f"{deck}: slides speak of the book's page: {book}"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_no_heading_alone_on_a_slide(open_deck, deck):
    """A section's heading shares its slide with the section's first content (or its summary)."""
    alone = [
        where for where, r in read_slides(open_deck, deck) if r["headingOnly"] and not r["isTitle"]
    ]
    assert alone == [], f"{deck}: heading-only slides {alone}"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_a_slide_taller_than_the_screen_shows_that_it_scrolls(open_deck, deck):
    """No slide is taller than the screen unless it scrolls and shows a cue ("scroll for
    more") while there is more below."""
    hidden = [where for where, r in read_slides(open_deck, deck) if r["tall"] and not r["cued"]]
    assert hidden == [], f"{deck}: tall slides without a scroll cue {hidden}"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_figures_are_centred_and_wide_with_caption_and_alt_text(open_deck, deck):
    """Every figure and animation is centred and takes at least 70 % of the slide's width (or
    all the height it may), under it its caption; its pictures have alt text."""
    bad = []
    for where, r in read_slides(open_deck, deck):
        for f in r["figures"]:
            if (f["share"] < 0.7 and not f["full"]) or f["off"] > 0.03:
                bad.append(f"{where} {f['share']:.0%} wide, {f['off']:.0%} off centre")
            if not f["alt"] or f["alt"].startswith("No description"):
                bad.append(f"{where} no alt text")
        if r["hasFigure"] and not r["caption"]:
            bad.append(f"{where} no caption")
    assert bad == [], f"{deck}: {sorted(set(bad))[:10]}"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_no_code_line_wider_than_its_box(open_deck, deck):
    """Every code and printout line fits its box (no sideways scrollbar), and the box fits the
    slide."""
    bad = [f"{where} {b}" for where, r in read_slides(open_deck, deck) for b in r["codeBoxes"]]
    assert bad == [], f"{deck}: code wider than its box or the slide: {bad[:6]}"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_a_printout_is_one_block(open_deck, deck):
    """A cell's printout is one block: consecutive prints are not split into boxes with gaps."""
    split = [where for where, r in read_slides(open_deck, deck) if r["splitPrintouts"]]
    assert split == [], f"{deck}: printouts split into several blocks {split}"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_every_slide_has_speaker_notes(open_deck, deck):
    """Every slide has notes: the full text, a figure's caption, what the code does, the
    exercise's solution."""
    bare = [where for where, r in read_slides(open_deck, deck) if not r["notes"]]
    assert bare == [], f"{deck}: {len(bare)} slides without notes {bare[:8]}"


# The scroll cues showing now, on the slide shown or on its column of sub-slides, and whether what
# the slide shows (fragments not yet shown left out) goes on below its foot.
CUE_JS = """() => {
    const slides = document.querySelector('.reveal .slides');
    const present = [...slides.querySelectorAll('section.present')];
    const s = present.filter(x => !x.classList.contains('stack')).pop();
    const cued = present.filter(x => {
        const c = getComputedStyle(x, '::after');
        return c.content.includes('scroll') && c.visibility !== 'hidden' && c.display !== 'none';
    }).map(x => x.classList.contains('stack') ? 'stack' : 'slide');
    const bottom = s.getBoundingClientRect().bottom;
    const tol = 2 * (s.getBoundingClientRect().height / s.offsetHeight || 1);
    const over = s.scrollHeight > s.clientHeight + 1 && [...s.querySelectorAll('*')].some(e => {
        if (e.closest('aside.notes, script, style, .fragment:not(.visible)')) return false;
        const r = e.getBoundingClientRect();
        return r.height > 0 && r.bottom > bottom + tol;
    });
    return {cued, over};
}"""


@pytest.mark.parametrize("deck", CHAPTERS)
def test_scroll_cue_only_where_there_is_more_to_see(open_deck, deck):
    """The "scroll for more" cue shows only on a slide whose shown content goes on below its
    foot: not on a column of sub-slides (nbconvert copies data-scroll onto it), and not over the
    blank space that a code fragment not yet shown keeps free; with the fragments shown, a slide
    that goes on below shows it."""
    page, _ = open_deck(deck)
    stray, missing = [], []
    for h, v in page.evaluate(LEAVES_JS):
        _go(page, h, v)
        for state in ("first", "fragments shown"):
            if state != "first":
                page.evaluate(
                    """() => document.querySelectorAll('.reveal section.present .fragment')
                             .forEach(f => f.classList.add('visible'))"""
                )
            page.wait_for_timeout(60)  # the start-up script marks the slide in the next frame
            c = page.evaluate(CUE_JS)
            if c["cued"] and not c["over"]:
                stray.append(f"#/{h}/{v} ({state}, cue on {c['cued']})")
            if c["over"] and "slide" not in c["cued"]:
                missing.append(f"#/{h}/{v} ({state})")
    page.evaluate("() => { location.hash = '#/'; }")
    assert stray == [], f"{deck}: a scroll cue on a slide with nothing more below: {stray}"
    assert missing == [], f"{deck}: more below the slide's foot and no cue: {missing}"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_a_follow_on_slide_repeats_its_sections_heading(open_deck, deck):
    """A section that goes on over several slides names itself on each of them ("2.1 Saturation
    (continued)", small, at the top): whoever lands on a follow-on slide sees its section."""
    bad, current = [], ""
    for where, r in read_slides(open_deck, deck):
        if r["heading"]:
            current = r["heading"]
            continue
        if r["running"].strip() != f"{current} (continued)":
            bad.append(f"{where} {r['running']!r} under {current!r}")
    assert bad == [], f"{deck}: follow-on slides without their section's heading {bad[:8]}"


@pytest.mark.parametrize("deck", CHAPTERS)
def test_a_figure_is_as_large_as_its_slide_allows(open_deck, deck):
    """A figure takes the room its slide leaves: the slide's full width, or (a tall figure, a
    grid of panels) its full height, scaled up rather than capped at a fixed size, so that its
    panels' labels stay legible when projected."""
    small = [
        f"{where} {f['share']:.0%} wide, scaled {f['scaled']:.2f}"
        for where, r in read_slides(open_deck, deck)
        for f in r["figures"]
        if not f["fills"]
    ]
    assert small == [], f"{deck}: figures smaller than their slide allows {small}"


# the decks whose notes hold roots or fractions (04: √d; 06: √2, the power iteration)
SPEAKER_DECKS = [d for d in CHAPTERS if d[:2] in {"04", "06"}]


@pytest.mark.parametrize("deck", SPEAKER_DECKS)
def test_speaker_view_typesets_the_notes_math(open_deck, deck):
    """The speaker view (key S: reveal's notes plugin, a window of its own) shows the notes'
    math as MathJax typeset it, with MathJax's stylesheet: every character box draws its glyph
    (without the stylesheet a root or a fraction loses its glyphs and "√d" reads "d")."""
    page, _ = open_deck(deck)
    where = page.evaluate(
        """() => {
            const a = [...document.querySelectorAll('aside.notes')]
                .find(n => n.querySelector('mjx-msqrt, mjx-mfrac'));
            if (!a) return null;
            const sec = a.closest('section');
            const tops = [...document.querySelectorAll('.reveal .slides > section')];
            const top = tops.find(t => t.contains(sec));
            const subs = [...top.querySelectorAll(':scope > section')];
            return [tops.indexOf(top), Math.max(0, subs.indexOf(sec))];
        }"""
    )
    assert where, f"{deck}: no notes with a root or a fraction"
    page.evaluate(f"() => {{ location.hash = '#/{where[0]}/{where[1]}'; }}")
    page.wait_for_timeout(300)
    with page.context.expect_page() as popup:
        page.keyboard.press("s")
    speaker = popup.value
    try:
        speaker.wait_for_selector(
            ".speaker-controls-notes mjx-container", state="attached", timeout=20_000
        )
        from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

        try:  # the stylesheet the deck's script adds (an older build has none: measured anyway)
            speaker.wait_for_function(
                "() => !!document.getElementById('deck-notes-math')", timeout=10_000
            )
        except PlaywrightTimeoutError:
            pass
        drawn = speaker.evaluate(
            """() => {
                const chars = [...document.querySelectorAll('.speaker-controls-notes mjx-c')];
                const glyph = e => {
                    const c = getComputedStyle(e, '::before').content;
                    return c && c !== 'none' && c !== 'normal' && c !== '""';
                };
                return [chars.length, chars.filter(glyph).length];
            }"""
        )
    finally:
        speaker.close()
    assert drawn[0] > 0 and drawn[1] == drawn[0], (
        f"{deck}: the speaker view draws {drawn[1]} of the {drawn[0]} math characters of #/"
        f"{where[0]}/{where[1]}'s notes"
    )
