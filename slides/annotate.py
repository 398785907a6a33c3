"""Set the reveal.js slide type (`metadata.slideshow.slide_type`) of every cell of the chapters.

Only that metadata key changes: sources, outputs and execution counts are written back as they
were. Run it after adding or reordering cells (`.venv/bin/python slides/annotate.py`), then
`make slides`. The rule, in order (first match wins):

- the Colab set-up cell, the hidden checks (tag remove-cell) and the live widgets (tag
  remove-output; a static deck has no kernel) -> "skip";
- the check-yourself questions (tag check-yourself, one cell per section) -> "notes": the
  lecturer has them in the speaker view, the slides stay the lecture;
- a markdown cell with a heading (`#`, `##`: the chapter title, each section, the exercises
  and references) -> "slide": one section, one slide (long ones scroll);
- a code cell whose output is a figure (image/png) or an embedded animation (text/html)
  -> "subslide": shown large, on its own slide;
- a markdown cell over 700 characters -> "notes" (long prose is left to the book; the
  speaker view shows it); a shorter one that opens a new idea with a bold lead-in
  (`**Equilibrium.** ...`) -> "subslide", any other short one -> "-" (same slide);
- a code cell over 15 lines -> "subslide" (its own slide), a shorter one -> "fragment" (the
  code and the numbers it prints appear on the next key press, under the claim they back).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

BOOK = Path(__file__).resolve().parents[1] / "book"
HEADING = re.compile(r"^#{1,2} ", re.MULTILINE)


def slide_type(cell) -> str:
    tags = set(cell.metadata.get("tags", []))
    if tags & {"remove-cell", "remove-output"}:
        return "skip"
    if "check-yourself" in tags:
        return "notes"
    if cell.cell_type == "markdown":
        if HEADING.search(cell.source):
            return "slide"
        if len(cell.source) > 700:
            return "notes"
        return "subslide" if cell.source.lstrip().startswith("**") else "-"
    if cell.cell_type == "code":
        kinds = {k for o in cell.outputs for k in o.get("data", {})}
        if kinds & {"image/png", "text/html"}:
            return "subslide"
        return "subslide" if len(cell.source.splitlines()) > 15 else "fragment"
    return "skip"


def main(paths: list[str]) -> None:
    for path in paths or sorted(BOOK.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        changed = 0
        for cell in nb.cells:
            new = slide_type(cell)
            if cell.metadata.get("slideshow", {}).get("slide_type") != new:
                cell.metadata["slideshow"] = {"slide_type": new}
                changed += 1
        if changed:
            nbformat.write(nb, path)
        print(f"{path}: {changed} cell(s) changed")


if __name__ == "__main__":
    main(sys.argv[1:])
