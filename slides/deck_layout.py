"""The decks' layout (`make slides`): a chapter's cells rearranged into presentable slides.

`slides/annotate.py` gives each cell of a chapter a slide type; on its own that deck is a
projected notebook (a paragraph per slide, the next section's heading at the foot of the last
one, the code of every figure). This nbconvert preprocessor rearranges the copy that nbconvert
converts (the notebooks on disk are never touched), before `myst_slides.MystPreprocessor`
rewrites the MyST:

- **a title slide**: the chapter's H1 without its number, under it "Chapter N" and the book's
  title (`_config.yml`); the opening paragraphs go to the speaker notes and a list of what the
  chapter does becomes the next slide, "In this chapter";
- **one heading, one slide**: a markdown cell is split before each heading (`#` to `###`), so
  that the end of one section stays with it and the next heading starts a slide (`###`: a
  sub-slide);
- **long prose and tables in the speaker notes**: under its heading a slide keeps what fits on a
  screen: short paragraphs, the first sentence of a long one, the display math, a list with each
  item cut to its first sentence; the whole text of the cell, tables and boxes included, is in
  the notes (`s` opens the speaker view);
- **the exercises**: one exercise and its (closed) solution per slide;
- **figures and animations**: a slide of their own without the code that made them (the book
  keeps it), their printed text in the notes; the set-up cell (`import ganlab as gl` ...) is
  left to the book, and a cell the book hides under a toggle (`hide-output`: the Turing test's
  answers) goes to the notes;
- **code that fits**: a code cell whose code and printout would not fit under its slide's text
  gets a slide of its own, and one too long for any slide scrolls, marked `data-scroll="code"`
  (the template styles it; `tests_browser/test_slides.py` allows a scrollbar only there and on
  the reference list, `data-scroll="references"`).

Heights are estimated from characters and lines (the template's 20 px text, 19 px code, a
960 x 700 slide), with a margin; `tests_browser/test_slides.py` measures the real ones.
"""

from __future__ import annotations

