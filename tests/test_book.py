"""The book's conventions, checked on the stored chapters (fast; nbval re-runs them)."""

from __future__ import annotations

import ast
import json
import re
import sys
import warnings
from pathlib import Path

import pytest
import yaml

import ganlab

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book"))
import setup_cells  # noqa: E402  (book/setup_cells.py writes every first cell)

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def toc_files() -> list[str]:
    files = [TOC["root"]]
    for entry in TOC.get("chapters", []):
        files.append(entry["file"])
    return files


def test_every_chapter_is_in_the_toc_and_every_toc_entry_exists() -> None:
    listed = toc_files()
    notebooks = [f for f in listed if (ROOT / f"{f}.ipynb").exists()]
    assert sorted(f"book/{p.stem}" for p in CHAPTERS) == sorted(notebooks)
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_opens_with_the_setup_cell_of_book_setup_cells(path: Path) -> None:
    """The first cell is the hidden set-up cell that book/setup_cells.py writes."""
    first = load(path)["cells"][0]
    assert first["cell_type"] == "code"
    assert "remove-cell" in first["metadata"].get("tags", [])
    assert "".join(first["source"]) == setup_cells.setup_source(), "python book/setup_cells.py"


def test_an_unpublished_book_installs_nothing_from_the_web() -> None:
    """Until PUBLISHED, no chapter installs from the (unowned) placeholder address."""
    source = setup_cells.setup_source(published=False)
    code = [ln for ln in source.splitlines() if not ln.lstrip().startswith("#")]
    assert not any(ln.lstrip().startswith(("%pip", "!pip", "!git")) for ln in code), code
    assert "git+" not in source and "http" not in source
    assert f"ganlab {setup_cells.version()}" in source
    assert 'find_spec("ganlab") is None' in source


def test_a_published_book_installs_the_version_it_was_written_for() -> None:
    """The install names the tag of ganlab's version, never a moving branch like main."""
    source = setup_cells.setup_source(published=True)
    url = CONFIG["repository"]["url"].rstrip("/")
    install = [ln for ln in source.splitlines() if "%pip install" in ln]
    assert install == [f'    %pip install -q "ganlab @ git+{url}@v{ganlab.__version__}"']
    for preinstalled in ("torch", "numpy", "matplotlib", "ipywidgets", "gan-lab"):
        assert preinstalled not in install[0]


def test_setup_cells_reads_the_version_ganlab_reports() -> None:
    assert setup_cells.version() == ganlab.__version__


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_is_stored_with_a_clean_top_to_bottom_run(path: Path) -> None:
    nb = load(path)
    assert path.stat().st_size < 5 * 2**20, "chapters must stay under 5 MB"
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert None not in counts, "every code cell must have been run"
    assert counts == list(range(1, len(code) + 1)), "cells must be run once, top to bottom"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_stores_no_widget_state(path: Path) -> None:
    """Widget outputs are removed from the book; saved state would only pull in CDN scripts."""
    assert "widgets" not in load(path)["metadata"], "run `make notebooks`: it strips the state"


def test_launch_buttons_open_chapters_in_colab() -> None:
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["repository"]["url"].startswith("https://github.com/")


def claim_checks(path: Path) -> list[tuple[int, str]]:
    """(index, problem) for each cell nbval does not compare that lacks its hidden check.

    A cell whose printed numbers vary with the CPU (training runs, networks' outputs) is tagged
    nbval-ignore-output; the cell right after it is hidden (remove-cell) and asserts what the
    prose claims of it. Live widgets (remove-output) are exempt: tests/test_widgets*.py drive
    them."""
    cells = load(path)["cells"]
    problems = []
    for i, cell in enumerate(cells):
        tags = cell["metadata"].get("tags", [])
        if "nbval-ignore-output" not in tags or "remove-output" in tags:
            continue
        after = cells[i + 1] if i + 1 < len(cells) else None
        if after is None or after["cell_type"] != "code":
            problems.append((i, "no code cell after it"))
        elif "remove-cell" not in after["metadata"].get("tags", []):
            problems.append((i, "the cell after it is not hidden (remove-cell)"))
        elif "assert " not in "".join(after["source"]):
            problems.append((i, "the hidden cell after it asserts nothing"))
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_output_nbval_does_not_compare_is_checked_by_its_claims(path: Path) -> None:
    assert claim_checks(path) == []


