"""The chapters' MyST markdown as plain Markdown + HTML for the decks (`make slides`).

Jupyter Book renders MyST; `jupyter nbconvert --to slides` does not and would show it raw. This
nbconvert preprocessor rewrites the markdown cells of the copy that nbconvert converts (the
notebooks on disk are never touched):

- citations, keys from the chapter's `references.bib`:
  ``{footcite:p}`a,b` `` -> "(Goodfellow et al. 2014; Metz et al. 2017)",
  ``{footcite:t}`a` `` -> "Goodfellow et al. (2014)" (one author: "Goodfellow", two: "Arjovsky
  and Bottou", three or more: "Goodfellow et al."; `:ps`/`:ts` list every author);
- ```` ```{footbibliography} ```` -> a list of the entries cited since the previous one (the
  whole chapter), in order of first citation: authors, year, title, venue;
- admonitions, colon (`:::{admonition} Title`) or backtick fenced, with options (`:class:`):
  `:class: dropdown` -> `<details><summary>Title</summary> ... </details>` (a solution stays
  hidden until its title is clicked), any other -> `<div class="admonition KIND">` with the title
  in bold (styled in ganlab_reveal.html.j2). The named kinds (`{note}`, `{warning}`, `{tip}` ...)
  and sphinx-design's `{dropdown}` work the same way. The body stays Markdown (blank lines
  around it, so that nbconvert's renderer, mistune, renders it: math, code, lists, citations);
- ``{math}`x` `` -> `$x$`, ```` ```{math} ```` -> `$$ ... $$`.

Anything else in MyST syntax (another role or directive, an unknown citation key, an unclosed
fence) raises `MystSlidesError` naming the notebook, so that no deck shows raw MyST. Code (fenced
blocks, inline code spans) is left as it is.

Used by the Makefile: `PYTHONPATH=slides jupyter nbconvert --to slides
--SlidesExporter.preprocessors=myst_slides.MystPreprocessor ...`. The .bib file is the
notebook's folder's `references.bib` unless `--MystPreprocessor.bibfile=PATH` says otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.preprocessors import Preprocessor
from traitlets import Unicode


class MystSlidesError(ValueError):
    """MyST that the decks cannot show: an unknown key, role or directive, an unclosed fence."""


# ------------------------------------------------------------------------------ BibTeX


@dataclass
class Entry:
    """One BibTeX entry: its type, key and fields (names lower case, values as written)."""

    kind: str
    key: str
    fields: dict[str, str] = field(default_factory=dict)


MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*([{(])")
_FIELD_NAME = re.compile(r"\s*([A-Za-z][\w:.+-]*)\s*=\s*")
_BARE = re.compile(r"[\w:.+-]+")


def _balanced(text: str, start: int, close: str) -> int:
    """Index of the `close` matching the opener just before `start` (braces nest inside)."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}" and depth > 0:
            depth -= 1
        elif c == close and depth == 0:
            return i
        i += 1
    raise MystSlidesError(f"unbalanced braces in the .bib file after {text[start : start + 60]!r}")


def _value(text: str, i: int, strings: dict[str, str]) -> tuple[str, int]:
    """A field value at `text[i:]` ({...}, "...", a number or an @string name, joined by #)."""
    parts = []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i < len(text) and text[i] == "{":
            end = _balanced(text, i + 1, "}")
            parts.append(text[i + 1 : end])
            i = end + 1
        elif i < len(text) and text[i] == '"':
            end = _balanced(text, i + 1, '"')
            parts.append(text[i + 1 : end])
            i = end + 1
        else:
            m = _BARE.match(text, i)
            if not m:
                raise MystSlidesError(f"cannot read a .bib value at {text[i : i + 60]!r}")
            word = m.group(0)
            parts.append(strings.get(word.lower(), word))
            i = m.end()
        while i < len(text) and text[i].isspace():
            i += 1
        if i < len(text) and text[i] == "#":
            i += 1
            continue
        return "".join(parts), i


