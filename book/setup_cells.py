"""Every chapter's first cell (the Colab set-up), written from one template.

The repository's address lives in one place, `_config.yml` (repository.url, also used by the
launch buttons). Until the book is published there (PUBLISHED below), the cell installs nothing
and says so: a placeholder address must never be installed from, since whoever registered it
would run code in every reader's session. Once published, the cell installs the package at the
tag of the version the chapter was written for (v + ganlab.__version__), never a moving branch.

    python book/setup_cells.py          # rewrite the first cell of every chapter
    python book/setup_cells.py --check  # exit 1 if a chapter's first cell differs

tests/test_book.py checks that every chapter's first cell is the one written here.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]

# Set to True only when _config.yml's repository.url is the book's real, owned repository and
# the tag v<version> has been pushed there (README, "Publishing").
PUBLISHED = False


def version() -> str:
    """The package's version, read from ganlab/__init__.py without importing it."""
    text = (ROOT / "ganlab" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"$', text, flags=re.MULTILINE)
    if match is None:
        raise RuntimeError("ganlab/__init__.py defines no __version__")
    return match.group(1)


def repository_url() -> str:
    """The repository's address, from _config.yml."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/")


def setup_source(published: bool = PUBLISHED) -> str:
    """The first cell of every chapter."""
    v = version()
    if published:
        return (
            f"# Colab set-up: install ganlab {v}, the version this chapter was written for, when it\n"
            "# is missing. Locally and in CI ganlab is already installed, so this cell does nothing.\n"
            "# (PyPI's \"gan-lab\" is an unrelated project; this installs the book's own package.)\n"
            "import importlib.util\n"
            "\n"
            'if importlib.util.find_spec("ganlab") is None:\n'
            f'    %pip install -q "ganlab @ git+{repository_url()}@v{v}"\n'
        )
    return (
        f"# Set-up: this chapter was written for ganlab {v}. Locally and in CI ganlab is already\n"
        "# installed, so this cell does nothing. The book has no published repository yet\n"
        '# (README, "Publishing"), so it installs nothing from the web: in Colab, upload the\n'
        f"# ganlab-{v} wheel (python -m pip wheel --no-deps . in a clone) and pip install it.\n"
        "import importlib.util\n"
        "\n"
        'if importlib.util.find_spec("ganlab") is None:\n'
        "    raise ModuleNotFoundError(\n"
        f'        "ganlab {v} is not installed. This book has no published repository yet, so "\n'
        '        "install it from a clone of the book: pip install -e ."\n'
        "    )\n"
    )


def main(argv: list[str]) -> int:
    check = "--check" in argv
    source = setup_source()
    stale = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0]
        if first.cell_type == "code" and first.source == source:
            continue
        stale.append(path.name)
        if not check:
            if first.cell_type != "code" or "remove-cell" not in first.metadata.get("tags", []):
                raise RuntimeError(f"{path.name}: the first cell is not the hidden set-up cell")
            first.source = source
            nbformat.write(nb, path)
    if check and stale:
        print("set-up cell out of date in: " + ", ".join(stale) + " (python book/setup_cells.py)")
        return 1
    print(("rewrote: " + ", ".join(stale)) if stale else "every set-up cell is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
