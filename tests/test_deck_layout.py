"""slides/deck_layout.py: the chapters' cells laid out as slides (no browser, no kernel).

Runs the preprocessor on every chapter as `make slides` does (after nbconvert's tag removal,
before myst_slides.py) and checks the layout: a title slide first, every heading at the top of
its slide (no section's end on the next one's title slide), no cell skipped but shown, figures
without their code, and speaker notes in every deck; nothing of the chapter's prose is lost
(every paragraph is on a slide or in the notes). The decks themselves, in Chromium, are checked
in tests_browser/test_slides.py.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))

_spec = importlib.util.spec_from_file_location("deck_layout", ROOT / "slides" / "deck_layout.py")
deck = sys.modules["deck_layout"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(deck)  # slides/ is no package: loaded by path, as PYTHONPATH does


def laid_out(path: Path):
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if "remove-cell" not in c.metadata.get("tags", [])]
    resources = {"metadata": {"name": path.stem, "path": str(path.parent)}}
    out, _ = deck.DeckPreprocessor().preprocess(nbformat.from_dict(nb), resources)
    return nb, out.cells


def kind(cell) -> str:
    return cell.metadata.get("slideshow", {}).get("slide_type", "-")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_title_slide_then_one_heading_per_slide(path):
    _, out = laid_out(path)
    first = out[0]
    assert kind(first) == "slide" and first.source.startswith("# ")
    assert 'class="deck-chapter"' in first.source and "ganlab" in first.source
    for cell in out:
        if cell.cell_type != "markdown":
            continue
        headings = re.findall(r"^#{1,3} ", cell.source, re.M)
        assert len(headings) <= 1, f"{path.stem}: two headings on one slide: {cell.source[:80]!r}"
        if headings and kind(cell) != "notes":
            assert cell.source.startswith("#"), f"{path.stem}: text above a heading"
            assert kind(cell) in {"slide", "subslide"}, f"{path.stem}: heading mid-slide"
    assert all(kind(c) != "skip" for c in out)
    assert any(kind(c) == "notes" for c in out), f"{path.stem}: no speaker notes"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_figures_without_code_and_no_prose_lost(path):
    nb, out = laid_out(path)
    for cell in out:
        tags = cell.metadata.get("tags", [])
        assert cell.cell_type != "code" or "hide-output" not in tags, "a hidden answer shown"
        if cell.cell_type == "code" and deck.is_figure(cell):
            assert cell.metadata.get("transient", {}).get("remove_source"), cell.source[:60]
    text = " ".join(" ".join(c.source.split()) for c in out if c.cell_type == "markdown")
    for cell in nb.cells:
        if cell.cell_type != "markdown" or kind(cell) == "skip":
            continue
        for block in deck.split_blocks(cell.source):
            if deck.kind(block) in {"paragraph", "math", "table"}:
                # as the book says it, or in the notes' deck wording (`for_the_notes`)
                assert (
                    " ".join(block.split()) in text
                    or " ".join(deck.for_the_notes(block).split()) in text
                ), f"{path.stem}: lost {block[:80]!r}"


def test_first_sentence_is_not_cut_in_math_or_after_an_abbreviation():
    text = "Radford et al. showed $a. B$ works. Then more text follows here."
    assert deck.first_sentence(text) == "Radford et al. showed $a. B$ works."
    assert deck.first_sentence("One sentence only.") is None


def introduces(text: str) -> bool:
    """Text that leads into what follows it: it ends in ":" or ",", or in a word or "(...)"
    without a full stop (as slides/deck_layout.py's `introduces`, kept here so that the check
    also runs against an older deck_layout.py)."""
    return bool(re.search(r"[:,]$|[\w$]\)$|[a-z]$", " ".join(text.split())))


def shown(cells):
    return [c for c in cells if kind(c) != "notes"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_equations_and_tables_the_text_introduces_are_on_a_slide(path):
    """A display equation or table that a paragraph leads into ("... gives (Theorem 1)",
    "... live in `ganlab.losses`:") is on a slide, not only in the speaker notes."""
    nb, out = laid_out(path)
    on_slides = " ".join(
        " ".join(c.source.split()) for c in shown(out) if c.cell_type == "markdown"
    )
    missing = []
    for cell in nb.cells:
        if cell.cell_type != "markdown" or kind(cell) in {"skip", "notes"}:
            continue
        blocks = deck.split_blocks(cell.source)
        for before, block in zip(blocks, blocks[1:], strict=False):
            if (
                deck.kind(before) == "paragraph"
                and introduces(before)
                and (deck.kind(block) in {"math", "table"})
            ):
                if " ".join(block.split()) not in on_slides:
                    missing.append(block[:60])
    assert missing == [], f"{path.stem}: introduced but only in the notes: {missing}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_figure_shares_its_slide_only_with_its_lead_in(path):
    """A figure sits under text only when that text leads into it (a heading and its lines, or
    a paragraph ending in ":"), not under the closing words of the previous experiment; and no
    code fades in under a figure (it starts a slide of its own)."""
    _, out = laid_out(path)
    cells = shown(out)
    slide_text, figure_on_slide, bad = "", False, []
    for prev, cell in zip([None] + cells, cells, strict=False):
        st = kind(cell)
        if st in {"slide", "subslide"}:
            slide_text, figure_on_slide = "", False
        if cell.cell_type == "markdown":
            if "deck-caption" not in cell.source:
                slide_text += cell.source
            continue
        if deck.is_figure(cell):
            if st not in {"slide", "subslide"}:
                lead = prev.source if prev is not None else ""
                # a short lead alone on its slide joins what it introduces (join_sparse)
                joined = (
                    slide_text.strip() == lead.strip()
                    and deck.text_height(lead) <= deck.SPARSE
                    and not deck.CONCLUSION.match(lead.lstrip())
                )
                if not (slide_text.lstrip().startswith("#") or introduces(lead) or joined):
                    bad.append(f"figure under {lead[:60]!r}")
            figure_on_slide = True
        elif figure_on_slide and st not in {"slide", "subslide"}:
            bad.append(f"code under a figure: {cell.source[:40]!r}")
    assert bad == [], f"{path.stem}: {bad}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_boilerplate_code_on_slides(path):
    """Source listings (inspect.getsource) and helper functions (a def the chapter's prose does
    not name) are in the speaker notes, not on slides."""
    nb, out = laid_out(path)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    named = set(re.findall(r"`([A-Za-z_]\w*)[`(]", prose))
    bad = []
    for cell in shown(out):
        if cell.cell_type != "code" or cell.metadata.get("transient", {}).get("remove_source"):
            continue
        if "inspect.getsource" in cell.source:
            bad.append("inspect.getsource")
        for m in re.finditer(r"^(?:def|class) (\w+)", cell.source, re.M):
            if m.group(1) not in named:
                bad.append(f"helper {m.group(1)}")
    assert bad == [], f"{path.stem}: boilerplate on slides: {bad}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_cells_printout_is_one_output(path):
    """Consecutive prints of a cell are one printout (one block on the slide)."""
    _, out = laid_out(path)
    for cell in shown(out):
        outs = cell.get("outputs", []) if cell.cell_type == "code" else []
        for a, b in zip(outs, outs[1:], strict=False):
            assert not (
                a.get("output_type") == b.get("output_type") == "stream"
                and a.get("name") == b.get("name")
            ), f"{path.stem}: split printout"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_split_cells_get_ids_of_their_own(path):
    """A cell split over slides (a printout, a long text) keeps no copy of its id: every cell of
    the deck has an id of its own, derived from the original's (nbformat's validation would
    otherwise warn DuplicateCellId and pick random ones)."""
    _, out = laid_out(path)
    ids = [c.get("id") for c in out if c.get("id")]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert twice == [], f"{path.stem}: cell ids used twice {twice}"
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids)


def test_a_shortened_sentence_is_never_cut_inside_parentheses_or_after_a_colon():
    """lead() shortens a long first sentence at a clause: never inside a parenthesis (it would be
    left open, "(one class per row, …") nor right after a ":" (a caption "Left: …" says nothing)."""
    text = (
        "Left: the samples of the generator after training on the ring of eight modes, drawn in"
        " purple (one dot per sample, the crosses mark the modes, the band the real data), and"
        " right the critic's values over the plane, for every step of the run."
    )
    shown = deck.lead(text, 160)
    assert shown.count("(") == shown.count(")"), shown
    assert not re.search(r":\s*…", shown), shown


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_in_this_chapter_shows_whole_items(path):
    """The chapter's aims ("In this chapter") show every item whole, not a bold label and "…"."""
    _, out = laid_out(path)
    aims = [c for c in out if c.cell_type == "markdown" and "## In this chapter" in c.source]
    for cell in aims:
        assert "…" not in cell.source, f"{path.stem}: an aim cut short: {cell.source[:300]!r}"