import base64
import copy
import re
import struct
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_markdown_cell
from traitlets import Unicode

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,}|:{3,})")
LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")
BOLD_LEAD = re.compile(r"^\*\*[^*]+\*\*")
# Inline pieces that a sentence break must not fall into: $math$, `code`, {role}`...`.
_ATOMS = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\{[\w:+-]+\}`[^`]*`|`[^`]*`", re.S)
_NOT_AN_END = re.compile(r"(?:\bet al|\be\.g|\bi\.e|\bcf|\bvs|\bFig|\bEq|\bSec|\bCh)\.$")

SLIDE_HEIGHT = 620  # px of content a 700 px slide can take (reveal keeps a margin)
CHARS_PER_LINE = 88  # 20 px text across the 960 px slide
TEXT_LINE = 31
CODE_LINE = 23


# ------------------------------------------------------------------ markdown as blocks


def split_blocks(source: str) -> list[str]:
    """Markdown as blocks separated by blank lines; a fenced block (code, a MyST directive) or
    a $$ block is one block whatever it holds, and a list stays one block with its indented
    continuations."""
    lines = source.split("\n")
    blocks: list[list[str]] = []
    current: list[str] = []
    i = 0

    def close() -> None:
        if current:
            blocks.append(current.copy())
            current.clear()

    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence:
            char, n = fence.group(1)[0], len(fence.group(1))
            end = i + 1
            while end < len(lines) and not re.match(
                rf"^[ \t]*{re.escape(char)}{{{n},}}[ \t]*$", lines[end]
            ):
                end += 1
            inside = lines[i : end + 1]
            if line.startswith((" ", "\t")) and current:  # a fence inside a list item
                current.extend(inside)
            else:
                close()
                blocks.append(inside)
            i = end + 1
            continue
        if line.strip() == "$$" or (line.startswith("$$") and line.strip().count("$$") == 1):
            close()
            end = i + 1
            while end < len(lines) and "$$" not in lines[end]:
                end += 1
            blocks.append(lines[i : end + 1])
            i = end + 1
            continue
        if HEADING.match(line):
            close()
            blocks.append([line])
            i += 1
            continue
        if not line.strip():
            # A blank line ends a block, unless a list goes on (indented or a next item).
            nxt = next((x for x in lines[i + 1 :] if x.strip()), "")
            if (
                current
                and LIST_ITEM.match(current[0])
                and (nxt.startswith(("  ", "\t")) or LIST_ITEM.match(nxt))
            ):
                current.append(line)
            else:
                close()
            i += 1
            continue
        current.append(line)
        i += 1
    close()
    return ["\n".join(b).strip("\n") for b in blocks if any(x.strip() for x in b)]


def kind(block: str) -> str:
    first = block.lstrip().split("\n", 1)[0]
    if HEADING.match(first):
        return "heading"
    if first.lstrip().startswith("$$"):
        return "math"
    m = FENCE.match(first)
    if m:
        if "{footbibliography}" in first:
            return "bibliography"
        if m.group(1)[0] == ":" or re.search(r"\{[\w-]+\}", first):
            is_dropdown = ":class: dropdown" in block or "{dropdown}" in first
            return "solution" if is_dropdown else "box"
        return "code"
    if first.lstrip().startswith("|"):
        return "table"
    if LIST_ITEM.match(first):
        return "list"
    if first.lstrip().startswith("<"):
        return "html"
    return "paragraph"


def first_sentence(text: str, limit: int = 230) -> str | None:
    """The first sentence of a paragraph (not cut inside math, code or a role), or None when it
    is longer than `limit` characters or is the whole paragraph."""
    masked = _ATOMS.sub(lambda m: "x" * len(m.group(0)), text)
    for m in re.finditer(r"[.?!](?=\s+[A-Z(\"*$`{]|\s*$)", masked):
        end = m.end()
        if _NOT_AN_END.search(masked[:end]):
            continue
        sentence = text[:end].strip()
        if len(sentence) > limit or len(sentence) >= len(text.strip()) - 1:
            return None
        return sentence
    return None


def one_line(text: str) -> str:
    return " ".join(text.split())


def list_items(block: str) -> list[str]:
    """The top-level items of a list block, each with its own continuation lines."""
    items: list[list[str]] = []
    indent = len(LIST_ITEM.match(block.split("\n", 1)[0]).group(1))
    for line in block.split("\n"):
        m = LIST_ITEM.match(line)
        if m and len(m.group(1)) == indent:
            items.append([line])
        elif items:
            items[-1].append(line)
    return ["\n".join(i) for i in items]


def condense_item(item: str, limit: int = 150) -> str:
    """A list item cut to what a slide shows: as it is when short, else its first sentence or
    clause, else its bold lead-in."""
    m = LIST_ITEM.match(item)
    marker, text = m.group(2), one_line(item[m.end() :])
    if len(text) <= limit:
        return f"{marker} {text}"
    sentence = first_sentence(text, limit)
    if sentence:
        return f"{marker} {sentence}"
    masked = _ATOMS.sub(lambda a: "x" * len(a.group(0)), text)
    cuts = [c.start() for c in re.finditer(r"[;:,](?=\s)|\s\(", masked) if 40 <= c.start() <= limit]
    if cuts:
        return f"{marker} {text[: cuts[-1]].rstrip()} …"
    lead = BOLD_LEAD.match(text)
    if lead:
        return f"{marker} {lead.group(0)} …"
    return f"{marker} {text}"


# ------------------------------------------------------------------ heights (estimates)


def text_height(markdown: str) -> int:
    height = 0
    for block in split_blocks(markdown):
        k = kind(block)
        if k == "heading":
            height += 75 if block.startswith("# ") else 62
        elif k == "math":
            height += 40 + 42 * (block.count("\\\\") + 1)
        elif k == "list":
            for item in list_items(block):
                height += 8 + TEXT_LINE * (1 + len(one_line(item)) // (CHARS_PER_LINE - 6))
            height += 20
        elif k == "solution":
            height += 70
        else:
            lines = block.count("\n") + 1 if k in {"code", "table"} else 1
            chars = len(one_line(block)) if k not in {"code", "table"} else 0
            height += 20 + TEXT_LINE * max(lines, 1 + chars // CHARS_PER_LINE)
    return height


def output_text_lines(cell) -> int:
    lines = 0
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            lines += len(str(out.get("text", "")).rstrip("\n").split("\n"))
        elif "text/markdown" in out.get("data", {}):
            lines += len(str(out["data"]["text/markdown"]).split("\n"))
        elif "text/plain" in out.get("data", {}) and not is_figure(cell):
            lines += len(str(out["data"]["text/plain"]).split("\n"))
    return lines


def code_height(cell) -> int:
    code = len(cell.source.rstrip("\n").split("\n")) if not removed_source(cell) else 0
    out = output_text_lines(cell)
    return (30 + CODE_LINE * code if code else 0) + (20 + CODE_LINE * out if out else 0)


def is_figure(cell) -> bool:
    kinds = {k for o in cell.get("outputs", []) for k in o.get("data", {})}
    return bool(kinds & {"image/png", "image/svg+xml", "text/html"})


def removed_source(cell) -> bool:
    return bool(cell.metadata.get("transient", {}).get("remove_source"))


def png_size(data: str) -> tuple[int, int]:
    raw = base64.b64decode("".join(data.split())[:64])
    return struct.unpack(">II", raw[16:24])


FIGURE_MAX_HEIGHT = 560  # px: the template's limit for a figure (ganlab_reveal.html.j2)
ANIMATION_HEIGHT = 560  # px: a matplotlib animation, frame (at most 440) and its buttons


def figure_height(cell) -> int:
    """The height a figure or animation takes on its slide (the template caps a picture at
    FIGURE_MAX_HEIGHT and fits it to the slide's width)."""
    height = 0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data:
            w, h = png_size(str(data["image/png"]))
            height += 30 + min(FIGURE_MAX_HEIGHT, int(h * min(1.0, 940 / max(w, 1))))
        elif "text/html" in data:
            height += ANIMATION_HEIGHT
    return height


# ------------------------------------------------------------------ the preprocessor


def _slide_type(cell) -> str:
    return cell.metadata.get("slideshow", {}).get("slide_type", "-")


def _set(cell, slide_type: str, scroll: str = "") -> None:
    cell.metadata["slideshow"] = {"slide_type": slide_type}
    if scroll:
        cell.metadata["slideshow"]["data"] = {"scroll": scroll}


def _markdown(source: str, slide_type: str, scroll: str = "") -> object:
    cell = new_markdown_cell(source)
    _set(cell, slide_type, scroll)
    return cell


def split_at_headings(source: str) -> list[str]:
    """The cell's source cut before each heading (outside fences)."""
    parts: list[list[str]] = [[]]
    fence = None
    for line in source.split("\n"):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                if line.strip() == m.group(1):
                    fence = None
        elif m and line.strip() != m.group(1):
            fence = m.group(1)
        elif HEADING.match(line) and len(HEADING.match(line).group(1)) <= 3:
            parts.append([])
        parts[-1].append(line)
    return ["\n".join(p).strip("\n") for p in parts if "\n".join(p).strip()]


class DeckPreprocessor(Preprocessor):
    """nbconvert preprocessor: a chapter's cells as presentable slides (see the module)."""

    book_title = Unicode(
        "", help="The subtitle of the title slides; empty: `title` of the book's _config.yml."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        meta = resources.get("metadata", {})
        folder = Path(meta.get("path") or ".")
        self.title = self.book_title or _book_title(folder)
        cells = [c for c in nb.cells if _slide_type(c) != "skip"]
        cells = self.drop_setup(cells)
        out = []
        for cell in cells:
            if cell.cell_type == "markdown":
                out.extend(self.markdown(cell, first=not out))
            elif cell.cell_type == "code":
                out.extend(self.code(cell))
        nb.cells = self.fit(out)
        return nb, resources

    # ---- cells
    @staticmethod
    def drop_setup(cells):
        """The first code cell before the first section (imports, threads, device) is left to
        the book: a lecture does not show it."""
        for i, cell in enumerate(cells):
            if cell.cell_type == "markdown" and re.search(r"^##\s", cell.source, re.M):
                break
            if cell.cell_type == "code":
                return cells[:i] + cells[i + 1 :]
        return cells

    def markdown(self, cell, first: bool):
        out = []
        for k, part in enumerate(split_at_headings(cell.source)):
            h = HEADING.match(part.split("\n", 1)[0])
            if h and len(h.group(1)) == 1 and first and k == 0:
                out.extend(self.title_slide(h.group(2), part.split("\n", 1)[1:]))
            elif h:
                slide_type = "slide" if len(h.group(1)) <= 2 else "subslide"
                if h.group(2).strip().lower() == "exercises":
                    out.extend(self.exercises(part, slide_type))
                elif h.group(2).strip().lower() == "references":
                    out.append(_markdown(part, slide_type, scroll="references"))
                else:
                    out.extend(self.section(part, slide_type))
            else:
                # Text before the first heading keeps the cell's own type (the end of the
                # previous section); split off a heading, it is the rule of annotate.py.
                kept = _slide_type(cell) if k == 0 else "-"
                if kept in {"slide"}:
                    kept = "notes" if len(part) > 700 else "-"
                if kept == "notes":
                    out.append(_markdown(part, "notes"))
                else:
                    out.extend(self.section(part, kept))
        return out

    def title_slide(self, title: str, rest: list[str]):
        number = re.match(r"^(\d+)\.\s+(.*)$", title)
        chapter = f"Chapter {number.group(1)}" if number else "Quickstart"
        heading = number.group(2) if number else title.split(":", 1)[0]
        subtitle = title.split(":", 1)[1].strip() if not number and ":" in title else ""
        lines = [f"# {heading}", ""]
        if subtitle:
            lines += [f'<p class="deck-subtitle">{subtitle}</p>', ""]
        lines += [f'<p class="deck-chapter">{chapter} · {self.title}</p>']
        out = [_markdown("\n".join(lines), "slide")]
        body = "\n".join(rest).strip("\n")
        if not body:
            return out
        out.append(_markdown(body, "notes"))
        items = [b for b in split_blocks(body) if kind(b) == "list"]
        if items:
            condensed = [condense_item(i) for b in items for i in list_items(b)]
            out.append(_markdown("## In this chapter\n\n" + "\n".join(condensed), "subslide"))
        return out

    def section(self, part: str, slide_type: str):
        """A heading and its text: what fits on the slide, the whole text in the notes."""
        blocks = split_blocks(part)
        shown: list[str] = []
        height, maths, long_seen = 0, 0, False
        for block in blocks:
            k = kind(block)
            add = None
            if k == "heading":
                add = block
            elif k == "paragraph":
                if len(one_line(block)) <= 260:
                    add = block
                elif not long_seen:
                    long_seen = True
                    add = first_sentence(one_line(block))
            elif k == "math" and maths < 2 and len(block) < 400:
                maths += 1
                add = block
            elif k == "list":
                add = "\n".join(condense_item(i) for i in list_items(block))
            elif k in {"solution", "bibliography"}:
                add = block
            if add and height + text_height(add) <= SLIDE_HEIGHT - 120:
                shown.append(add)
                height += text_height(add)
        slide = "\n\n".join(shown)
        notes_needed = one_line(slide) != one_line("\n\n".join(blocks))
        cells = []
        if shown:
            cells.append(_markdown(slide, slide_type))
        if notes_needed:
            body = [b for b in blocks if kind(b) != "heading"]
            cells.append(_markdown("\n\n".join(body), "notes"))
        return cells

    def exercises(self, part: str, slide_type: str):
        """One exercise and its solution per slide, under the section's heading."""
        blocks = split_blocks(part)
        heading, groups = blocks[0], []
        for block in blocks[1:]:
            if kind(block) == "list" or not groups:
                groups.append([block])
            else:
                groups[-1].append(block)
        cells = []
        for n, group in enumerate(groups):
            text = "\n\n".join(group)
            if n == 0:
                cells.append(_markdown(f"{heading}\n\n{text}", slide_type))
            else:
                cells.append(_markdown(text, "subslide"))
        return cells or [_markdown(heading, slide_type)]

    def code(self, cell):
        cell = copy.deepcopy(cell)
        if {"hide-output", "hide-cell"} & set(cell.metadata.get("tags", [])):
            # Hidden under a toggle in the book (the Turing test's answers): in the speaker
            # notes, not on a slide the audience sees.
            text = "".join(str(o.get("text", "")) for o in cell.outputs).rstrip("\n")
            notes = f"The cell (hidden in the book):\n\n```python\n{cell.source}\n```"
            if text:
                notes += f"\n\nIt prints:\n\n```text\n{text}\n```"
            return [_markdown(notes, "notes")]
        kinds = {k for o in cell.get("outputs", []) for k in o.get("data", {})}
        if "text/markdown" in kinds:
            # A table the cell displays: the display call is boilerplate, the table the point.
            cell.metadata["transient"] = {"remove_source": True}
        if is_figure(cell):
            # The figure is the point: the code that drew it stays in the book, the text it
            # printed goes to the notes.
            cell.metadata["transient"] = {"remove_source": True}
            streams = [o for o in cell.outputs if o.get("output_type") == "stream"]
            cell.outputs = [o for o in cell.outputs if o.get("output_type") != "stream"]
            _set(cell, "subslide")
            cells = [cell]
            if streams:
                text = "".join(str(o.get("text", "")) for o in streams).rstrip("\n")
                cells.append(_markdown(f"Printed by the cell:\n\n```text\n{text}\n```", "notes"))
            return cells
        return [cell]

    def fit(self, cells):
        """Code cells that would push their slide past the screen start a slide of their own;
        one that alone is too long scrolls (data-scroll="code")."""
        height, previous_is_text, figure_shown = 0, False, False
        for cell in cells:
            st = _slide_type(cell)
            if st == "notes":
                continue
            if cell.cell_type == "markdown":
                previous_is_text = True
                h = text_height(cell.source)
                if st not in {"slide", "subslide"} and height + h > SLIDE_HEIGHT:
                    _set(cell, "subslide")  # under a figure or long code: a slide of its own
                    st = "subslide"
                if st in {"slide", "subslide"}:
                    height, figure_shown = 0, False
                height += h
                continue
            if is_figure(cell):
                # Under a heading and a line or two, on the same slide when it fits; one
                # figure per slide.
                h = figure_height(cell)
                if previous_is_text and not figure_shown and height + h <= SLIDE_HEIGHT:
                    _set(cell, "-")
                    height += h
                else:
                    height = h
                previous_is_text, figure_shown = False, True
                continue
            previous_is_text = False
            h = code_height(cell)
            if st in {"slide", "subslide"} or height + h > SLIDE_HEIGHT:
                _set(cell, "subslide", scroll="code" if h > SLIDE_HEIGHT else "")
                height, figure_shown = h, False
            else:
                _set(cell, "fragment")
                height += h
        return cells


def _book_title(folder: Path) -> str:
    for config in (folder / "_config.yml", folder.parent / "_config.yml"):
        if config.exists():
            m = re.search(r"^title:\s*(.+)$", config.read_text(encoding="utf-8"), re.M)
            if m:
                return m.group(1).strip().strip("\"'")
    return ""
