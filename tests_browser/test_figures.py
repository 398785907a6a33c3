"""Figures in the rendered book (`make book`, then `make browser`): numbered and captioned.

Readers and lecturers refer to figures by number (issue 17). On every chapter page each figure
image and each animation must sit in a `<figure>` whose `<figcaption>` starts with its number
("Fig. 7") and says what it shows, with its math typeset by MathJax (no `$` or TeX command left
as text), and the captions must fit a phone's width. The captions come from the cells'
`mystnb.figure` metadata (tests/test_book.py checks the notebooks); this checks what the
reader gets. Fixtures are in conftest.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The number Sphinx puts in front of a caption (numfig), then the caption itself.
FIG_NUMBER = re.compile(r"Fig\. (\d+)")
# TeX left in a caption's visible text: a dollar sign, or a command such as \log or \lambda.
RAW_TEX = re.compile(r"\$|\\[A-Za-z]{2,}")

# Each picture of the article (a cell's image, or the frame <img> of a matplotlib to_jshtml
# animation, counted once as the animation) with the figure it sits in and that figure's caption.
FIGURES_JS = """() => {
    const article = document.querySelector('article');
    const items = [...article.querySelectorAll('img, .animation')]  // in page order
        .filter(el => !(el.tagName === 'IMG' && el.closest('.animation')))
        .map(el => ({kind: el.tagName === 'IMG' ? 'image' : 'animation', el}));
    return items.map(({kind, el}) => {
        const figure = el.closest('figure');
        const caption = figure && figure.querySelector(':scope > figcaption');
        const visible = caption && caption.cloneNode(true);
        if (visible) visible.querySelectorAll('.math, mjx-container, script').forEach(n => n.remove());
        const what = kind === 'image' ? (el.getAttribute('src') || '').slice(-40) : 'animation';
        return {
            kind, what,
            id: figure ? figure.id : null,
            number: caption ? (caption.querySelector('.caption-number') || {}).textContent || '' : '',
            text: caption ? (caption.querySelector('.caption-text') || {}).textContent || '' : '',
            visible: visible ? visible.textContent.replace(/\\s+/g, ' ').trim() : '',
            math: caption ? caption.querySelectorAll('.math').length : 0,
            typeset: caption ? caption.querySelectorAll('.math mjx-container').length : 0,
            errors: caption ? caption.querySelectorAll('mjx-merror').length : 0,
        };
    });
}"""


def figure_cells(chapter: str) -> int:
    """How many cells of the chapter the book shows a figure or an animation of."""
    nb = json.loads((ROOT / f"{chapter}.ipynb").read_text())
    count = 0
    for cell in nb["cells"]:
        tags = set(cell["metadata"].get("tags", []))
        if cell["cell_type"] != "code" or tags & {"remove-cell", "remove-output"}:
            continue
        data = [o.get("data", {}) for o in cell["outputs"]]
        count += any("image/png" in d or "text/html" in d for d in data)
    return count


def test_every_figure_and_animation_is_numbered_and_captioned(visit, chapter):
    """Each image and animation of the chapter sits in a figure with "Fig. N" and a caption,
    one per figure cell of the notebook, numbered in order on the page."""
    items = visit(chapter).page.evaluate(FIGURES_JS)
    assert items, f"{chapter}: no figure or animation on the page"
    bare = [f"{i['kind']} {i['what']}" for i in items if not FIG_NUMBER.match(i["number"])]
    assert bare == [], f"{chapter}: figures or animations without a numbered caption: {bare}"
    short = [f"{i['number']}: {i['text']!r}" for i in items if len(i["text"].strip()) < 40]
    assert short == [], f"{chapter}: captions that say nothing: {short}"
    assert all(i["id"] and i["id"].startswith("fig-") for i in items), [i["id"] for i in items]
    numbers = [int(FIG_NUMBER.match(i["number"]).group(1)) for i in items]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), (
        f"{chapter}: figure numbers not consecutive in page order: {numbers}"
    )
    assert len(items) == figure_cells(chapter), (
        f"{chapter}: {len(items)} figures on the page, {figure_cells(chapter)} figure cells"
    )


def test_captions_show_typeset_math_and_no_raw_tex(visit, chapter):
    """A caption's $ math is typeset by MathJax; no `$` or `\\command` is left as text."""
    items = visit(chapter).page.evaluate(FIGURES_JS)
    raw = [f"{i['number']}: ...{i['visible'][max(0, m.start() - 40) : m.start() + 40]}..."
           for i in items for m in [RAW_TEX.search(i["visible"])] if m]  # fmt: skip
    assert raw == [], f"{chapter}: TeX shown as text in captions: {raw}"
    untypeset = [f"{i['number']} ({i['typeset']} of {i['math']})" for i in items
                 if i["typeset"] < i["math"] or i["errors"]]  # fmt: skip
    assert untypeset == [], f"{chapter}: caption math not typeset: {untypeset}"


def test_captions_fit_a_phone(visit, chapter):
    """At 390 px (a phone) every caption, its math included, lies within the screen and is set
    at a readable size.

    The page visited at desktop width is narrowed to a phone's and restored (no second load)."""
    page = visit(chapter).page
    desktop = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.wait_for_timeout(200)  # the layout settles at the new width
        captions = page.evaluate(
            """() => [...document.querySelectorAll('article figure > figcaption')].map(c => {
                const r = c.getBoundingClientRect();  // the caption and all it holds (math)
                const boxes = [c, ...c.querySelectorAll('*')].map(e => e.getBoundingClientRect());
                return {number: (c.querySelector('.caption-number') || {}).textContent || '',
                        left: Math.min(...boxes.map(b => b.left)),
                        right: Math.max(...boxes.map(b => b.right)), width: r.width,
                        size: parseFloat(getComputedStyle(c.querySelector('.caption-text') || c)
                            .fontSize)};
            })"""
        )
    finally:
        page.set_viewport_size(desktop)
    assert captions, f"{chapter}: no caption at phone width"
    outside = [c["number"] for c in captions if c["left"] < 0 or c["right"] > 390 + 0.5]
    assert outside == [], f"{chapter}: captions wider than the phone's screen: {outside}"
    narrow = [c["number"] for c in captions if c["width"] < 250]
    assert narrow == [], f"{chapter}: captions squeezed into a narrow column: {narrow}"
    small = [f"{c['number']} {c['size']}px" for c in captions if c["size"] < 12]
    assert small == [], f"{chapter}: caption text too small on a phone: {small}"
