"""The book's conventions, checked on the stored chapters (fast; nbval re-runs them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
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
def test_chapter_opens_with_the_colab_setup_cell(path: Path) -> None:
    """The first cell installs ganlab from the repository named in _config.yml, nothing else."""
    first = load(path)["cells"][0]
    source = "".join(first["source"])
    url = CONFIG["repository"]["url"].rstrip("/")
    branch = CONFIG["repository"]["branch"]
    assert first["cell_type"] == "code"
    assert "remove-cell" in first["metadata"].get("tags", [])
    assert 'find_spec("ganlab") is None' in source
    assert f'"ganlab @ git+{url}@{branch}"' in source
    install_lines = [
        ln for ln in source.splitlines() if "pip install" in ln and not ln.lstrip().startswith("#")
    ]
    assert len(install_lines) == 1 and "gan-lab" not in install_lines[0]
    for preinstalled in ("torch", "numpy", "matplotlib", "ipywidgets"):
        assert preinstalled not in install_lines[0]


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
