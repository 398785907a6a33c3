"""slides/myst_slides.py: the chapters' MyST as Markdown + HTML for the lecture decks.

Fast (no browser, no kernel): the preprocessor runs on every chapter's markdown cells as nbconvert
would, leaves no MyST syntax, renders the citations and solutions as the decks need them, and
renders through nbconvert's own Markdown renderer (mistune) with the solutions' bodies as
Markdown inside <details>. The decks themselves are checked in tests_browser/test_slides.py.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("*.ipynb"))
MYST_LEFT = ("{footcite", ":::{", "```{", ":class:")

_spec = importlib.util.spec_from_file_location("myst_slides", ROOT / "slides" / "myst_slides.py")
myst = sys.modules["myst_slides"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(myst)  # slides/ is no package: loaded by path, as PYTHONPATH does


@functools.cache  # three tests read each chapter's conversion; none changes it
def converted(path: Path):
    """(original notebook, notebook after the preprocessor), as `make slides` gets them."""
    nb = nbformat.read(path, as_version=4)
    resources = {"metadata": {"name": path.stem, "path": str(path.parent)}}
    out, _ = myst.MystPreprocessor().preprocess(nbformat.from_dict(nb), resources)
    return nb, out


def markdown(nb) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def convert(text: str, bib_text: str | None = None) -> str:
    bib = myst.parse_bib(bib_text or (BOOK / "references.bib").read_text())
    return myst.MystToSlides(bib, "test.ipynb").convert(text)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_myst_syntax_is_left_in_a_chapter(path):
    before, after = converted(path)
    text = markdown(after)
    for token in MYST_LEFT:
        assert token not in text, f"{path.name}: {token!r} left for the deck"
    assert re.search(r"^\s*:{3,}", text, re.MULTILINE) is None, f"{path.name}: a ::: fence left"
    # the notebook in memory was a copy: the file on disk keeps its MyST
    assert "{footbibliography}" in markdown(before)
    assert markdown(nbformat.read(path, as_version=4)) == markdown(before)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_solution_is_a_closed_details_block_rendered_as_markdown(path):
    before, after = converted(path)
    solutions = markdown(before).count(":::{admonition} Solution")
    html = markdown2html_mistune(markdown(after))
    blocks = re.findall(
        r"<details([^>]*)>\s*<summary>Solution</summary>(.*?)</details>", html, re.S
    )
    assert solutions > 0 and len(blocks) == solutions, path.name
    for attributes, body in blocks:
        assert " open" not in attributes, f"{path.name}: a solution is shown before a click"
        assert "<p>" in body, f"{path.name}: a solution's body was not rendered as Markdown"
        assert ":class:" not in body and ":::" not in body


def test_known_citations_render_as_author_year():
    _, after = converted(BOOK / "02_saturation.ipynb")
    text = markdown(after)
    assert "the non-saturating loss fixes it (Goodfellow et al. 2014);" in text
    assert "the Dirac-GAN of Mescheder et al. (2018), where" in text
    _, after = converted(BOOK / "00_quickstart.ipynb")
    assert "(Srivastava et al. 2017; Lin et al. 2018)" in markdown(after)
    assert convert("{footcite:p}`arjovsky2017principled`") == "(Arjovsky and Bottou 2017)"
    assert convert("{footcite:t}`kingma2015adam`") == "Kingma and Ba (2015)"
    assert convert("{footcite:t}`goodfellow2016tutorial`") == "Goodfellow (2016)"


def reference_list(nb) -> list[str]:
    return re.findall(r"^- (.*)$", markdown(nb).split("## References")[-1], re.MULTILINE)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_lists_every_key_it_cites_once(path):
    before, after = converted(path)
    keys = re.findall(r"\{footcite(?::\w+)?\}`([^`]+)`", markdown(before))
    cited = dict.fromkeys(k.strip() for ks in keys for k in ks.split(","))
    assert cited and len(reference_list(after)) == len(cited), path.name


def test_the_reference_list_holds_the_chapter_citations_in_order_of_first_citation():
    _, after = converted(BOOK / "02_saturation.ipynb")
    items = reference_list(after)
    assert [i.split(",")[0] for i in items] == [
        "Goodfellow",
        "Salimans",
        "Mescheder",
        "Kingma",
        "Arjovsky",
        "Heusel",
    ]
    assert items[0] == (
        "Goodfellow, I., Pouget-Abadie, J., Mirza, M., Xu, B., Warde-Farley, D., Ozair, S., "
        "Courville, A., and Bengio, Y. (2014). Generative Adversarial Nets. "
        "*Advances in Neural Information Processing Systems*, 27."
    )


def test_an_unknown_citation_key_names_the_key_the_notebook_and_the_bib():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("{footcite:p}`nobody99`")])
    resources = {"metadata": {"name": "99_draft", "path": str(BOOK)}}
    with pytest.raises(myst.MystSlidesError, match=r"99_draft\.ipynb.*'nobody99'.*references\.bib"):
        myst.MystPreprocessor().preprocess(nb, resources)


def test_unsupported_or_unclosed_myst_is_an_error():
    for text in ("{ref}`sec-x`", "```{figure} a.png\n```", ":::{note}\nopen", "text\n:::"):
        with pytest.raises(myst.MystSlidesError, match="test.ipynb"):
            convert(text)


def test_admonitions_code_and_nesting():
    text = convert(
        "::::{admonition} Careful *here*\n:class: warning\nOuter {footcite:p}`goodfellow2014gan`.\n"
        ":::{note}\nInner $x_1$.\n:::\n```text\n:::{not a directive}\n```\n::::\n"
        "Code `{footcite:p}` and `` {footcite:p}`x` `` stay."
    )
    html = markdown2html_mistune(text)
    assert '<div class="admonition warning">' in html
    assert "<strong>Careful <em>here</em></strong>" in html
    assert "<p>Outer (Goodfellow et al. 2014).</p>" in html
    assert '<div class="admonition note">' in html and "<strong>Note</strong>" in html
    assert ":::{not a directive}" in html  # inside a code block: untouched
    assert "<code>{footcite:p}`x`</code>" in html


BIB = r"""
@string{icml = "International Conference on Machine Learning"}
@comment{ignored}
@inproceedings{a2020x, author = {M{\"u}ller, J{\'e}r{\^o}me and {van der} Berg, Ann and others},
  title = "On {GANs} -- the $x^{10}$ case", booktitle = icml # " (ICML)", year = 2020,
  pages = {1--9}}
@article(b2021y, author = {Jean-Pierre von Neumann and Ba, Jimmy}, title={T}, year={2021},
  journal = {J}, volume = 3, number = {2})
@article{c2022z, author = {Sch\"{o}lkopf, Bernhard and Miko{\l}ajczyk, Krystian and Doe, Jr, John},
  title = {Why?}, year = 2022}
@book{d2023w, editor = {Smith, Ann}, title = {Edited}, year = {2023}}
"""


def test_citations_from_a_bib_of_every_syntax_as_the_deck_shows_them():
    text = convert(
        "{footcite:t}`a2020x, b2021y` and {footcite:p}`c2022z,d2023w`; {footcite:ts}`c2022z`, "
        "{footcite:ps}`a2020x`.",
        BIB,
    )
    assert text == (
        "Müller et al. (2020) and von Neumann and Ba (2021) and "
        "(Schölkopf et al. 2022; Smith 2023); "
        "Schölkopf, Mikołajczyk and Doe, Jr (2022), (Müller, van der Berg et al. 2020)."
    )


def test_the_reference_list_of_a_bib_of_every_syntax():
    text = convert("{footcite:p}`b2021y,a2020x,c2022z,d2023w`\n```{footbibliography}\n```", BIB)
    assert re.findall(r"^- (.*)$", text, re.MULTILINE) == [
        "von Neumann, J.-P. and Ba, J. (2021). T. *J*, 3(2).",
        "Müller, J., van der Berg, A., et al. (2020). On GANs – the $x^{10}$ case. "
        "*International Conference on Machine Learning (ICML)*, 1–9.",
        "Schölkopf, B., Mikołajczyk, K., and Doe, Jr, J. (2022). Why?",
        "Smith, A. (2023). Edited.",
    ]
    assert '<div class="references">' in text


def test_the_book_bib_accents_and_name_particles_in_citations_and_references():
    text = convert(
        "{footcite:p}`kynkaanniemi2019precision` {footcite:t}`binkowski2018kid` "
        "{footcite:ts}`arjovsky2017wgan` {footcite:p}`vandenoord2016pixel`\n"
        "```{footbibliography}\n```"
    )
    assert text.startswith(
        "(Kynkäänniemi et al. 2019) Bińkowski et al. (2018) "
        "Arjovsky, Chintala and Bottou (2017) (van den Oord et al. 2016)\n"
    )
    items = re.findall(r"^- (.*)$", text, re.MULTILINE)
    assert [i.split(" (")[0] for i in items] == [
        "Kynkäänniemi, T., Karras, T., Laine, S., Lehtinen, J., and Aila, T.",
        "Bińkowski, M., Sutherland, D. J., Arbel, M., and Gretton, A.",
        "Arjovsky, M., Chintala, S., and Bottou, L.",
        "van den Oord, A., Kalchbrenner, N., and Kavukcuoglu, K.",
    ]
    assert "{" not in text and "\\" not in text  # no LaTeX left


@pytest.mark.parametrize(
    "bib, why",
    [
        ("@article{a, title = {x}", "premature end of file"),
        ("@article{a, title = {x}}\n@article{a, title = {y}}", "repeated bibliography entry: a"),
        ("@article{a, title = undefinedmacro}", "undefined string"),
    ],
    ids=["unclosed", "repeated-key", "undefined-string"],
)
def test_a_malformed_bib_is_an_error_naming_the_file(tmp_path, bib, why):
    path = tmp_path / "broken.bib"
    path.write_text(bib)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Text.")])
    with pytest.raises(myst.MystSlidesError, match=rf"broken\.bib: .*{why}"):
        myst.MystPreprocessor(bibfile=str(path)).preprocess(nb, {"metadata": {"name": "x"}})


def test_backtick_dropdown_math_and_indented_directives():
    text = convert(
        "1. Item\n\n   :::{admonition} Solution\n   :class: dropdown\n   :open:\n   In the item.\n"
        "   :::\n\n```{dropdown} Show\nHidden {math}`a_b`.\n```\n```{math}\n:label: e\nE = mc^2\n```"
    )
    html = markdown2html_mistune(text)
    assert '<li><p>Item</p>\n<details class="admonition note dropdown" open>' in html
    assert "<p>In the item.</p>" in html
    assert "<summary>Show</summary>\n\n<p>Hidden $a_b$.</p>\n</details>" in html
    assert "$$\nE = mc^2\n$$" in html and ":label:" not in html
