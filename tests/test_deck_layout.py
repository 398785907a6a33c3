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
                assert " ".join(block.split()) in text, f"{path.stem}: lost {block[:80]!r}"


def test_first_sentence_is_not_cut_in_math_or_after_an_abbreviation():
    text = "Radford et al. showed $a. B$ works. Then more text follows here."
    assert deck.first_sentence(text) == "Radford et al. showed $a. B$ works."
    assert deck.first_sentence("One sentence only.") is None
