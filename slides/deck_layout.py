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
- **long prose in the speaker notes, what the text introduces on the slide**: under its heading
  a slide keeps what fits on a screen: short paragraphs, the lead of a long one (its first
  sentences, `lead`), every display equation, a list with each item cut to its first sentence,
  and a table, fenced code or box that a paragraph leads into ("...:", "... gives (Theorem 1)",
  `introduces`) or that opens the section. A paragraph and what it leads into, and an equation
  and the words that go on after it (`continues`), stay together: what does not fit under the
  heading goes on a slide of its own, and a heading never stands alone (the start of its first
  group joins it). The whole text of the cell is in the notes (`s` opens the speaker view);
- **words for the deck, not the page**: "printed above", "the cell after it", "(in the rendered
  book)", "With a live kernel," ... (`BOOK_ONLY`) are left out of the slides (`for_the_deck`:
  a parenthesis or clause that holds them goes, an opening "With a live kernel," too), and text
  that ends in ":" before something the deck leaves out ends in "." instead;
- **the exercises**: one exercise and its (closed) solution per slide, the solution open in the
  notes;
- **figures and animations**: a slide of their own without the code that made them (the book
  keeps it), the first sentence of their caption (`mystnb.figure.caption`) under them, the
  caption as their alt text and in the notes, their printed text in the notes; a figure shares
  its slide only with the text that leads into it (a heading and its lines, or "...:"), so a
  closing paragraph never sits above the next experiment's figure; the set-up cell (`import
  ganlab as gl` ...) is left to the book, and a cell the book hides under a toggle
  (`hide-output`: the Turing test's answers) goes to the notes;
- **boilerplate in the notes**: a source listing (`inspect.getsource`) goes to the notes, and a
  helper (a top-level `def` or `class` the chapter's prose does not name in backticks) becomes
  one comment line on the slide (`# helper name(args): first line of its docstring`), its code
  in the notes; a cell of helpers alone goes to the notes;
- **code that fits**: consecutive prints are one printout (`merge_streams`); a printout wider
  than the code box gets a smaller font (cell tags `deck-narrow`, `deck-narrower`); a code cell
  whose code and printout would not fit under its slide's text gets a slide of its own (after
  the text that leads into it, on that text's slide), code and printout on two slides when
  together they do not fit one, and one too long for any slide scrolls, marked
  `data-scroll="code"` (the template styles it and shows a "scroll for more" cue while there is
  more below; `tests_browser/test_slides.py` allows a scrollbar only there and on the reference
  list, `data-scroll="references"`);
- **nothing shortened out of its sense, no nearly empty slide**: a lead keeps the sentences its
  last one refers back to (`refers_back`: "instead", "such", "which", ...), an equation keeps
  the words that go on after it on its slide, a list item that defines a term or holds a formula
  is whole (a long list goes on over slides), a figure's printout that its conclusion reads gets
  a slide, and `join_sparse` puts a slide of a heading and a line (or a lone short paragraph)
  together with the code or figure it leads into, and a lone conclusion under the evidence it
  reads, when they fit one screen (a figure counted at the slide's full width);
- **notes on every slide**: the section's text, a continuation slide's text, the figure's
  caption, one line on what the code does (its first comment or docstring, else the library
  functions it calls, `summary`) and what it prints, the exercise's solution.

Heights are estimated from characters and lines (the template's 20 px text, 19 px code, a
960 x 700 slide), with a margin; `tests_browser/test_slides.py` measures the real ones.
"""

from __future__ import annotations

import ast
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


def sentences(text: str) -> list[str]:
    """A paragraph cut into sentences (never inside math, code or a role, nor after "et al.")."""
    text = one_line(text)
    masked = _ATOMS.sub(lambda m: "x" * len(m.group(0)), text)
    out, start = [], 0
    for m in re.finditer(r"[.?!:](?=\s+[A-Z(\"*$`{])|[.?!]\)?(?=\s|$)", masked):
        end = m.end()
        if masked[end - 1] == ":" or _NOT_AN_END.search(masked[:end]):
            continue
        out.append(text[start:end].strip())
        start = end
    if text[start:].strip():
        out.append(text[start:].strip())
    return [x for x in out if x]


def lead(text: str, limit: int = 260) -> str:
    """What a slide shows of a paragraph: as many of its first sentences as fit in `limit`
    characters (at least one; a first sentence longer than that is cut at a clause, with …)."""
    shown = ""
    for sentence in sentences(text):
        if shown and len(shown) + 1 + len(sentence) > limit:
            break
        shown = f"{shown} {sentence}".strip()
        if len(shown) > limit:
            masked = _ATOMS.sub(lambda a: "x" * len(a.group(0)), shown)
            # at a clause (";" or ","), or before a parenthesis; never inside one (it would be
            # left open), nor after a ":" (which announces what would be cut: "Left: …")
            depth = [0] * (len(masked) + 1)
            for i, ch in enumerate(masked):
                depth[i + 1] = depth[i] + (ch in "([") - (ch in ")]")
            cuts = [
                c.start()
                for c in re.finditer(r"[;,](?=\s)|\s\(", masked)
                if 60 <= c.start() <= limit and depth[c.start()] == 0
            ]
            if cuts:
                shown = shown[: cuts[-1]].rstrip() + " …"
            break
    return shown


# Words that only make sense in the book (a page read from top to bottom, with a kernel): on a
# slide a parenthesis that holds them is dropped, and so is a sentence or clause that holds
# them (the speaker notes keep the book's text).
# The paragraph that closes an experiment, read from its printout or figure.
CONCLUSION = re.compile(
    r"\*\*(?:What to notice|Reading the table|What the tables and curves show|Where ours differ)"
)

# The conclusion after a figure reads the numbers its code printed ("What to notice. The norms
# printed above: ..."): that printout is shown, on a slide after the figure.
READS_PRINTOUT = re.compile(r"\bprinted (?:above|table|norms|numbers)\b|\bthe printout\b", re.I)

# The sentence of a chapter's opening that says what the chapter does (its aims, when they are
# no list).
AIMS = re.compile(r"\b[Tt]his chapter\b")

BOOK_ONLY = re.compile(
    r"rendered book|printed above|on this web page|the cell after it|run the next cell|"
    r"in a live notebook|with a live kernel|without a kernel",
    re.I,
)


# Words that point at the book's page ("the cell below", "the dots above"): on a slide, where
# the thing is on the slide itself or the next one, they are said without the pointing.
BOOK_POINTERS = [
    (r" (?:below|under) the (?:first |second )?widget\b", ""),
    (r"\b([Tt])he cell (?:below|above)\b", r"\1he code"),
    (r"\b([Tt])he cell computes\b", r"\1he code computes"),
    (r"\bwith the cell of (\d+(?:\.\d+)?)", r"with the code of \1"),
    (r"\b(is|are) printed below\b", lambda m: "follows" if m.group(1) == "is" else "follow"),
    (r"\bso below it is\b", "so here is"),
    (r"\b(norms|numbers|values|scores|rows?) printed (?:above|below)\b", r"\1"),
    (
        r"\b(scores?|sets?|correlations|toy|playground|numbers|figures?|animation|tables?|grid|widgets?|"
        r"run|theorem|experiment|recording) (?:below|above)\b",
        r"\1",
    ),
    (r",? as (?:shown )?above\b", ""),
    (r"([$`]) above(?=\s*[,.;:()]|\s*$)", r"\1"),
    (r"(`) above\b", r"\1"),
    # "the notes" of the book's sources would read as the deck's speaker notes
    (r"\b([Tt])he notes this book draws on\b", r"\1he sources this book draws on"),
    (r"\bThe notes list\b", "The literature lists"),
    (r"\bthe lecture notes this book grew from\b", "the lectures this book grew from"),
    (r"\bSome notes say\b", "Some sources say"),
    (r"\b(plays?) below\b", r"\1"),
    (r"\b(dots?) (?:below|above)\b", r"\1 in the figure"),
    (r"\bsmall enough to run here\b", "small enough to run in the notebook"),
]


# The book's page words in the speaker notes, said for a lecturer in front of the deck (after
# BOOK_POINTERS): "In the rendered book the figures above show ..." -> "In the deck, the figures
# show ...".
NOTE_WORDS = [
    (r"\bWithout a kernel \(in the rendered book\),?\s*", "In the deck, "),
    (r"\b[Ii]n the rendered book,?\s*", "In the deck, "),
    (r"\(in the rendered book\)\s*", ""),
    (r"\bWithout a kernel,?\s*", "In the deck, "),
    (r"\bWith a live kernel\b,?\s*", "In the notebook, "),
    (r"\b[Oo]n this web page\b", "in the deck"),
    (r"\b[Rr]un the next cell\b", "run the code of the next slide"),
    (r"\b([Tt])he next cell\b", r"\1he code of the next slide"),
    (r"\bhidden (?:under the cell after it|below it)\b", "in these notes"),
    (r"\bthe cell after it\b", "the next slide"),
    (r"\bin the explorer below\b", "in the notebook's explorer"),
    (r"\bBelow is\b", "Here is"),
    (r"\b(?:is|are) printed above\b", "is printed on an earlier slide"),
    (r"\bprinted above\b", "printed earlier"),
    (r"\bthe (animation|figure|table)s? below\b", r"the \1 on the next slide"),
    (r"\b(animation|figure|table)s? (?:below|above)\b", r"\1"),
    (r"\bthe book\b(?= (?:shows|prints))", "the deck"),
]


def for_the_notes(text: str) -> str:
    """Speaker notes in deck wording: the book's pointers said without pointing (NOTE_WORDS,
    BOOK_POINTERS); code blocks and math are left as they are."""
    parts = re.split(r"(```.*?```|\$\$.*?\$\$)", text, flags=re.S)
    for n in range(0, len(parts), 2):
        part = unpoint(parts[n])
        for pattern, repl in NOTE_WORDS:
            part = re.sub(pattern.replace(" ", r"[ \t]*\n?[ \t]*"), repl, part)
        part = re.sub(r"In the deck, ([a-z])", lambda m: "In the deck, " + m.group(1), part)
        parts[n] = part
    return "".join(parts)


def unpoint(text: str) -> str:
    """`text` without the book's pointers (BOOK_POINTERS)."""
    for pattern, repl in BOOK_POINTERS:
        text = re.sub(pattern.replace(" ", r"[ \t]*\n?[ \t]*"), repl, text)
    return text