def parse_bib(text: str) -> dict[str, Entry]:
    """The entries of a .bib file by key (no dependency: @string, # and both delimiters)."""
    strings = {m: m.capitalize() for m in MONTHS}
    entries: dict[str, Entry] = {}
    pos = 0
    while m := _ENTRY_START.search(text, pos):
        kind, close = m.group(1).lower(), "}" if m.group(2) == "{" else ")"
        body_start = m.end()
        end = _balanced(text, body_start, close)
        body = text[body_start:end]
        pos = end + 1
        if kind in {"comment", "preamble"}:
            continue
        i = 0
        if kind == "string":
            fm = _FIELD_NAME.match(body, i)
            if fm:
                strings[fm.group(1).lower()] = _value(body, fm.end(), strings)[0]
            continue
        key, _, rest = body.partition(",")
        entry = Entry(kind, key.strip())
        while fm := _FIELD_NAME.match(rest, i):
            value, i = _value(rest, fm.end(), strings)
            entry.fields[fm.group(1).lower()] = " ".join(value.split())
            while i < len(rest) and (rest[i].isspace() or rest[i] == ","):
                i += 1
        entries[entry.key] = entry
    return entries


# LaTeX accents as Unicode combining marks: {\'e} -> é, \"{o} -> ö, \c{c} -> ç.
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
}
_SYMBOLS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "ae": "æ",
    "AE": "Æ",
    "aa": "å",
    "AA": "Å",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
    "oe": "œ",
    "OE": "Œ",
}
_ACCENT = re.compile(
    r"\\([`'^\"~=.]|[uvHckr](?![A-Za-z]))\s*(?:\{\s*(\\?[A-Za-z])\s*\}|(\\?[A-Za-z]))"
)
_COMMAND = re.compile(r"\\([A-Za-z]+)\s*|\\([&%$#_{}~ ])")
_MATH = re.compile(r"(\$[^$]+\$)")


def _accent(m: re.Match) -> str:
    base = (m.group(2) or m.group(3)).lstrip("\\")  # \'{\i} -> í
    return unicodedata.normalize("NFC", base + _ACCENTS[m.group(1)])


def latex_to_text(value: str) -> str:
    """A .bib value as plain text: accents decoded, braces and other commands dropped, `--` ->
    en dash, `~` -> space; `$...$` math is kept for MathJax."""
    out = []
    for part in _MATH.split(value):
        if part.startswith("$") and part.endswith("$") and len(part) > 1:
            out.append(part)
            continue
        part = _ACCENT.sub(_accent, part)
        part = _COMMAND.sub(lambda m: _SYMBOLS.get(m.group(1) or "", m.group(2) or ""), part)
        part = part.replace("{", "").replace("}", "").replace("~", " ")
        out.append(part.replace("---", "\u2014").replace("--", "\u2013"))
    return " ".join("".join(out).split())


def _split_top(text: str, sep: re.Pattern) -> list[str]:
    """Split `text` on `sep` outside braces."""
    parts, depth, last = [], 0, 0
    masked = []
    for c in text:
        depth += c == "{"
        masked.append(c if depth == 0 else "\0")
        depth -= c == "}" and depth > 0
    for m in sep.finditer("".join(masked)):
        parts.append(text[last : m.start()])
        last = m.end()
    parts.append(text[last:])
    return [p.strip() for p in parts if p.strip()]


@dataclass
class Person:
    first: str
    last: str  # with its "von" part and ", Jr", as the surname is cited

    @property
    def initials(self) -> str:
        """The initials of the first names: Diederik P. -> D. P., Jean-Pierre -> J.-P."""
        words = []
        for word in self.first.split():
            pieces = [p for p in word.split("-") if p]
            words.append("-".join(p[0] + "." for p in pieces))
        return " ".join(words)