# A number in e-notation below 1e-6 (2.4e-07, 3.8e-09): float rounding, not a result. A
# threshold ("below 1e-12", "< 1e-6") is how such a figure is shown instead.
FLOAT_NOISE = re.compile(r"(?<!below )(?<!< )\b\d(\.\d+)?e-(0[7-9]|[1-9]\d)\b")


def float_noise(path: Path) -> list[tuple[int, str]]:
    """(index, figure) for each figure below 1e-6 printed by a cell that nbval compares."""
    found = []
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "code" or "nbval-ignore-output" in cell["metadata"].get("tags", []):
            continue
        for output in cell["outputs"]:
            text = "".join(output.get("text", "")) + "".join(
                output.get("data", {}).get("text/plain", "")
            )
            found += [(i, m.group(0)) for m in FLOAT_NOISE.finditer(text)]
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_float_noise_is_printed_as_a_result(path: Path) -> None:
    """Rounding error is shown as a threshold ("below 1e-6: True"), never as a figure."""
    assert float_noise(path) == []


# The rendered book's code column fits about 84 characters; a longer line scrolls sideways.
CODE_COLUMN = 84


def lines_wider_than_the_column(path: Path) -> list[tuple[int, str]]:
    """(index, line) for each code line longer than CODE_COLUMN in a cell a reader can see.

    remove-cell and remove-input cells never show their code; hide-input cells do, once opened."""
    found = []
    for i, cell in enumerate(load(path)["cells"]):
        tags = cell["metadata"].get("tags", [])
        if cell["cell_type"] != "code" or {"remove-cell", "remove-input"} & set(tags):
            continue
        lines = "".join(cell["source"]).splitlines()
        found += [(i, line) for line in lines if len(line) > CODE_COLUMN]
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_code_line_a_reader_sees_fits_the_code_column(path: Path) -> None:
    """Split a long f-string in two, name a long expression, or shorten the comment."""
    assert lines_wider_than_the_column(path) == []


def test_the_package_and_pyproject_agree_on_the_version_the_tag_names() -> None:
    project = (ROOT / "pyproject.toml").read_text()
    assert f'\nversion = "{ganlab.__version__}"\n' in project


# A figure's name: `fig-` and lower-case words joined by hyphens (a {numref} target).
FIGURE_NAME = re.compile(r"fig-[a-z0-9]+(-[a-z0-9]+)*")
# What the book shows as a figure: a picture (matplotlib) or an embedded animation (to_jshtml).
FIGURE_MIME = ("image/png", "text/html")


def figure_cells(path: Path) -> list[tuple[int, dict]]:
    """(index, cell) of each code cell the book shows a figure or an animation of: its outputs
    hold image/png or text/html, and it is not removed (remove-cell) or emptied
    (remove-output)."""
    found = []
    for i, cell in enumerate(load(path)["cells"]):
        tags = cell["metadata"].get("tags", [])
        if cell["cell_type"] != "code" or {"remove-cell", "remove-output"} & set(tags):
            continue
        if any(m in o.get("data", {}) for o in cell["outputs"] for m in FIGURE_MIME):
            found.append((i, cell))
    return found


def caption_problems(path: Path) -> list[tuple[int, str]]:
    """(index, problem) for each figure cell without a proper caption and name.

    myst-nb wraps each displayed output of a cell with `mystnb.figure` metadata in a figure
    with that caption and name, and Sphinx numbers it ("Fig. 7"); an animation (text/html)
    is wrapped the same way. One displayed output per figure cell, since each output would
    get the same name."""
    problems = []
    for i, cell in figure_cells(path):
        figure = cell["metadata"].get("mystnb", {}).get("figure")
        if not isinstance(figure, dict):
            problems.append((i, "no mystnb.figure metadata (caption and name)"))
            continue
        caption, name = str(figure.get("caption", "")).strip(), str(figure.get("name", ""))
        if len(caption) < 40:
            problems.append((i, f"no caption, or too short to say what it shows: {caption!r}"))
        if len(re.sub(r"\\\$", "", caption).replace("$$", "").split("$")) % 2 == 0:
            problems.append((i, f"an unclosed $ in the caption: {caption!r}"))
        if not FIGURE_NAME.fullmatch(name):
            problems.append((i, f"name {name!r} is not fig-lower-case-words"))
        shown = [
            o for o in cell["outputs"] if o["output_type"] in ("display_data", "execute_result")
        ]
        if len(shown) != 1:
            problems.append((i, f"{len(shown)} displayed outputs share one caption and name"))
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_figure_and_animation_has_a_caption_and_a_name(path: Path) -> None:
    """Readers and lecturers refer to figures by number: each one is captioned and named."""
    assert caption_problems(path) == []