def for_the_deck(text: str) -> str:
    """A paragraph as a slide shows it: the book-only words (BOOK_ONLY) gone, the pointers
    to the book's page (BOOK_POINTERS) said without pointing."""
    text = unpoint(text)
    if not BOOK_ONLY.search(text):
        return text
    text = one_line(text)
    # a parenthesis that holds them (one level of nested parentheses allowed)
    text = re.sub(
        r"\s*\((?:[^()]|\([^()]*\))*\)",
        lambda m: "" if BOOK_ONLY.search(m.group(0)) else m.group(0),
        text,
    )
    # "Without a kernel, ..." / "In the rendered book, ...": the sentence without its opening
    text = re.sub(
        r"(^|(?<=[.?!] ))(?:In|On|Without|With)\b[^,.;:]*[,:]\s+([a-z])",
        lambda m: m.group(1) + m.group(2).upper() if BOOK_ONLY.search(m.group(0)) else m.group(0),
        text,
    )
    kept, dropped = [], False
    for sentence in sentences(text):
        clauses = [c for c in re.split(r"(?<=;)\s+", sentence)]
        clauses = [c for c in clauses if not BOOK_ONLY.search(c)]
        if clauses:
            joined = " ".join(clauses)
            if joined.endswith(";"):
                joined = joined[:-1] + "."
            if dropped:
                # "So here is a recording": the reason it went on from is gone
                joined = re.sub(
                    r"^(?:So|Thus|Hence|Therefore|And|But),?\s+(\w)",
                    lambda m: m.group(1).upper(),
                    joined,
                )
            kept.append(joined)
        dropped = not clauses
    return " ".join(kept)


# A section with a widget (its heading says "live" or "playground", or the text names the
# widget): sentences that tell the reader to work its controls, which the deck does not have.
LIVE_HEADING = re.compile(r"^#+ .*\b(?:[Ll]ive|playground|[Tt]he Turing test)\b")
WIDGET_ORDER = re.compile(
    r"^(?:Move|Pick|Choose|Answer|Drag|Click|Press|Try it|Re-run|Select|Slide|Train)\b"
)
INSTEAD = "In the notebook this is a live widget; the deck shows a recording of it."


def unwidget(text: str) -> str:
    """A paragraph of a widget's section without the orders to work its controls; a sentence
    that says what the deck shows instead (the recording) takes their place."""
    kept, dropped = [], False
    for sentence in sentences(text):
        if WIDGET_ORDER.match(sentence.lstrip("*_ ")):
            dropped = True
        else:
            kept.append(sentence)
    if dropped and kept and re.match(r"And [a-z]", kept[0]):
        kept[0] = kept[0][4].upper() + kept[0][5:]  # what it went on from is gone
    if dropped:
        kept.append(INSTEAD)
    return " ".join(kept)


# Words that refer back to the sentence before ("... follows the great circle instead", "rejects
# such averages", "which is 0 when ..."): a sentence that holds them is not shown without it.
ANAPHOR = re.compile(r"\b(?:instead|such|this|these|those|which)\b|^(?:It|They)\b", re.I)


def refers_back(sentence: str) -> bool:
    """Whether a sentence refers back to the one before it (ANAPHOR, outside math and code)."""
    return bool(ANAPHOR.search(_ATOMS.sub(" ", sentence)))


def introduces(text: str) -> bool:
    """Whether a paragraph leads into the block that follows it (it ends in ":" or ",", or
    without a full stop: "... gives (Theorem 1)" before the equation)."""
    end = one_line(text).rstrip()
    return bool(re.search(r"[:,]$|[\w$]\)$|[a-z]$", end))


def continues(text: str) -> bool:
    """Whether a paragraph goes on with the sentence of the equation above it."""
    return bool(re.match(r"\(|[a-z]", one_line(text)))


def lead_in_start(blocks: list[str]) -> int:
    """Where the text that leads into the next code starts: the last paragraph, with the
    equation it goes on from ("... becomes $$D^*$$ so the optimal D ...") and the paragraph that
    leads into that equation, so that no slide starts mid-sentence."""
    start = len(blocks) - 1
    while start > 0 and (
        (
            kind(blocks[start]) == "paragraph"
            and continues(blocks[start])
            and kind(blocks[start - 1]) == "math"
        )
        or (
            kind(blocks[start]) == "math"
            and kind(blocks[start - 1]) == "paragraph"
            and introduces(blocks[start - 1])
        )
    ):
        start -= 1
    return start


def new_topic(block: str) -> bool:
    """A paragraph that opens a topic of its own with a bold run-in title ("**One-sided label
    smoothing.** ..."), not a conclusion."""
    return (
        kind(block) == "paragraph"
        and bool(re.match(r"\*\*[^*]+[.:]\*\*", block.lstrip()))
        and not CONCLUSION.match(block.lstrip())
    )


PARAGRAPH_ROOM = 640  # characters of a paragraph on one slide (about 7 lines)


def pieces_of(text: str, room: int = PARAGRAPH_ROOM) -> list[str]:
    """A paragraph in whole sentences, in pieces of about even length that fit `room`
    characters: a long paragraph goes on over follow-on slides instead of being cut (a sentence
    is never cut), and no piece is a lone short line."""
    text = one_line(text)
    groups: list[list[str]] = []
    for sentence in sentences(text):
        if groups and len(" ".join(groups[-1])) + 1 + len(sentence) <= room:
            groups[-1].append(sentence)
        else:
            groups.append([sentence])
    # a short last piece takes sentences from the one before, while that stays the longer
    while (
        len(groups) > 1
        and len(groups[-2]) > 1
        and len(" ".join(groups[-1])) + len(groups[-2][-1]) < len(" ".join(groups[-2][:-1]))
        and len(" ".join(groups[-1])) < room // 3
    ):
        groups[-1].insert(0, groups[-2].pop())
    return [" ".join(g) for g in groups] or [text]


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