def parse_people(value: str) -> list[Person]:
    """BibTeX names ("Last, First", "First von Last", "Last, Jr, First"; "and others")."""
    people = []
    for name in _split_top(value, re.compile(r"\s+and\s+")):
        if name.lower() == "others":
            people.append(Person("", "others"))
            continue
        parts = _split_top(name, re.compile(r","))
        if len(parts) >= 3:
            first, last = parts[2], f"{parts[0]}, {parts[1]}"
        elif len(parts) == 2:
            first, last = parts[1], parts[0]
        else:
            words = _split_top(name, re.compile(r"\s+"))
            # "von" words (lower case) start the surname; else the last word is the surname.
            von = next((i for i, w in enumerate(words[:-1]) if w[:1].islower()), len(words) - 1)
            first, last = " ".join(words[:von]), " ".join(words[von:])
        people.append(Person(latex_to_text(first), latex_to_text(last)))
    return people


def _authors(entry: Entry) -> list[Person]:
    return parse_people(entry.fields.get("author") or entry.fields.get("editor") or "")


def _year(entry: Entry) -> str:
    return latex_to_text(entry.fields.get("year", "")) or "n.d."


def cited_names(entry: Entry, full: bool = False) -> str:
    """The surnames as cited: Goodfellow, Arjovsky and Bottou, Goodfellow et al. (`full`: all
    of them before the et al. of "and others")."""
    people = _authors(entry)
    others = bool(people) and people[-1].last == "others"
    names = [p.last for p in people if p.last != "others"]
    if not names:
        return latex_to_text(entry.fields.get("title", entry.key))
    if others or (len(names) >= 3 and not full):
        return (", ".join(names) if full else names[0]) + " et al."
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: str) -> str:
    """Plain text for Markdown: its punctuation backslash-escaped, except in $math$."""
    return "".join(
        part
        if part.startswith("$") and part.endswith("$") and len(part) > 1
        else _MD_SPECIAL.sub(r"\\\1", part)
        for part in _MATH.split(text)
    )


def reference(entry: Entry) -> str:
    """One reference as Markdown: authors (year). Title. *Venue*, volume(number), pages."""
    people = _authors(entry)
    others = bool(people) and people[-1].last == "others"
    names = [
        f"{p.last}, {p.initials}" if p.initials else p.last for p in people if p.last != "others"
    ]
    if others:  # "A, B., C, D., et al."
        authors = ", ".join([*names, "et al."])
    elif len(names) > 1:  # "A, B., C, D., and E, F." for three names, "A, B. and C, D." for two
        authors = ", ".join(names[:-1]) + ("," if len(names) > 2 else "") + " and " + names[-1]
    else:
        authors = names[0] if names else ""
    f = {k: latex_to_text(v) for k, v in entry.fields.items()}
    venue = (
        f.get("journal")
        or f.get("booktitle")
        or f.get("howpublished")
        or f.get("school")
        or f.get("institution")
        or f.get("publisher")
        or ""
    )
    text = f"{_md(authors)} ({_md(_year(entry))}). " if authors else f"({_md(_year(entry))}). "
    title = f.get("title", entry.key)
    text += _md(title) + ("" if title.endswith(("?", "!", ".")) else ".")
    if venue:
        text += f" *{_md(venue)}*"
        if f.get("volume"):
            text += f", {_md(f['volume'])}"
            if f.get("number"):
                text += f"({_md(f['number'])})"
        if f.get("pages"):
            text += f", {_md(f['pages'])}"
        text += "."
    return text


# ------------------------------------------------------------------------------ MyST


def markdown_line(text: str) -> str:
    """One line of Markdown as inline HTML, by nbconvert's renderer (for a summary, a title)."""
    rendered = markdown2html_mistune(text).strip()
    return re.sub(r"^<p>(.*)</p>$", r"\1", rendered, flags=re.S)