POINTING = re.compile(
    r"the cell (?:below|above|computes|of \d)|\b(?:dots?|scores?|playground|numbers|toy|"
    r"animation|figures?) (?:below|above)\b|\bas above\b|printed below|\$ above\s*$|so below it",
    re.I | re.M,
)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_slide_points_at_the_books_page(path):
    """What a slide shows says no "the cell below", "the dots above", "as above" (the book's
    page, read top to bottom); the notes keep the book's words."""
    _, out = laid_out(path)
    found = [
        m.group(0)
        for c in out
        if c.cell_type == "markdown" and kind(c) != "notes"
        for m in [POINTING.search(c.source)]
        if m
    ]
    assert found == [], f"{path.stem}: slides point at the book's page: {found}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_an_experiments_conclusion_is_on_a_slide_and_opens_its_own_notes(path):
    """Every "What to notice" (or "Reading the table", ...) paragraph of the chapter has its
    first words on a slide, and notes that open with it belong to the slide that shows it (not to
    the next topic's slide)."""
    nb, out = laid_out(path)
    concl = re.compile(
        r"\*\*(?:What to notice|Reading the table|What the tables and curves show|"
        r"Where ours differ)"
    )
    wanted = sum(
        len(concl.findall(c.source))
        for c in nb.cells
        if c.cell_type == "markdown" and c.metadata.get("slideshow", {}).get("slide_type") != "skip"
    )
    shown = sum(
        len(concl.findall(c.source))
        for c in out
        if c.cell_type == "markdown" and kind(c) != "notes"
    )
    assert shown >= wanted, f"{path.stem}: {wanted - shown} of {wanted} conclusions on no slide"
    # notes that open with a conclusion follow the slide that shows it
    wrong = []
    last_slide = ""
    for c in out:
        if kind(c) != "notes":
            # the text of the slide so far (a conclusion may fade in under its figure)
            if kind(c) in {"slide", "subslide"}:
                last_slide = ""
            if c.cell_type == "markdown":
                last_slide += c.source
            continue
        m = concl.match(c.source.lstrip())
        if m and m.group(0) not in last_slide:
            wrong.append(c.source[:60])
    assert wrong == [], f"{path.stem}: a conclusion in the notes of another slide: {wrong}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_printouts_notes_say_what_it_shows(path):
    """The notes of a printout on a slide of its own say what it shows (its first line), not
    what the code of the slide before calls."""
    _, out = laid_out(path)
    bad = [
        c.source[:80]
        for c in out
        if c.cell_type == "markdown" and kind(c) == "notes" and "slide before prints" in c.source
    ]
    assert bad == [], f"{path.stem}: printout notes about the code: {bad}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_slide_orders_the_audience_to_work_a_widget(path):
    """A widget's section ("Live: ...") tells no one on a slide to move, pick or choose with the
    widget's controls (the deck has none); it says that the deck shows its recording instead."""
    _, out = laid_out(path)
    orders = re.compile(r"(?:^|[.!?]\s+|\n\n)\**(?:Move|Pick|Choose|Answer|Drag|Click) ")
    found = [
        c.source[:90]
        for c in out
        if c.cell_type == "markdown" and kind(c) != "notes" and orders.search(c.source)
    ]
    assert found == [], f"{path.stem}: slides order the audience to use a widget: {found}"