# A list item defines a term ("- **FID**: fit Gaussians ...; FID = ..."): shown whole, as one whose
# cut would leave its formula behind, up to WHOLE_ITEM characters.
DEFINITION = re.compile(r"^\*\*[^*]+\*\*(?:\s*\([^)]*\)|\s*\{[\w:+-]+\}`[^`]*`)*:")
WHOLE_ITEM = 420
FORMULA = re.compile(r"\$[^$]*(?:=|\\le\b|\\ge\b|<|>)[^$]*\$")  # inline math that states something
LIST_ROOM = 520  # px: the most of a slide one list takes (a longer one goes on over slides)


def bare_name(sentence: str) -> bool:
    """Whether a sentence only names its item ("**Unrolled GAN** (Metz et al. 2017)."): without
    the bold name, citations, parentheses and code, fewer than four words are left."""
    rest = re.sub(r"\*\*[^*]+\*\*|\{[\w:+-]+\}`[^`]*`|\([^()]*\)|`[^`]*`", " ", sentence)
    return len(re.findall(r"[A-Za-z]{2,}", rest)) < 4


def condense_item(item: str, limit: int = 150) -> str:
    """A list item cut to what a slide shows: as it is when short, else its first sentence (with
    the next one when the first only names the item) or clause, else its bold lead-in; a nested
    list (the two designs of a discriminator) keeps its items, each condensed."""
    m = LIST_ITEM.match(item)
    lines = item.split("\n")
    nested = next(
        (
            n
            for n, x in enumerate(lines[1:], 1)
            if LIST_ITEM.match(x)
            and x[: m.end()].strip() == ""
            and len(LIST_ITEM.match(x).group(1)) > len(m.group(1))
        ),
        None,
    )
    if nested is not None and limit < 10_000:
        head = condense_item("\n".join(lines[:nested]), limit)
        block = "\n".join(lines[nested:])
        indent = " " * (len(m.group(1)) + len(m.group(2)) + 1)
        subs = [
            indent + condense_item(x.strip(), 320)
            for x in list_items(
                "\n".join(
                    y[len(indent) :] if y.startswith(indent) else y.strip()
                    for y in block.split("\n")
                )
            )
        ]
        return head + "\n" + "\n".join(subs)
    marker, text = m.group(2), unpoint(one_line(item[m.end() :]))
    said = sentences(text)
    if len(said) > 1 and bare_name(said[0]) and len(text) > limit:
        # "**Unrolled GAN** (Metz et al. 2017)." says nothing: the sentence after it too
        room = max(limit, 260)
        second = (
            said[1] if len(said[0]) + len(said[1]) < room else lead(said[1], room - len(said[0]))
        )
        both = f"{said[0]} {second}"
        return f"{marker} {both}" + (
            " …" if len(both) < len(text) - 1 and "…" not in second else ""
        )
    if len(text) <= limit:
        return f"{marker} {text}"
    if len(text) <= WHOLE_ITEM and (
        DEFINITION.match(text) or FORMULA.search(text) or text.endswith(":")
    ):
        # a term and its definition ("**FID**: fit ..."), an item with a formula ("FID = ...")
        return f"{marker} {text}"
    sentence = first_sentence(text, limit)
    if sentence:
        # as many whole sentences as fit ("... classifier (...). D has C + 1 outputs: ...")
        for more in said[1:]:
            if len(sentence) + 1 + len(more) > limit or FORMULA.search(more):
                break
            sentence = f"{sentence} {more}"
        if len(sentence) >= len(text) - 1:
            return f"{marker} {text}"
        if len(text) <= WHOLE_ITEM and FORMULA.search(text[len(sentence) :]):
            return f"{marker} {text}"  # its formula stays with it
        return f"{marker} {sentence}"
    masked = _ATOMS.sub(lambda a: "x" * len(a.group(0)), text)
    depth = [0] * (len(masked) + 1)
    for n, ch in enumerate(masked):
        depth[n + 1] = depth[n] + (ch in "([") - (ch in ")]")
    cuts = [  # at a clause, never inside a parenthesis (it would be left open)
        c.start()
        for c in re.finditer(r"[;:,](?=\s)|\s\(", masked)
        if 40 <= c.start() <= limit and depth[c.start()] == 0
    ]
    if cuts:
        if len(text) <= WHOLE_ITEM and FORMULA.search(text[cuts[-1] :]):
            return f"{marker} {text}"
        return f"{marker} {text[: cuts[-1]].rstrip()} …"
    bold = BOLD_LEAD.match(text)
    if bold:
        return f"{marker} {bold.group(0)} …"
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
            # a table's row of several columns wraps to two or three lines
            lines += sum(
                3 if x.lstrip().startswith("|") and x.count("|") > 4 else 1
                for x in str(out["data"]["text/markdown"]).split("\n")
            )
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


FIGURE_MAX_HEIGHT = 520  # px: the template's limit for a figure (ganlab_reveal.html.j2)
ANIMATION_HEIGHT = 560  # px: a matplotlib animation, frame (at most 440) and its buttons


def figure_height(cell) -> int:
    """The height a figure or animation takes on its slide (the template scales a picture to
    the slide's width, at most FIGURE_MAX_HEIGHT high)."""
    height = 0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data:
            w, h = png_size(str(data["image/png"]))
            height += 30 + min(FIGURE_MAX_HEIGHT, int(h * 940 / max(w, 1)))
        elif "text/html" in data:
            height += ANIMATION_HEIGHT
    return height


# ------------------------------------------------------------------ code cells


def merge_streams(outputs: list) -> list:
    """Consecutive printouts of one stream as one output: one <pre> block, no uneven gaps."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and out.get("output_type") == "stream"
            and prev.get("output_type") == "stream"
            and prev.get("name") == out.get("name")
        ):
            prev["text"] = str(prev.get("text", "")) + str(out.get("text", ""))
        else:
            merged.append(copy.deepcopy(out))
    return merged


def split_helpers(source: str, named: set[str]) -> tuple[str, str]:
    """The code a slide shows and the helpers it leaves to the notes: a top-level function or
    class the chapter's prose does not name (in backticks) is a helper; on the slide it becomes
    one comment line, its name, arguments and the first line of its docstring."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, ""
    lines = source.split("\n")
    helpers, drop = [], set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name not in named:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            helpers.append("\n".join(lines[first : node.end_lineno]))
            drop.update(range(first, node.end_lineno))
            doc = (ast.get_docstring(node) or "").split("\n", 1)[0]
            args = (
                ", ".join(a.arg for a in getattr(node, "args", ast.arguments()).args)
                if (isinstance(node, ast.FunctionDef))
                else ""
            )
            comment = f"# helper {node.name}({args})" + (f": {doc}" if doc else "")
            if len(comment) > 84:
                comment = comment[:83] + "…"
            lines[first] = "\0" + comment
    if not helpers:
        return source, ""
    shown = [
        x[1:] if x.startswith("\0") else x
        for i, x in enumerate(lines)
        if i not in drop or x.startswith("\0")
    ]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(shown)).strip("\n")
    return text, "\n\n\n".join(helpers)


def summary(source: str) -> str:
    """One line on what a code cell does: its first comment or docstring, else the library
    functions it calls."""
    m = re.search(r'^\s*#\s*(.+)$|"""(.+?)(?:"""|$)', source, re.M)
    if m:
        return (m.group(1) or m.group(2)).strip()
    calls = list(dict.fromkeys(re.findall(r"\b(gl(?:\.\w+)+)\(", source)))
    if calls:
        return "calls " + ", ".join(f"`{c}`" for c in calls[:5]) + "."
    return "the computation behind the numbers on the slide."


TABLE_ROWS = 8  # rows of a displayed table on one slide (a taller one goes on over slides)