ADMONITIONS = {
    "admonition",
    "note",
    "tip",
    "hint",
    "important",
    "seealso",
    "attention",
    "caution",
    "warning",
    "danger",
    "error",
    "dropdown",
}
# ```{name} args / :::{name} args (a colon fence may be indented, as in a list item)
_DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})\{(?P<name>[\w:+-]+)\}(?P<arg>.*)$"
)
_CODE_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_OPTION = re.compile(r"^[ \t]*:(?P<name>[\w-]+):(?P<value>.*)$")
# A role, or an inline code span to leave alone (its backticks matched by count).
_INLINE = re.compile(
    r"\{(?P<role>[A-Za-z][\w:+-]*)\}`(?P<content>[^`]*)`|(?P<ticks>`+)(?:[\s\S]*?[^`])??(?P=ticks)(?!`)"
)


class MystToSlides:
    """The MyST of one notebook's markdown cells, rewritten cell by cell in order (citations
    are collected for the next {footbibliography})."""

    def __init__(
        self, bib: dict[str, Entry], notebook: str = "the notebook", bibfile: str = "the .bib file"
    ) -> None:
        self.bib = bib
        self.notebook = notebook
        self.bibfile = bibfile
        self.pending: list[str] = []  # cited since the last footbibliography, first-cited order

    def error(self, message: str) -> MystSlidesError:
        return MystSlidesError(f"{self.notebook}: {message}")

    # ---- roles
    def cite(self, keys: str, style: str) -> str:
        """The citation as plain text; style p (parenthetical), t (textual), ps/ts (every
        author)."""
        parts = []
        for key in (k.strip() for k in keys.split(",")):
            if not key:
                continue
            if key not in self.bib:
                raise self.error(f"unknown citation key {key!r} (not in {self.bibfile})")
            if key not in self.pending:
                self.pending.append(key)
            entry = self.bib[key]
            names = cited_names(entry, full=style.endswith("s"))
            year = _year(entry)
            parts.append(f"{names} ({year})" if style.startswith("t") else f"{names} {year}")
        if not parts:
            raise self.error("a citation without a key")
        if style.startswith("t"):
            return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
        return "(" + "; ".join(parts) + ")"

    def role(self, m: re.Match) -> str:
        if m.group("ticks"):
            return m.group(0)  # inline code, as written
        name, content = m.group("role"), m.group("content")
        family, _, style = name.partition(":")
        if family == "footcite" and style in {"", "p", "ps", "t", "ts"}:
            return _md(self.cite(content, style or "p"))
        if name == "math":
            return f"${content}$"
        raise self.error(
            f"the MyST role {{{name}}} is not supported in the decks (slides/myst_slides.py)"
        )

    def inline(self, text: str) -> str:
        """The roles of Markdown text rewritten; inline code left alone."""
        return _INLINE.sub(self.role, text)

    # ---- blocks
    def convert(self, source: str) -> str:
        return "\n".join(self.blocks(source.split("\n")))

    def blocks(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        text: list[str] = []

        def flush() -> None:
            if text:
                out.extend(self.inline("\n".join(text)).split("\n"))
                text.clear()

        i = 0
        while i < len(lines):
            line = lines[i]
            directive = _DIRECTIVE.match(line)
            code = None if directive else _CODE_FENCE.match(line)
            if directive:
                flush()
                end = self.closing(lines, i, directive["fence"])
                body = [b.removeprefix(directive["indent"]) for b in lines[i + 1 : end]]
                if out and not out[-1].strip():
                    out.pop()  # the directive's output starts with its own blank line
                out.extend(
                    directive["indent"] + b if b else b
                    for b in self.directive(directive["name"], directive["arg"].strip(), body)
                )
                i = end + 1
            elif code:
                flush()
                end = self.closing(lines, i, code["fence"], required=False)
                out.extend(lines[i : end + 1])
                i = end + 1
            else:
                if re.match(r"^[ \t]*:{3,}[ \t]*$", line):
                    raise self.error(f"a closing {line.strip()} without its opening directive")
                if line.strip() or text or (out and out[-1].strip()):  # one blank line is enough
                    text.append(line)
                i += 1
        flush()
        return out

    def closing(self, lines: list[str], start: int, fence: str, required: bool = True) -> int:
        """The line that closes the fence opened at `start` (the same character, at least as
        many); code fences inside the body are skipped over."""
        char, n = fence[0], len(fence)
        close = re.compile(rf"^[ \t]*{re.escape(char)}{{{n},}}[ \t]*$")
        i = start + 1
        while i < len(lines):
            if close.match(lines[i]):
                return i
            inner = _CODE_FENCE.match(lines[i]) or _DIRECTIVE.match(lines[i])
            if inner and char == ":" and inner["fence"][0] != ":":
                i = self.closing(lines, i, inner["fence"], required=False)
            i += 1
        if required:
            raise self.error(f"the directive {lines[start].strip()!r} is never closed")
        return len(lines) - 1  # CommonMark: an unclosed code fence runs to the end

    def directive(self, name: str, arg: str, body: list[str]) -> list[str]:
        options: dict[str, str] = {}
        while body and (m := _OPTION.match(body[0])):
            options[m["name"]] = m["value"].strip()
            body = body[1:]
        if body and body[0].strip() == "---":  # YAML options block
            end = next((j for j, b in enumerate(body[1:], 1) if b.strip() == "---"), None)
            if end is None:
                raise self.error(f"the options of {{{name}}} are never closed (---)")
            for b in body[1:end]:
                key, _, value = b.partition(":")
                options[key.strip()] = value.strip()
            body = body[end + 1 :]
        if name == "footbibliography":
            return self.bibliography()
        if name == "math":
            return ["", "$$", *body, "$$", ""]
        if name in ADMONITIONS:
            return self.admonition(name, arg, options, body)
        raise self.error(
            f"the MyST directive {{{name}}} is not supported in the decks (slides/myst_slides.py)"
        )

    def admonition(self, name: str, arg: str, options: dict, body: list[str]) -> list[str]:
        classes = options.get("class", "").split()
        if name in {"admonition", "dropdown"}:  # the title is the argument; the kind a class
            title = arg or "Note"
            kind = next((c for c in classes if c != "dropdown"), "note")
        else:  # {note} Some text: the title is the kind, the argument starts the body
            title, kind = name.capitalize(), name
            body = [arg, *body] if arg else body
        inner = self.blocks(body)
        title_html = markdown_line(self.inline(title))
        if name == "dropdown" or "dropdown" in classes:
            opened = " open" if "open" in options else ""
            head = [
                f'<details class="admonition {kind} dropdown"{opened}>',
                f"<summary>{title_html}</summary>",
            ]
            tail = "</details>"
        else:
            head = [
                f'<div class="admonition {kind}">',
                f'<p class="admonition-title"><strong>{title_html}</strong></p>',
            ]
            tail = "</div>"
        return ["", *head, "", *inner, "", tail, ""]

    def bibliography(self) -> list[str]:
        keys, self.pending = self.pending, []
        if not keys:
            return []
        items = (f"- {reference(self.bib[k])}" for k in keys)
        return ["", '<div class="references">', "", *items, "", "</div>", ""]


class MystPreprocessor(Preprocessor):
    """nbconvert preprocessor: the markdown cells' MyST as Markdown + HTML (see the module)."""

    bibfile = Unicode(
        "", help="The .bib file of the citations; empty: references.bib next to the notebook."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        meta = resources.get("metadata", {})
        name = meta.get("name") or "the notebook"
        path = (
            Path(self.bibfile) if self.bibfile else Path(meta.get("path") or ".") / "references.bib"
        )
        bib = parse_bib(path.read_text(encoding="utf-8")) if path.exists() else {}
        converter = MystToSlides(bib, f"{name}.ipynb" if meta.get("name") else name, str(path))
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = converter.convert(cell.source)
        return nb, resources