def test_figure_names_are_unique_across_the_book() -> None:
    names = [
        c["metadata"]["mystnb"]["figure"].get("name")
        for path in CHAPTERS
        for c in load(path)["cells"]
        if isinstance(c["metadata"].get("mystnb", {}).get("figure"), dict)
    ]
    assert names, "no named figure in the book"
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def sections_without_questions(path: Path) -> list[str]:
    """The `## ` sections of a chapter with no check-yourself cell (tag check-yourself) before
    the next `## ` heading; the exercises, the references and the live-widget sections ask
    none. A heading must start its cell, so that the questions can close the section before."""
    missing, current, asked = [], None, False
    for cell in load(path)["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        if "check-yourself" in cell["metadata"].get("tags", []):
            asked = True
            continue
        assert not re.search(r"\n## ", source), f"a `## ` heading inside a cell: {source[:80]!r}"
        if source.startswith("## "):
            if current and not asked:
                missing.append(current)
            heading = source.splitlines()[0]
            skip = heading in ("## Exercises", "## References") or heading.startswith("## Live")
            current, asked = (None if skip else heading), False
    return missing + ([current] if current and not asked else [])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_section_ends_with_check_yourself_questions(path: Path) -> None:
    assert sections_without_questions(path) == []


# The penalty's coefficient is λ in the prose and the tables, as in the papers; the spelled-out
# "lambda" is Python's keyword (a reader of the tables meets it only by mistake).
SPELLED_LAMBDA = re.compile(r"\blambda\b(?!\s*[a-z_, ]*:)")


def spelled_lambdas(text: str) -> list[str]:
    """Each "lambda" in `text` that is not Python's `lambda ...:`, with its neighbourhood."""
    return [text[max(0, m.start() - 30) : m.end() + 10] for m in SPELLED_LAMBDA.finditer(text)]


def test_the_shipped_benchmark_tables_write_lambda_as_the_symbol() -> None:
    """bench/mode_collapse.py --markdown-only rewrites them from their JSON."""
    for table in sorted((ROOT / "ganlab" / "results").glob("*.md")):
        assert spelled_lambdas(table.read_text(encoding="utf-8")) == [], table.name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_output_spells_out_lambda(path: Path) -> None:
    """A table a cell displays as Markdown, or a printout, says λ, not "lambda"."""
    found = []
    for i, cell in enumerate(load(path)["cells"]):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for text in (output.get("text", ""), data.get("text/markdown", "")):
                found += [(i, s) for s in spelled_lambdas("".join(text))]
    assert found == []


def strings_with_a_space_before_a_comma(source: str) -> list[str]:
    """The string constants of Python `source` with " ," in them (a title joined with " , "
    reads "Ankle boot , Sandal"); IPython's % and ! lines are left out before parsing."""
    code = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())
    with warnings.catch_warnings():  # a chapter's "\p" in a plain string is not the point here
        warnings.simplefilter("ignore")
        tree = ast.parse(code)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and " ," in node.value
    ]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_figure_title_or_printout_puts_a_space_before_a_comma(path: Path) -> None:
    """The chapter's code and the text it prints; the package's strings are checked below."""
    found = []
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        found += [(i, s) for s in strings_with_a_space_before_a_comma("".join(cell["source"]))]
        for output in cell["outputs"]:
            text = "".join(output.get("text", ""))
            found += [(i, ln) for ln in text.splitlines() if re.search(r"\S ,", ln)]
    assert found == []


def test_no_string_of_the_package_puts_a_space_before_a_comma() -> None:
    found = []
    for module in sorted((ROOT / "ganlab").rglob("*.py")):
        source = module.read_text(encoding="utf-8")
        found += [(module.name, s) for s in strings_with_a_space_before_a_comma(source)]
    assert found == []


# A Solution dropdown's box is narrower than a code cell: about 76 characters fit at 1366 px
# (tests_browser/test_rendered_book.py measures it).
DROPDOWN_CODE_COLUMN = 76


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_code_line_of_a_markdown_cell_fits_a_solution_box(path: Path) -> None:
    """The code blocks of the text (most are in the exercises' Solution dropdowns)."""
    found = []
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        fenced = False
        for line in "".join(cell["source"]).splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif fenced and len(line) > DROPDOWN_CODE_COLUMN:
                found.append((i, line))
    assert found == []
