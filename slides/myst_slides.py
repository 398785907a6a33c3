"""The chapters' MyST markdown as plain Markdown + HTML for the decks (`make slides`).

Jupyter Book renders MyST; `jupyter nbconvert --to slides` does not and would show it raw. This
nbconvert preprocessor rewrites the markdown cells of the copy that nbconvert converts (the
notebooks on disk are never touched):

- citations, keys from the chapter's `references.bib` (read by pybtex, as Jupyter Book's
  sphinxcontrib-bibtex reads it for the book):
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
fence) raises `MystSlidesError` naming the notebook, so that no deck shows raw MyST; so does a
.bib file that pybtex cannot read, naming the file. Code (fenced blocks, inline code spans) is
left as it is.

Used by the Makefile: `PYTHONPATH=slides jupyter nbconvert --to slides
--SlidesExporter.preprocessors=myst_slides.MystPreprocessor ...`. The .bib file is the
notebook's folder's `references.bib` unless `--MystPreprocessor.bibfile=PATH` says otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

import pybtex.errors
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.preprocessors import Preprocessor
from pybtex.database import Entry, Person, parse_string
from pybtex.exceptions import PybtexError
from pybtex.richtext import Text
from traitlets import Unicode


class MystSlidesError(ValueError):
    """MyST that the decks cannot show: an unknown key, role or directive, an unclosed fence."""


# ------------------------------------------------------------------------------ BibTeX
# Read by pybtex, as Jupyter Book's sphinxcontrib-bibtex reads it for the book: the same entries,
# @string macros, names and LaTeX (accents by latexcodec) in the decks as in the book. pybtex is
# no pin of requirements.txt: jupyter-book brings it (sphinxcontrib-bibtex needs pybtex>=0.25).


def parse_bib(text: str, source: str = "the .bib file") -> dict[str, Entry]:
    """The entries of a .bib file's `text` by key (as written: keys match case-sensitively); what
    pybtex cannot read (a syntax error, an undefined @string, a repeated key) raises
    MystSlidesError naming `source`."""
    with pybtex.errors.capture() as errors:  # every error, whatever pybtex's strict mode
        try:
            data = parse_string(text, "bibtex")
        except PybtexError as e:
            errors.append(e)
    if errors:
        raise MystSlidesError(f"{source}: not a valid .bib file: " + "; ".join(map(str, errors)))
    return dict(data.entries.items())


_MATH = re.compile(r"(\$[^$]+\$)")
_HELD = "\ue000{}\ue001"  # where a $math$ span waits while pybtex decodes the rest


def latex_to_text(value: str) -> str:
    """A .bib value as plain text, by pybtex (latexcodec's accents and symbols, braces dropped,
    `--` -> en dash, `~` -> space); `$...$` math is kept as written, for MathJax."""
    parts = _MATH.split(value)  # odd indices: the math
    held = "".join(_HELD.format(i) if i % 2 else part for i, part in enumerate(parts))
    text = Text.from_latex(held).render_as("text")
    for i in range(1, len(parts), 2):
        text = text.replace(_HELD.format(i), parts[i])
    return " ".join(text.split())


def _others(person: Person) -> bool:
    """The "and others" of a BibTeX name list (et al.)."""
    return str(person) == "others"


def surname(person: Person) -> str:
    """The surname as cited, with its "von" part and ", Jr": von Neumann, Doe, Jr."""
    last = latex_to_text(" ".join(person.prelast_names + person.last_names))
    lineage = latex_to_text(" ".join(person.lineage_names))
    return f"{last}, {lineage}" if lineage else last


def initials(person: Person) -> str:
    """The initials of the first names: Diederik P. -> D. P., Jean-Pierre -> J.-P."""
    names = person.rich_first_names + person.rich_middle_names
    return " ".join(name.abbreviate().render_as("text") for name in names)


def _authors(entry: Entry) -> list[Person]:
    return entry.persons.get("author") or entry.persons.get("editor") or []


def _year(entry: Entry) -> str:
    return latex_to_text(entry.fields.get("year", "")) or "n.d."


def cited_names(entry: Entry, full: bool = False) -> str:
    """The surnames as cited: Goodfellow, Arjovsky and Bottou, Goodfellow et al. (`full`: all
    of them before the et al. of "and others")."""
    people = _authors(entry)
    others = bool(people) and _others(people[-1])
    names = [surname(p) for p in people if not _others(p)]
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
    others = bool(people) and _others(people[-1])
    names = [
        f"{surname(p)}, {initials(p)}" if initials(p) else surname(p)
        for p in people
        if not _others(p)
    ]
    if others:  # "A, B., C, D., et al."
        authors = ", ".join([*names, "et al."])
    elif len(names) > 1:  # "A, B., C, D., and E, F." for three names, "A, B. and C, D." for two
        authors = ", ".join(names[:-1]) + ("," if len(names) > 2 else "") + " and " + names[-1]
    else:
        authors = names[0] if names else ""
    f = {k.lower(): latex_to_text(v) for k, v in entry.fields.items()}
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
        bib = parse_bib(path.read_text(encoding="utf-8"), str(path)) if path.exists() else {}
        converter = MystToSlides(bib, f"{name}.ipynb" if meta.get("name") else name, str(path))
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = converter.convert(cell.source)
        return nb, resources