def shown_markdown_cells(out):
    return [c for c in out if c.cell_type == "markdown" and kind(c) != "notes"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_printout_the_conclusion_reads_is_on_a_slide(path):
    """A figure's printout that the conclusion after it reads ("What to notice. The norms printed
    above: ...") is on a slide, not only in the notes (4.4's lerp and slerp norms, which the
    exercises also ask to compare with)."""
    nb, out = laid_out(path)
    on_slides = "".join(
        str(o.get("text", ""))
        for c in out
        if c.cell_type == "code" and kind(c) != "notes"
        for o in c.get("outputs", [])
    )
    cells = [c for c in nb.cells if kind(c) != "skip"]
    missing = []
    for n, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        after = next((c for c in cells[n + 1 :] if c.cell_type == "markdown"), None)
        if after is None or not deck.CONCLUSION.match(after.source.lstrip()):
            continue
        if not re.search(r"\bprinted (?:above|table|norms|numbers)\b", after.source):
            continue
        for o in cell.get("outputs", []):
            for line in str(o.get("text", "")).splitlines():
                if line.strip() and line not in on_slides:
                    missing.append(line[:50])
    assert missing == [], f"{path.stem}: a printout the text reads is on no slide: {missing}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_shortened_text_loses_what_it_refers_back_to(path):
    """Text a slide shortens keeps what its sentences refer back to: after a " … " no sentence
    says "instead", "such", "this", "these", "which" or "it" about a sentence left out ("... follows
    the great circle instead", "... rejects such averages"); and the words that go on after an
    equation ("which is 0 when ...") are on the equation's slide."""
    _, out = laid_out(path)
    bad = []
    for c in shown_markdown_cells(out):
        text = " ".join(c.source.split())
        for m in re.finditer(r" … (?![-*+] |\d+[.)] )(?=\S)", text):
            after = deck.sentences(text[m.end() :].split("$$")[0])
            if after and deck.refers_back(after[0]):
                bad.append(after[0][:70])
        first = next((b for b in deck.split_blocks(c.source) if deck.kind(b) != "heading"), "")
        if deck.kind(first) == "paragraph" and re.match(r"(?:which|where|so that)\b", first):
            bad.append(f"on a slide without its equation: {first[:60]}")
    assert bad == [], f"{path.stem}: {bad}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_list_items_formula_and_definition_stay_with_it(path):
    """A list item shortened on a slide keeps its formula ("**FID**: fit Gaussians ...;
    FID = ...") and a term's definition ("**Precision and recall** ...: ... *precision* is ...")
    whole: what a slide shows of a list item never ends in "…" before a formula."""
    nb, out = laid_out(path)
    on_slides = " ".join(" ".join(c.source.split()) for c in shown_markdown_cells(out))
    cut = []
    for cell in nb.cells:
        if cell.cell_type != "markdown" or kind(cell) in {"skip", "notes"}:
            continue
        for block in deck.split_blocks(cell.source):
            if deck.kind(block) != "list":
                continue
            for item in deck.list_items(block):
                body = deck.unpoint(" ".join(item.split()))
                body = deck.LIST_ITEM.sub("", body, count=1)
                if len(body) > deck.WHOLE_ITEM or body[:60] not in on_slides:
                    continue  # too long for a slide, or not on one (an exercise's, the notes')
                whole = deck.DEFINITION.match(body) or deck.FORMULA.search(body)
                if whole and body not in on_slides:
                    cut.append(body[:60])
    assert cut == [], f"{path.stem}: list items cut before their formula or definition: {cut}"


def _slides(out):
    slides = []
    for c in out:
        if kind(c) == "notes":
            continue
        if kind(c) in {"slide", "subslide"} or not slides:
            slides.append([c])
        else:
            slides[-1].append(c)
    return slides


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_nearly_empty_slide_before_what_it_leads_into(path):
    """A slide of a heading and a line (or a lone short paragraph) does not stand before the code
    or figure it introduces when the two fit one screen (00's "The two players" and its code);
    a lone conclusion does not stand after the figure or printout it reads when both fit."""
    _, out = laid_out(path)
    slides = _slides(out)
    sparse = []
    for n, slide in enumerate(slides):
        text = "\n\n".join(c.source for c in slide if c.cell_type == "markdown")
        if len(slide) != sum(c.cell_type == "markdown" for c in slide) or re.search(
            r"deck-chapter|^#+ (?:In this chapter|Exercises|References)|^:::|^\d+\. ", text, re.M
        ):
            continue
        height = sum(deck.text_height(c.source) for c in slide)
        if height > deck.SPARSE:
            continue
        nxt = slides[n + 1] if n + 1 < len(slides) else None
        if (
            nxt is not None
            and kind(nxt[0]) == "subslide"
            and nxt[0].cell_type == "code"
            and not nxt[0].metadata["slideshow"].get("data")
            and not deck.CONCLUSION.match(text.lstrip())
            and height
            + sum(
                deck.full_width_height(c)
                if deck.is_figure(c)
                else int(deck.code_height(c) * 0.85)
                if c.cell_type == "code"
                else deck.text_height(c.source)
                for c in nxt
            )
            <= deck.JOIN_HEIGHT
        ):
            sparse.append(" ".join(text.split())[:60])
    assert sparse == [], f"{path.stem}: nearly empty slides before what they introduce {sparse}"


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.stem[:2] != "00"], ids=lambda p: p.stem)
def test_every_chapter_has_an_in_this_chapter_slide(path):
    """Every numbered chapter's deck says what the chapter does after its title slide, from its
    list of aims or, where the opening has none (chapter 5), from its "This chapter ..." lines."""
    _, out = laid_out(path)
    assert any(c.source.startswith("## In this chapter") for c in shown_markdown_cells(out)), (
        f"{path.stem}: no 'In this chapter' slide"
    )


