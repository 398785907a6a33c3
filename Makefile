# Two commands (see README.md):  make test   |   make book
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test book notebooks lint clean

# A fresh virtual environment with the pinned tools and ganlab (editable).
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Unit tests of ganlab, then every chapter in book/ re-executed and compared by nbval.
test: $(STAMP)
	$(BIN)/python -m pytest

# The rendered book in _build/html, from the chapters' stored outputs; warnings are errors.
book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going

# Re-execute every chapter in place, top to bottom, to refresh its stored outputs.
notebooks: $(STAMP)
	for nb in book/*.ipynb; do $(BIN)/jupyter execute --inplace "$$nb" || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check ganlab tests bench
	$(BIN)/ruff format --check ganlab tests bench

clean:
	rm -rf _build $(VENV)