def table_pieces(markdown: str) -> tuple[list[str], str]:
    """A displayed Markdown output (the benchmark's tables) as slides: one table per slide, a
    table's "#### title" in bold over it, a table of more than TABLE_ROWS rows split by its first
    column's groups ("ring", "grid") and then into pieces of TABLE_ROWS rows (the header
    repeated, "rows a–b of n" said), an interval "[a, b]" on a small second line of its cell;
    the prose around the tables (their caption) goes to the notes."""
    pieces: list[str] = []
    prose: list[str] = []
    title = ""
    for block in split_blocks(markdown):
        k = kind(block)
        if k == "heading":
            title = HEADING.match(block).group(2)
            continue
        if k != "table":
            prose.append(block)
            continue
        lines = [x for x in block.split("\n") if x.strip()]
        head, rows = lines[:2], lines[2:]
        rows = [re.sub(r"(?<=\S) (\[[^\]|]+\])", r"<br><small>\1</small>", row) for row in rows]
        groups: list[list[str]] = []
        if len(rows) > TABLE_ROWS:
            for row in rows:
                first = row.strip("|").split("|")[0].strip()
                if groups and groups[-1][0].strip("|").split("|")[0].strip() == first:
                    groups[-1].append(row)
                else:
                    groups.append([row])
            if len(groups) == 1 or len(groups) > 4:
                groups = [rows]
        else:
            groups = [rows]
        for group in groups:
            count = -(-len(group) // TABLE_ROWS)
            size = -(-len(group) // count)
            for j in range(0, len(group), size):
                label = title
                if len(groups) > 1:
                    name = group[0].strip("|").split("|")[0].strip()
                    label = f"{title}: {name}" if title else name
                if count > 1:
                    label += f" (rows {j + 1}–{min(j + size, len(group))} of {len(group)})"
                table = "\n".join(head + group[j : j + size])
                pieces.append(f"**{label}**\n\n{table}" if label else table)
        title = ""
    return pieces, "\n\n".join(prose)


def what_code_does(source: str, bare: bool = False) -> str:
    """A sentence for the notes on what a code cell does (`summary`, helpers' comment lines
    left out): "The code calls ...", or its first comment; `bare`: a phrase, without "The code"."""
    said = summary(re.sub(r"(?m)^\s*# helper .*$", "", source)).rstrip(".")
    if said.startswith("calls "):
        return f"it {said}" if bare else f"The code {said}."
    if said.startswith("the computation behind"):
        return "its computation" if bare else "The code computes the numbers on the slide."
    return f"the code: {said}" if bare else f"What the code does (its first comment): {said}."


def reading(source: str) -> str:
    """The first sentence of the conclusion that reads a printout, for the notes of the slide
    that shows it ("What to notice. ..." without its label)."""
    text = for_the_deck(one_line(re.sub(r"^\*\*[^*]+\*\*\s*", "", source.lstrip())))
    said = sentences(text)
    return said[0] if said else ""


# Names a chapter defines in code that no slide shows (the set-up cell, a figure's code) are
# said where a slide's code first uses them, as a comment: "# from the book: bench_ring = ...".
OBVIOUS = frozenset({"device", "fig", "ax", "axes", "plt", "torch", "np", "gl", "nn", "F"})


def definitions(source: str) -> dict[str, str]:
    """The top-level names a cell defines, each with one line that says what it is (its
    assignment, or a function's name, arguments and docstring's first line)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    lines = source.split("\n")
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            line = lines[node.lineno - 1].strip()
            if node.end_lineno != node.lineno:
                line += " ..."
            for target in node.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        out[name.id] = line
        elif isinstance(node, ast.FunctionDef):
            args = ", ".join(a.arg for a in node.args.args)
            doc = (ast.get_docstring(node) or "").split("\n", 1)[0]
            out[node.name] = f"{node.name}({args})" + (f": {doc}" if doc else "")
    return {k: v for k, v in out.items() if k not in OBVIOUS}


def used_names(source: str) -> list[str]:
    """The names a cell reads before (or without) assigning them, in order of first use."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    assigned = set(definitions(source)) | {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    seen: list[str] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in seen:
            if n.id not in assigned:
                seen.append(n.id)
    return seen


def escape_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


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
        self.live = False  # in a widget's section (`section`)
        self.reading = ""  # the conclusion that reads the code's printout (`code`)
        cells = [c for c in nb.cells if _slide_type(c) != "skip"]
        before = cells
        cells = self.drop_setup(cells)
        # names defined by code no slide shows: the set-up cell, and (below) figures' code
        self.unseen = {}
        for c in before:
            if c.cell_type == "code" and c not in cells:
                self.unseen.update(definitions(c.source))
        prose = "\n".join(c.source for c in cells if c.cell_type == "markdown")
        self.named = set(re.findall(r"`([A-Za-z_]\w*)[`(]", prose))  # functions the prose names
        out = []
        for n, cell in enumerate(cells):
            nxt = cells[n + 1] if n + 1 < len(cells) else None
            to_code = nxt is not None and nxt.cell_type == "code" and self.shown_code(nxt)
            if cell.cell_type == "markdown":
                out.extend(self.markdown(cell, first=not out, leads_into_code=to_code))
            elif cell.cell_type == "code":
                # the conclusion right after it (no other code on a slide between) reads its
                # numbers: its printout is on a slide, not in the notes alone
                after = next(
                    (c for c in cells[n + 1 :] if c.cell_type == "markdown" or self.shown_code(c)),
                    None,
                )
                read = (
                    after is not None
                    and after.cell_type == "markdown"
                    and bool(CONCLUSION.match(after.source.lstrip()))
                )
                self.reading = reading(after.source) if read else ""
                out.extend(self.said_where_used(cell, self.code(cell, read)))
        for c in out:
            if c.cell_type == "markdown" and _slide_type(c) == "notes":
                c.source = for_the_notes(c.source)
        nb.cells = self.unique_ids(join_sparse(self.fit(out)))
        return nb, resources

    def said_where_used(self, cell, cells):
        """The code of a slide that uses a name defined where no slide shows it (the set-up
        cell: `phi`, `G_early`; a figure's code: `bench_ring`) says what it is, in a comment
        line at its top, the first time; a cell whose code no slide shows adds its names."""
        shown = [
            c
            for c in cells
            if c.cell_type == "code" and _slide_type(c) != "notes" and not removed_source(c)
        ]
        if not shown:
            self.unseen.update(definitions(cell.source))
            return cells
        code = shown[0]
        said = [n for n in used_names(code.source) if n in self.unseen]
        if said:
            lines = []
            for name in said:
                line = f"# defined in the book: {self.unseen.pop(name)}"
                lines.append(line if len(line) <= 88 else line[:87] + "…")
            code.source = "\n".join(lines) + "\n" + code.source
        for name in definitions(code.source):
            self.unseen.pop(name, None)
        return cells

    @staticmethod
    def unique_ids(cells):
        """A cell split over slides keeps its id on its first part; the others get the id with
        "-2", "-3", ... (nbformat would otherwise warn DuplicateCellId and draw random ones)."""
        seen = {c.get("id") for c in cells if c.get("id")}
        used = set()
        for c in cells:
            cid = c.get("id")
            if not cid:
                continue
            if cid in used:
                k = 2
                while f"{cid[:58]}-{k}" in seen:
                    k += 1
                c["id"] = f"{cid[:58]}-{k}"
                seen.add(c["id"])
            used.add(c["id"])
        return cells

    # ---- cells
    def shown_code(self, cell) -> bool:
        """Whether a code cell is on a slide (`code` leaves some to the notes)."""
        if {"hide-output", "hide-cell"} & set(cell.metadata.get("tags", [])):
            return False
        if re.search(r"\binspect\.getsource\(", cell.source):
            return False
        shown, helpers = split_helpers(cell.source, self.named)
        return bool(cell.get("outputs")) or not helpers or bool(shown.strip())

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

    def markdown(self, cell, first: bool, leads_into_code: bool = False):
        out = []
        parts = split_at_headings(cell.source)
        for k, part in enumerate(parts):
            into_code = leads_into_code and k == len(parts) - 1
            h = HEADING.match(part.split("\n", 1)[0])
            if h and len(h.group(1)) == 1 and first and k == 0:
                out.extend(self.title_slide(h.group(2), part.split("\n", 1)[1:]))
            elif h:
                slide_type = "slide" if len(h.group(1)) <= 2 else "subslide"
                if h.group(2).strip().lower() == "exercises":
                    out.extend(self.exercises(part, slide_type))
                elif h.group(2).strip().lower() == "references":
                    out.append(_markdown(part, slide_type, scroll="references"))
                    out.append(
                        _markdown(
                            "The works cited in the chapter, in the order of their first citation.",
                            "notes",
                        )
                    )
                else:
                    out.extend(self.section(part, slide_type, into_code))
            else:
                # Text before the first heading keeps the cell's own type (the end of the
                # previous section); split off a heading, it is the rule of annotate.py.
                kept = _slide_type(cell) if k == 0 else "-"
                if kept in {"slide"}:
                    kept = "notes" if len(part) > 700 else "-"
                blocks = split_blocks(part)
                if (
                    kept == "notes"
                    and CONCLUSION.match(part.lstrip())
                    and "check-yourself" not in cell.metadata.get("tags", [])
                ):
                    # An experiment's conclusion ("What to notice. ...") is what the audience
                    # must take from the printout or figure: its lead on a slide of its own after
                    # it, the conclusion in that slide's notes; a lead-in to the next code that
                    # closes the cell goes on to that code's slide (and notes), below.
                    end = len(blocks)
                    # a new topic after it ("**One-sided label smoothing.** ..."): a part of
                    # its own, shown, not the conclusion's notes alone
                    topic = next((j for j in range(1, len(blocks)) if new_topic(blocks[j])), None)
                    if topic is not None:
                        end = topic
                    elif (
                        into_code
                        and len(blocks) > 1
                        and kind(blocks[-1]) == "paragraph"
                        and introduces(blocks[-1])
                    ):
                        end = max(1, lead_in_start(blocks))
                    out.extend(self.conclusion(blocks[:end]))
                    blocks = blocks[end:]
                    part = "\n\n".join(blocks)
                    if not blocks:
                        continue
                    if topic is not None:
                        out.extend(self.section(part, "subslide", into_code))
                        continue
                if (
                    kept == "notes"
                    and "check-yourself" not in cell.metadata.get("tags", [])
                    and (into_code and kind(blocks[-1]) == "paragraph" and introduces(blocks[-1]))
                ):
                    # Long prose that ends by leading into the next cell's code ("The same
                    # experiment with Adam ...:"): its last paragraph is that code's slide's
                    # text, the whole cell its notes.
                    start = lead_in_start(blocks)
                    if start > 0 and any(kind(b) == "paragraph" for b in blocks[:start]):
                        # the text before it reads the experiment before ("The FID of real
                        # against real falls ..."): a slide of its own, with its own notes, not
                        # the notes of the next experiment's slide
                        out.extend(self.conclusion(blocks[:start]))
                        part = "\n\n".join(blocks[start:])
                    shown = self.section("\n\n".join(blocks[start:]), "subslide", True)
                    shown = [c for c in shown if _slide_type(c) != "notes"]
                    out.extend(shown[:1] + [_markdown(part, "notes")] + shown[1:])
                elif kept == "notes":
                    out.append(_markdown(part, "notes"))
                else:
                    out.extend(self.section(part, kept, into_code))
        return out

    def conclusion(self, blocks: list[str]):
        """An experiment's conclusion: its first paragraph whole (its claim and the numbers it
        rests on), over follow-on slides when long, each with its text in the notes; the whole
        conclusion in the first one's notes."""
        first = next((b for b in blocks if kind(b) == "paragraph"), blocks[0])
        pieces = pieces_of(for_the_deck(one_line(first)))
        out = [_markdown(pieces[0], "subslide"), _markdown("\n\n".join(blocks), "notes")]
        for piece in pieces[1:]:
            out += [_markdown(piece, "subslide"), _markdown(piece, "notes")]
        # a table it reads ("the table below, from ten seeds, is the measurement") on a slide,
        # with the paragraph after it that says what it shows
        start = blocks.index(first)
        for j in range(start + 1, len(blocks)):
            if kind(blocks[j]) != "table":
                continue
            out += [_markdown(blocks[j], "subslide"), _markdown(blocks[j], "notes")]
            if j + 1 < len(blocks) and kind(blocks[j + 1]) == "paragraph":
                text = blocks[j + 1]
                for piece in pieces_of(for_the_deck(one_line(text))):
                    out += [_markdown(piece, "subslide"), _markdown(piece, "notes")]
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
            # whole items (a bold label and "…" says nothing); a long list in a smaller font
            whole = [condense_item(i, 10_000) for b in items for i in list_items(b)]
            aims = _markdown("## In this chapter\n\n" + "\n".join(whole), "subslide")
            dense = sum(len(i) for i in whole) > 800
            layout = "aims dense" if dense else "aims"
            aims.metadata["slideshow"]["data"] = {"layout": layout}  # compact (the template)
            out.append(aims)
            out.append(_markdown("\n\n".join(items), "notes"))
        else:
            # no list of aims: the opening's sentences from the one that says what "this
            # chapter" does (chapter 5's "This chapter starts with ..."), whole
            said = [
                s
                for b in split_blocks(body)
                if kind(b) == "paragraph"
                for s in sentences(for_the_deck(b))
            ]
            start = next((n for n, s in enumerate(said) if AIMS.search(s)), None)
            if start is not None:
                aims = _markdown("## In this chapter\n\n" + " ".join(said[start:]), "subslide")
                aims.metadata["slideshow"]["data"] = {"layout": "aims"}
                out.append(aims)
                out.append(_markdown(" ".join(said[start:]), "notes"))
        return out

    def spread(self, block, text, live, i, tied, shown, srcs):
        """A paragraph shown whole over follow-on slides: every piece but the last goes into
        ``shown`` now; returns the last piece, its source and whether the next is tied."""
        pieces, said = self.pieces(block, text, live)
        for n_piece, piece in enumerate(pieces[:-1]):
            shown.append((piece, tied))
            srcs.append((i, None if n_piece == 0 else said[n_piece]))
            tied = False
        return pieces[-1], ((i, said[-1]) if len(pieces) > 1 else None), tied

    def section(self, part: str, slide_type: str, leads_into_code: bool = False):
        """A heading and its text: what fits on the slide, the whole text in the notes.

        A slide shows the heading, short paragraphs (a long one: its lead, `lead`), every
        display equation, lists cut to their first sentences, and a table, fenced code or box
        that a paragraph introduces ("...:") or that opens the section. A paragraph that leads
        into an equation, a table or code (`introduces`) and the text that goes on after an
        equation (`continues`) stay with it, on one slide: what does not fit under the heading
        goes on a slide of its own, never to the notes alone. The words that only make sense in
        the book are left out (`for_the_deck`). The cell's whole text is the slide's notes."""
        blocks = split_blocks(part)
        kinds = [kind(b) for b in blocks]
        if blocks and kinds[0] == "heading":
            self.live = bool(LIVE_HEADING.match(blocks[0]))
            self.said_instead = False
        live = getattr(self, "live", False) or "widget" in part
        shown: list[tuple[str, bool]] = []  # (markdown, tied to the block before it)
        srcs: list[tuple[int, str | None]] = []  # (its block, its whole text if only a part)
        long_seen, last = False, None  # last: the index of the last block shown
        for i, (block, k) in enumerate(zip(blocks, kinds, strict=False)):
            before = next((j for j in range(i - 1, -1, -1) if kinds[j] != "heading"), None)
            tied = (
                before is not None
                and last == before
                and (
                    (
                        kinds[before] in {"paragraph", "list"}
                        and introduces(for_the_deck(blocks[before]))
                    )
                    or (kinds[before] == "math" and k == "paragraph" and continues(block))
                )
            )
            nxt = kinds[i + 1] if i + 1 < len(blocks) else None
            add, src = None, None
            if k == "heading":
                add = block
            elif k == "paragraph":
                text = for_the_deck(block)
                if live:
                    text = unwidget(text)
                    if INSTEAD in text and getattr(self, "said_instead", False):
                        text = text.replace(INSTEAD, "").strip()  # once per section
                    self.said_instead = getattr(self, "said_instead", False) or INSTEAD in text
                if tied:
                    # "(`lipschitz.power_iteration`). Each iteration ...": the sentence goes on
                    text = re.sub(r"^\(`[^`]*`\)[.,;]?\s*", "", one_line(text))
                leads_in = introduces(text) and (
                    nxt in {"math", "table", "code", "list", "paragraph"}
                    or (nxt is None and leads_into_code)
                )
                bare = not any(t for t, _ in shown if not t.startswith("#"))
                if introduces(text) and not leads_in and text.endswith(":"):
                    text = text[:-1].rstrip() + "."  # it leads into what the deck leaves out
                if not text or (introduces(text) and not leads_in):
                    add = None  # "... the step size, a regulariser," and then nothing
                elif len(one_line(text)) <= 260:
                    add = text
                elif leads_in:
                    # whole: what it says before its last sentence defines what the equation,
                    # table or code then uses (the discriminator, the stride s, θ and ψ); a long
                    # one goes on over follow-on slides, its last piece with what it leads into
                    add, src, tied = self.spread(block, text, live, i, tied, shown, srcs)
                    long_seen = True
                elif new_topic(block) or CONCLUSION.match(block.lstrip()):
                    # a topic of its own ("**D's side is binary cross-entropy.** ..."): its
                    # claim is what the code after it checks; whole, over follow-on slides
                    add, src, tied = self.spread(block, text, live, i, tied, shown, srcs)
                    long_seen = True
                elif not long_seen or bare:
                    long_seen = True
                    add = lead(text)
            elif k == "math":
                add = block
            elif k == "list":
                # a list taller than a slide: its items on as many slides as they need
                chunks: list[list[str]] = [[]]
                whole = list_items(block)
                for it in whole:
                    item = condense_item(it)
                    if chunks[-1] and text_height("\n".join(chunks[-1] + [item])) > LIST_ROOM:
                        chunks.append([])
                    chunks[-1].append(item)
                size = len(whole)
                if len(chunks) > 1:  # as many items on each slide as can be
                    items = [it for chunk in chunks for it in chunk]
                    size = -(-len(items) // len(chunks))
                    chunks = [items[j : j + size] for j in range(0, len(items), size)]
                # the notes of each slide: its items whole
                full = ["\n".join(whole[j : j + size]) for j in range(0, len(whole), size)]
                for chunk, items_whole in zip(chunks[:-1], full, strict=False):
                    shown.append(("\n".join(chunk), tied))
                    srcs.append((i, items_whole))
                    tied = False
                add = "\n".join(chunks[-1])
                src = (i, full[-1]) if len(chunks) > 1 else None
            elif k in {"table", "code"}:
                add = block if tied or before is None else None
            elif k == "box":
                add = block if tied else None
            elif k in {"solution", "bibliography"}:
                add = block
            if add:
                shown.append((add, tied))
                srcs.append(src or (i, None))
                last = i
        # On slides: the heading's slide takes what fits; a block that does not fit starts a
        # slide of its own (with what is tied to it).
        slides: list[list[str]] = [[]]
        height = 0
        groups: list[list[str]] = []
        for text, tied in shown:
            if tied and groups:
                groups[-1].append(text)
            else:
                groups.append([text])
        # room for the code that follows, if any
        budget = SLIDE_HEIGHT - (120 if leads_into_code else 60)
        for group in groups:
            h = sum(text_height(t) for t in group)
            if all(t.startswith("#") for t in slides[-1]) and height + h > budget:
                # never a heading alone: the group's start on the heading's slide
                while group:
                    # an equation goes with the words that go on after it ("which is 0 when
                    # ..."): both on the heading's slide (to its foot), or both on the next
                    take = 1
                    while (
                        take < len(group)
                        and kind(group[take - 1]) == "math"
                        and (continues(group[take]))
                    ):
                        take += 1
                    room = SLIDE_HEIGHT - (40 if take == 1 else 0)
                    if height + sum(text_height(t) for t in group[:take]) > room:
                        break
                    height += sum(text_height(t) for t in group[:take])
                    slides[-1].extend(group[:take])
                    del group[:take]
                if group:
                    # "non-saturating:" goes with the equation it leads into, to the next slide
                    # (a label, capitalised there: no slide starts in lower case)
                    while (
                        sum(not t.startswith("#") for t in slides[-1]) > 1
                        and kind(slides[-1][-1]) == "paragraph"
                        and slides[-1][-1].rstrip().endswith(":")
                    ):
                        group.insert(0, slides[-1].pop())
                        height -= text_height(group[0])
                    last_text = slides[-1][-1]
                    if kind(last_text) == "paragraph" and last_text.rstrip().endswith(":"):
                        # it stays with the heading: it announces the next slide
                        slides[-1][-1] = last_text.rstrip()[:-1].rstrip() + "."
                    if re.match(r"[a-z]", group[0]) and len(group[0]) <= 60:
                        group[0] = group[0][0].upper() + group[0][1:]
                    slides.append([])
                    height = 0
                h = sum(text_height(t) for t in group)
            elif slides[-1] and height + h > budget:
                slides.append([])
                height = 0
            slides[-1].extend(group)
            height += h
        slides = [x for x in slides if x]
        tail = None
        if (
            leads_into_code
            and slides
            and shown
            and not shown[-1][1]  # not the end of an equation's sentence
            and introduces(slides[-1][-1])
            and any(not t.startswith("#") for t in slides[-1][:-1])
        ):
            # "... against autograd:" leads into the next cell's code: a cell of its own, so
            # that it goes with that code to the next slide when both do not fit on this one
            tail = slides[-1].pop()
        # The notes of each slide: the whole text of what it shows (a list's items whole, a
        # paragraph's part), and the text the slides leave out where it stands (with the slide
        # of the block before it), so that the notes of a slide never read ahead.
        where: dict[int, int] = {}  # block -> its slide
        owned: list[list[tuple[int, str | None]]] = [[] for _ in slides]
        flat = [n for n, texts in enumerate(slides) for _ in texts] + (
            [len(slides) - 1] if tail else []
        )
        for (block_no, whole), n in zip(srcs, flat, strict=False):
            where[block_no] = n
            owned[n].append((block_no, whole))
        notes: list[list[str]] = [[] for _ in slides]
        for n in range(len(slides)):
            for block_no, whole in owned[n]:
                text = whole if whole is not None else blocks[block_no]
                if kinds[block_no] != "heading" and text not in notes[n]:
                    notes[n].append(text)
        at = 0
        for j, block in enumerate(blocks):
            if j in where:
                at = where[j]
            elif kinds[j] != "heading" and slides:
                notes[at].append(block)
        cells = []
        for n, texts in enumerate(slides):
            cells.append(_markdown("\n\n".join(texts), slide_type if n == 0 else "subslide"))
            if notes[n]:
                cells.append(_markdown("\n\n".join(notes[n]), "notes"))
        if not cells:
            body = [b for b in blocks if kind(b) != "heading"]
            cells.append(_markdown("\n\n".join(body), "notes"))
        if tail:
            cells.append(_markdown(tail, "-"))
        return cells

    @staticmethod
    def pieces(block: str, text: str, live: bool) -> tuple[list[str], list[str]]:
        """A paragraph over follow-on slides: its pieces as the slides say them and as the book
        does (the notes: the whole paragraph with the first piece, each piece with the next)."""
        said = pieces_of(block)
        if len(said) == 1:
            return [text], [block]
        shown = [for_the_deck(x) for x in said]
        if live:
            shown = [unwidget(x) for x in shown]
        kept = [(a, b) for a, b in zip(shown, said, strict=False) if a.strip()]
        return [a for a, _ in kept] or [text], [b for _, b in kept] or [block]

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
            shown = unpoint(text)
            if n == 0:
                cells.append(_markdown(f"{heading}\n\n{shown}", slide_type))
            else:
                cells.append(_markdown(shown, "subslide"))
            # the lecturer's copy: the exercise with its solution, open
            opened = re.sub(r"^:class: dropdown\n", "", text, flags=re.M)
            cells.append(_markdown(f"Exercise {n + 1}, with its solution:\n\n{opened}", "notes"))
        return cells or [_markdown(heading, slide_type)]

    def code(self, cell, read: bool = False):
        """A code cell on a slide: figures without their code (caption under them, alt text,
        caption and printout in the notes); helpers and source listings in the notes; the
        printouts of a cell merged into one block; code and printout on two slides when together
        they would not fit one; a one-line account of the code in the notes."""
        cell = copy.deepcopy(cell)
        tags = set(cell.metadata.get("tags", []))
        if {"hide-output", "hide-cell"} & tags:
            # Hidden under a toggle in the book (the Turing test's answers): in the speaker
            # notes, not on a slide the audience sees.
            text = "".join(str(o.get("text", "")) for o in cell.outputs).rstrip("\n")
            notes = f"The cell (hidden in the book):\n\n```python\n{cell.source}\n```"
            if text:
                notes += f"\n\nIt prints:\n\n```text\n{text}\n```"
            return [_markdown(notes, "notes")]
        cell.outputs = merge_streams(cell.get("outputs", []))
        self.streams = cell.outputs
        printed = "".join(
            str(o.get("text", "")) for o in cell.outputs if o.get("output_type") == "stream"
        ).rstrip("\n")
        if re.search(r"\binspect\.getsource\(", cell.source):
            # A source listing is the library's code, not the lecture: the notes have it.
            return [
                _markdown(
                    f"The cell prints the source of the library's functions:\n\n"
                    f"```python\n{cell.source}\n```\n\n```python\n{printed}\n```",
                    "notes",
                )
            ]
        kinds = {k for o in cell.get("outputs", []) for k in o.get("data", {})}
        if "text/markdown" in kinds:
            # A table the cell displays: the display call is boilerplate, the table the point.
            cell.metadata["transient"] = {"remove_source": True}
            md = next(o for o in cell.outputs if "text/markdown" in o.get("data", {}))
            text = md["data"]["text/markdown"]
            text = "".join(text) if isinstance(text, list) else str(text)
            pieces, prose = table_pieces(text)
            if pieces and (len(pieces) > 1 or prose):
                return self.tables(cell, md, pieces, prose)
        if is_figure(cell):
            return self.figure(cell, printed, read)
        shown, helpers = split_helpers(cell.source, self.named)
        notes = [what_code_does(re.sub(r"(?m)^# helper .*$", "", shown))]
        if helpers:
            notes.append("Its helpers (in the book):\n\n```python\n" + helpers + "\n```")
            if not shown.strip() and not cell.outputs:
                return [_markdown("\n\n".join(notes), "notes")]
            cell.source = shown
        if printed and "text/markdown" not in kinds:
            notes.append(
                (
                    "It prints the numbers on the slide, which the section reads on the next "
                    f"slide: {self.reading}"
                    if self.reading
                    else "What it prints, under the code on the slide:"
                )
                + f"\n\n```text\n{printed}\n```"
            )
        width = max((len(x) for x in (printed + "\n" + cell.source).split("\n")), default=0)
        if width > 92:  # wider than the code box at 16 px: a smaller font (the template)
            tag = "deck-narrow" if width <= 110 else "deck-narrower"
            cell.metadata["tags"] = sorted(tags | {tag})
        out = [cell]
        if code_height(cell) > SLIDE_HEIGHT and cell.outputs and not removed_source(cell):
            # Code and printout would not fit one slide: the code, then its printout.
            printout = copy.deepcopy(cell)
            printout.metadata["transient"] = {"remove_source": True}
            _set(printout, "subslide")
            printout.metadata["deck"] = "printout"
            cell.outputs = []
            notes = [
                x.replace("under the code on the slide", "on the slide after it") for x in notes
            ]
            out = [cell, _markdown("\n\n".join(notes), "notes"), printout]
            # its notes say what it shows, not what the code was (the code slide's notes do)
            first = next((x.strip() for x in printed.split("\n") if x.strip()), "")
            if printed and "text/markdown" not in kinds:
                notes = [
                    f"This slide shows the code's printout, from “{first}” on."
                    + (f" The section reads it next: {self.reading}" if self.reading else "")
                    + f"\n\n```text\n{printed}\n```"
                ]
            else:
                notes = [
                    "This slide shows the table that the code of the slide before displays "
                    f"({what_code_does(shown, bare=True)})."
                ]
        return out + [_markdown("\n\n".join(notes), "notes")]

    def tables(self, cell, output, pieces: list[str], prose: str):
        """A displayed output of several tables, or of one too tall for a slide: one slide per
        table (or piece of one), the prose around them (their caption) in the notes."""
        cells = []
        base = cell.get("id", "")
        for n, piece in enumerate(pieces):
            c = copy.deepcopy(cell)
            out = copy.deepcopy(output)
            out["data"] = {"text/markdown": piece}
            c.outputs = [out]
            c.metadata["transient"] = {"remove_source": True}
            if n:  # the first joins the text that leads into it when both fit
                c.metadata["deck"] = "printout"
            tags = set(c.metadata.get("tags", [])) | {"deck-table"}
            c.metadata["tags"] = sorted(tags)
            _set(c, "subslide")
            if n and base:
                c["id"] = f"{base[:54]}-t{n + 1}"
            title = re.match(r"\*\*(.+?)\*\*", piece)
            what = f"“{title.group(1)}”" if title else "the table"
            notes = [
                f"This slide shows {what}, table {n + 1} of {len(pieces)} that the code of the "
                "section displays (the whole output is in the book)."
            ]
            if n == 0 and prose:
                notes.append(f"The tables' caption in the book: {prose}")
            if n == 0:
                notes.append(f"The code: {summary(cell.source)}")
            cells += [c, _markdown("\n\n".join(notes), "notes")]
        return cells

    def figure(self, cell, printed: str, read: bool = False):
        """The figure is the point: the code that drew it stays in the book, the text it printed
        goes to the notes; its caption (the book's, `mystnb.figure.caption`) is shortened to its
        first sentence under it and is the alt text of its images."""
        cell.metadata["transient"] = {"remove_source": True}
        cell.outputs = [o for o in cell.outputs if o.get("output_type") != "stream"]
        _set(cell, "subslide")
        caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption", "")
        alt = re.sub(r"[$\\{}`*_^]", "", one_line(caption)) if caption else "A figure of the book"
        for out in cell.outputs:
            out.setdefault("metadata", {})["alt"] = alt
            html = out.get("data", {}).get("text/html")
            if html:
                html = "".join(html) if isinstance(html, list) else html
                out["data"]["text/html"] = re.sub(
                    r"<img(?![^>]*\balt=)", lambda m: f'<img alt="{escape_attr(alt)}"', html
                )
        cells = [cell]
        if caption:
            short = lead(caption, 160)
            cells.append(_markdown(f'<p class="deck-caption">{short}</p>', "-"))
        notes = [f"The figure: {caption}" if caption else "The figure of the book's cell."]
        if printed:
            notes.append(f"Printed by the cell:\n\n```text\n{printed}\n```")
        cells.append(_markdown("\n\n".join(notes), "notes"))
        if read and printed:
            # the text after it reads its printout ("The norms printed above: ..."): the
            # printout on a slide of its own after the figure, not in the notes alone
            printout = copy.deepcopy(cell)
            printout.outputs = merge_streams(
                [o for o in self.streams if o.get("output_type") == "stream"]
            )
            printout.metadata["deck"] = "printout"
            printout.metadata.pop("mystnb", None)
            _set(printout, "subslide")
            if printout.get("id"):
                printout["id"] = printout["id"][:56] + "-out"
            first = next((x.strip() for x in printed.split("\n") if x.strip()), "")
            width = max((len(x) for x in printed.split("\n")), default=0)
            if width > 92:
                tag = "deck-narrow" if width <= 110 else "deck-narrower"
                printout.metadata["tags"] = sorted(set(printout.metadata.get("tags", [])) | {tag})
            cells += [
                printout,
                _markdown(
                    "This slide shows what the figure's code printed, starting with "
                    f"“{first}”: the numbers the conclusion reads"
                    + (f", on the next slide: {self.reading}" if self.reading else ".")
                    + f"\n\n```text\n{printed}\n```",
                    "notes",
                ),
            ]
        return cells

    def fit(self, cells):
        """The cells on slides, by their estimated heights:

        - a figure shares a slide only with text that leads into it (a heading and its lines,
          or a paragraph ending in ":"), when both fit; else it has its own slide, its caption
          under it;
        - text after a figure that leads into the next code or figure starts a slide (it
          belongs to the next experiment, not to the figure above it);
        - code after a figure starts a slide; code after the text that introduces it joins that
          text's slide when both fit (whatever annotate.py said); other code joins its slide
          while it fits, else starts one; one alone too long for any slide scrolls
          (data-scroll="code");
        - text that would push its slide past the screen starts a slide."""
        shown = [c for c in cells if _slide_type(c) != "notes"]
        following = {
            id(c): (shown[n + 1] if n + 1 < len(shown) else None) for n, c in enumerate(shown)
        }
        height, figure_shown, prev, start = 0, False, None, None
        slide_text = ""  # the text of the slide so far
        for cell in shown:
            st = _slide_type(cell)
            nxt = following[id(cell)]
            if cell.cell_type == "markdown":
                if "deck-caption" in cell.source:
                    height += 40
                    prev = cell
                    continue
                h = text_height(cell.source)
                into_code = (
                    nxt is not None
                    and nxt.cell_type == "code"
                    and not is_figure(nxt)
                    and introduces(cell.source)
                )
                if st not in {"slide", "subslide"} and (
                    height + h > SLIDE_HEIGHT
                    or (figure_shown and nxt is not None and nxt.cell_type == "code")
                    or (into_code and height + h + code_height(nxt) > SLIDE_HEIGHT)
                ):
                    _set(cell, "subslide")
                    st = "subslide"
                if st in {"slide", "subslide"}:
                    height, figure_shown, slide_text, start = 0, False, "", cell
                height += h
                slide_text += "\n\n" + cell.source
                prev = cell
                continue
            text_before = (
                prev is not None
                and prev.cell_type == "markdown"
                and ("deck-caption" not in prev.source)
            )
            if is_figure(cell):
                h = figure_height(cell)
                leads = text_before and (
                    introduces(prev.source) or slide_text.lstrip().startswith("#")
                )
                if leads and not figure_shown and height + h <= SLIDE_HEIGHT:
                    _set(cell, "-")
                    height += h
                else:
                    if text_before and prev.source.rstrip().endswith(":"):
                        # its lead-in stays on the slide before: it announces the next slide
                        prev.source = prev.source.rstrip()[:-1].rstrip() + "."
                    _set(cell, "subslide")
                    height, slide_text, start = h, "", cell
                figure_shown, prev = True, cell
                continue
            h = code_height(cell)
            own = cell.metadata.get("deck") == "printout"
            introduced = text_before and introduces(prev.source)
            if (
                introduced
                and not own
                and not figure_shown
                and (height + h <= SLIDE_HEIGHT or start is prev)
            ):
                # with the text that leads into it, even when the two need a scrolling slide
                _set(cell, "fragment")
                if height + h > SLIDE_HEIGHT:
                    _set(start, _slide_type(start), scroll="code")
                height += h
            elif own or figure_shown or height + h > SLIDE_HEIGHT or st in {"slide", "subslide"}:
                _set(cell, "subslide", scroll="code" if h > SLIDE_HEIGHT else "")
                height, figure_shown, slide_text, start = h, False, "", cell
            else:
                _set(cell, "fragment")
                height += h
            prev = cell
        return cells


SPARSE = 180  # px: a slide of text no taller than this is nearly empty (a heading and a line)
JOIN_HEIGHT = 660  # px: what two joined slides may take of the 700 px slide (measured heights)


def full_width_height(cell) -> int:
    """A figure's height at the slide's full width (no height limit): a tall figure would fill
    a slide of its own and shrinks under text."""
    height = 0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data:
            w, h = png_size(str(data["image/png"]))
            height += 30 + int(h * 940 / max(w, 1))
        elif "text/html" in data:
            height += ANIMATION_HEIGHT
    return height


def _height(cell) -> int:
    if cell.cell_type == "markdown":
        return 40 if "deck-caption" in cell.source else text_height(cell.source)
    return figure_height(cell) if is_figure(cell) else code_height(cell)


def join_sparse(cells):
    """No nearly empty slides: a slide of one short text (a heading and a sentence, a lone
    line) joins the slide of code or figure that it leads into, when the two fit one screen (the
    code then fades in under it); a lone conclusion ("What to notice. ...") joins the figure or
    printout it reads, fading in under it, when both fit. A heading's slide, the exercises, the
    references and the title and aims stay as they are."""
    shown = [c for c in cells if _slide_type(c) != "notes"]
    slides: list[list] = []
    for c in shown:
        if _slide_type(c) in {"slide", "subslide"} or not slides:
            slides.append([c])
        else:
            slides[-1].append(c)

    def sparse(slide) -> bool:
        if any(c.cell_type != "markdown" for c in slide):
            return False
        text = "\n\n".join(c.source for c in slide)
        if re.search(
            r"deck-chapter|^#+ (?:In this chapter|Exercises|References)|^:::|"
            r"^\d+\. ",
            text,
            re.M,
        ) or slide[0].metadata["slideshow"].get("data"):
            return False
        return sum(_height(c) for c in slide) <= SPARSE

    def evidence(slide) -> bool:  # a slide of code, printout or figure, no heading on it
        return slide[0].cell_type == "code" and not slide[0].metadata["slideshow"].get("data")

    def height(slide) -> int:
        # a figure counts at the slide's full width: text shares its slide only when the figure
        # stays as large as the slide allows (the template fits it to the room left)
        # code as measured in the decks (about 20 px a line, `code_height` keeps a margin)
        return sum(
            full_width_height(c)
            if is_figure(c)
            else int(code_height(c) * 0.85)
            if c.cell_type == "code"
            else _height(c)
            for c in slide
        )

    joined: set[int] = set()
    for n, slide in enumerate(slides):
        if not sparse(slide) or n in joined:
            continue
        prev = slides[n - 1] if n > 0 and n - 1 not in joined else None
        nxt = slides[n + 1] if n + 1 < len(slides) else None
        conclusion = bool(CONCLUSION.match(slide[0].source.lstrip()))
        back = (
            not slide[0].source.startswith("#")
            and prev is not None
            and any(c.cell_type == "code" for c in prev)
            and height(prev) + height(slide) <= JOIN_HEIGHT
        )
        ahead = (
            not conclusion
            and nxt is not None
            and _slide_type(nxt[0]) == "subslide"
            and evidence(nxt)
            and height(slide) + height(nxt) <= JOIN_HEIGHT
        )
        if conclusion and back or (back and not ahead):
            _set(slide[0], "fragment")  # after the evidence it reads
            joined.add(n)
        elif ahead:
            _set(nxt[0], "-" if is_figure(nxt[0]) else "fragment")
            joined.add(n + 1)
    return cells


def _book_title(folder: Path) -> str:
    for config in (folder / "_config.yml", folder.parent / "_config.yml"):
        if config.exists():
            m = re.search(r"^title:\s*(.+)$", config.read_text(encoding="utf-8"), re.M)
            if m:
                return m.group(1).strip().strip("\"'")
    return ""