def test_no_slide_calls_the_books_sources_notes():
    """In a deck "notes" are the speaker notes: a slide says "the sources this book draws on",
    not "the notes this book draws on" (01's third exercise, 02's 2.3)."""
    bad = []
    for path in CHAPTERS:
        _, out = laid_out(path)
        for c in shown_markdown_cells(out):
            m = re.search(r"\b(?:the|some) notes (?:this book|list|say)\b", c.source, re.I)
            if m:
                bad.append(f"{path.stem}: {m.group(0)}")
    assert bad == [], bad


def slides_of(out):
    """The laid-out cells grouped as slides: (the shown cells, the notes cells)."""
    slides = []
    for c in out:
        if kind(c) in {"slide", "subslide"} or not slides:
            slides.append(([], []))
        slides[-1][1 if kind(c) == "notes" else 0].append(c)
    return slides


def slide_text(cells) -> str:
    """The text a slide shows first: its markdown without headings, captions and HTML."""
    for c in cells:
        if c.cell_type != "markdown" or "deck-caption" in c.source:
            continue
        text = re.sub(r"(?m)^#{1,6} .*$", "", c.source).strip()
        text = re.sub(r"^<[^>]+>.*$", "", text, flags=re.M).strip()
        if text:
            return text
    return ""


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_slide_starts_mid_sentence(path):
    """No slide's text starts with a lower-case word ("so the optimal D never exceeds 0.9 ...",
    the label-smoothing lead-in and its formula on no slide)."""
    _, out = laid_out(path)
    bad = []
    for cells, _ in slides_of(out):
        first = next((c for c in cells), None)
        if first is None or first.cell_type != "markdown":
            continue
        text = slide_text([first])
        # a lower-case word, not a name ("pix2pix") or code
        if re.match(r"[a-z]+\b", text) and not re.match(r"\w*\d", text):
            bad.append(text[:70])
    assert bad == [], f"{path.stem}: slides that start mid-sentence: {bad}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_paragraph_is_cut_in_its_middle(path):
    """A paragraph on a slide is never elided in its middle ("The generator G maps ... … The
    game is": the discriminator's definition, the stride s, θ and ψ were cut while the equation
    after them uses them); what does not fit goes on over a follow-on slide."""
    _, out = laid_out(path)
    bad = [
        block[:80]
        for c in shown_markdown_cells(out)
        for block in deck.split_blocks(c.source)
        if deck.kind(block) == "paragraph" and re.search(r" … \S", deck.one_line(block))
    ]
    assert bad == [], f"{path.stem}: paragraphs cut in the middle: {bad}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_conclusions_claim_is_on_a_slide(path):
    """Every sentence of a conclusion's first paragraph is on a slide (03's "One cure,
    decisively." with the cure itself cut, 05's temperature trade-off), and so is a table in
    the conclusion (07's ten-seed StyleGAN table, which says the opposite of the hope)."""
    nb, out = laid_out(path)
    text = " ".join(deck.one_line(c.source) for c in shown_markdown_cells(out))
    missing = []
    for cell in nb.cells:
        if cell.cell_type != "markdown" or not deck.CONCLUSION.match(cell.source.lstrip()):
            continue
        if "check-yourself" in cell.metadata.get("tags", []):
            continue
        blocks = deck.split_blocks(deck.split_at_headings(cell.source)[0])
        first = next(b for b in blocks if deck.kind(b) == "paragraph")
        for sentence in deck.sentences(deck.for_the_deck(deck.one_line(first))):
            if sentence not in text:
                missing.append(sentence[:60])
        for block in blocks:
            if deck.kind(block) == "table" and deck.one_line(block) not in text:
                missing.append(block[:60])
    assert missing == [], f"{path.stem}: a conclusion's claim on no slide: {missing}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_one_table_per_slide_and_none_taller_than_a_screen(path):
    """A displayed output of tables shows one table per slide, of at most TABLE_ROWS rows
    (03's two benchmark tables on one slide, 2.7 screens tall; the 28-row test table)."""
    _, out = laid_out(path)
    for cells, _ in slides_of(out):
        tables = [
            block
            for c in cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            for block in deck.split_blocks(str(o.get("data", {}).get("text/markdown", "")))
            if deck.kind(block) == "table"
        ]
        assert len(tables) <= 1, f"{path.stem}: {len(tables)} tables on one slide"
        for table in tables:
            rows = len([x for x in table.split("\n") if x.strip()]) - 2
            assert rows <= deck.TABLE_ROWS, f"{path.stem}: a table of {rows} rows on a slide"


BOOK_WORDS_IN_NOTES = re.compile(
    r"rendered book|the cell below|the cell above|run the next cell|the next cell|"
    r"on this web page|(?:animation|figures?|table|dots?) (?:below|above)|With a live kernel",
    re.I,
)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_notes_speak_of_the_deck_not_the_books_page(path):
    """A lecturer reads the notes beside the deck: no "the cell below", "run the next cell",
    "In the rendered book the animation below ...", "On this web page" (code and math aside)."""
    _, out = laid_out(path)
    bad = []
    for c in out:
        if c.cell_type != "markdown" or kind(c) != "notes":
            continue
        prose = re.sub(r"```.*?```|\$\$.*?\$\$", "", c.source, flags=re.S)
        for m in BOOK_WORDS_IN_NOTES.finditer(deck.one_line(prose)):
            bad.append(m.group(0))
    assert bad == [], f"{path.stem}: book wording in the notes: {bad}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_notes_hold_the_whole_text_of_a_shortened_list(path):
    """The notes of a slide that shows a list with items cut ("…") hold those items whole
    (05's metrics, 06's two ways to impose the Lipschitz constraint)."""
    _, out = laid_out(path)
    bad = []
    for cells, notes in slides_of(out):
        items = [
            line
            for c in cells
            if c.cell_type == "markdown"
            for line in c.source.split("\n")
            if deck.LIST_ITEM.match(line) and line.rstrip().endswith("…")
        ]
        noted = " ".join(deck.one_line(n.source) for n in notes)
        for item in items:
            start = deck.one_line(deck.LIST_ITEM.sub("", item, count=1)).rstrip(" …")[:40]
            if start not in noted or re.search(re.escape(start) + r"[^…]*…", noted):
                bad.append(item[:60])
    assert bad == [], f"{path.stem}: list slides whose notes are cut too: {bad}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_on_a_slide_says_what_its_unseen_names_are(path):
    """A name that a slide's code uses and that only code no slide shows defines (the set-up
    cell's `phi`, `G_early`; a figure's `bench_ring`) is said in a comment over that code."""
    nb, out = laid_out(path)
    shown_code = [
        c
        for c in out
        if c.cell_type == "code" and kind(c) != "notes" and not deck.removed_source(c)
    ]
    shown_sources = [c.source for c in shown_code]
    defined_on_slides = set()
    for src in shown_sources:
        defined_on_slides |= set(deck.definitions(src))
    unseen = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or kind(cell) == "skip":
            continue
        if not any(deck.one_line(cell.source)[:60] in deck.one_line(s) for s in shown_sources):
            unseen.update(deck.definitions(cell.source))
    bad = []
    said = " ".join(shown_sources)
    for src in shown_sources:
        for name in deck.used_names(src):
            if name in unseen and name not in defined_on_slides:
                if f"# helper {name}(" in said:
                    continue  # a helper's comment line says what it is
                if f"defined in the book: {name}" not in said and not re.search(
                    rf"defined in the book: .*\b{re.escape(name)}\b", said
                ):
                    bad.append(name)
    assert bad == [], f"{path.stem}: names used on slides that no slide defines: {bad}"
