# Two commands (see README.md):  make test   |   make book   (then: make browser)
# The inner loop: make unit (the unit tests alone, under a minute).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test unit test-other-cpu oldest book lab browser slides colab timing notebooks lint clean

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

# The unit tests of ganlab alone (tests/, no notebook re-executed): the fast inner loop.
unit: $(STAMP)
	$(BIN)/python -m pytest tests -o addopts="-p no:cacheprovider"

# The chapters again as on another CPU: PyTorch's (ATen), oneDNN's and MKL's lowest instruction
# sets, whatever this CPU has. A training run sums in another order there, so a chapter passes
# only if nbval compares exactly what no CPU can change and checks the rest by its claim.
OTHER_CPU := ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 MKL_ENABLE_INSTRUCTIONS=SSE4_2
test-other-cpu: $(STAMP)
	$(OTHER_CPU) $(BIN)/python -c 'import torch; print("ATen CPU capability:", torch.backends.cpu.get_cpu_capability())'
	$(OTHER_CPU) $(BIN)/python -m pytest book

# The oldest Python the README claims (3.10, as on Ubuntu 22.04): a venv of its own from the
# same requirements.txt (its markers pick the versions that support 3.10), then the unit tests
# and chapters 0 and 1. OLDEST_PYTHON names the interpreter.
OLDEST_PYTHON ?= python3.10
OLDEST_VENV   := .venv-oldest
oldest:
	$(OLDEST_PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 10), sys.version'
	rm -rf $(OLDEST_VENV)
	$(OLDEST_PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install --quiet -r requirements.txt
	$(OLDEST_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(OLDEST_VENV)/bin/python -m pytest tests book/00_quickstart.ipynb book/01_adversarial_game.ipynb

# The rendered book in _build/html, from the chapters' stored outputs; warnings are errors.
book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going

# The chapters, live, in JupyterLab on this machine: served on 127.0.0.1 only, behind a token
# (in the address it prints and opens), with the .venv's Python as the kernel. LAB_OPTIONS adds
# jupyter lab options (make lab LAB_OPTIONS=--no-browser); the front-end test (tests_browser)
# also sets LAB_DIR, a copy of book/, so that nothing it runs is saved into the chapters.
LAB_DIR ?= book
LAB_OPTIONS ?=
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(LAB_DIR) $(LAB_OPTIONS)

# The rendered book (after `make book`) in the system Chromium, headless, via Playwright:
# every page of _toc.yml, served on 127.0.0.1; then every widget live in JupyterLab (`make lab`
# started headless, each chapter run down to its widget, its controls pressed, the playground's
# pictures per second in the page printed). Never downloads a browser (apt-get install
# chromium). The nbval options in pyproject's addopts do not apply here, hence -o addopts=.
browser: $(STAMP)
	$(BIN)/python -m pytest tests_browser -o addopts="" -p no:cacheprovider

# Each chapter as a reveal.js deck, _build/slides/<chapter>.slides.html, from the cells' slide
# metadata (slides/annotate.py sets it). Offline: reveal.js, require.js and jQuery are vendored in
# slides/vendor, MathJax 3 is copied from the pinned sphinx-mathjax-offline package; the folder is
# self-contained. Matplotlib's animations link font-awesome 4 from a CDN for their buttons: the link
# is pointed at the vendored copy. Tagged cells are dropped as in the book (remove-cell,
# hide-input, remove-output). In the converted copy only, slides/deck_layout.py lays the cells out
# as slides (a title slide, one heading per slide, long prose and tables in the speaker notes,
# figures without their code, no prompts), then slides/myst_slides.py rewrites the MyST that
# nbconvert would show raw (citations, admonitions and solutions, the reference list).
SLIDES := _build/slides
slides: $(STAMP)
	rm -rf $(SLIDES) && mkdir -p $(SLIDES)/mathjax/output/chtml/fonts $(SLIDES)/mathjax/input/tex
	cp -r slides/vendor/. $(SLIDES)/
	mj=$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/sphinx-mathjax-offline/static/mathjax && \
	cp $$mj/tex-chtml.js $(SLIDES)/mathjax/ && \
	cp -r $$mj/output/chtml/fonts/woff-v2 $(SLIDES)/mathjax/output/chtml/fonts/ && \
	cp -r $$mj/input/tex/extensions $(SLIDES)/mathjax/input/tex/
	PYTHONPATH=slides $(BIN)/jupyter nbconvert --to slides --output-dir $(SLIDES) \
	  --template-file slides/ganlab_reveal.html.j2 \
	  --SlidesExporter.preprocessors=deck_layout.DeckPreprocessor \
	  --SlidesExporter.preprocessors=myst_slides.MystPreprocessor \
	  --SlidesExporter.reveal_url_prefix=reveal.js \
	  --SlidesExporter.reveal_theme=white \
	  --SlidesExporter.reveal_number=c/t \
	  --TemplateExporter.exclude_input_prompt=True \
	  --TemplateExporter.exclude_output_prompt=True \
	  --SlidesExporter.require_js_url=require.js \
	  --SlidesExporter.jquery_url=jquery.min.js \
	  --SlidesExporter.mathjax_url=mathjax/tex-chtml.js \
	  --SlidesExporter.font_awesome_url= \
	  --TagRemovePreprocessor.enabled=True \
	  --TagRemovePreprocessor.remove_cell_tags=remove-cell \
	  --TagRemovePreprocessor.remove_input_tags=hide-input \
	  --TagRemovePreprocessor.remove_all_outputs_tags=remove-output \
	  book/*.ipynb
	sed -i 's|https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css|font-awesome/css/font-awesome.min.css|g' $(SLIDES)/*.slides.html

# Colab, simulated: a fresh venv with what Colab preinstalls at Colab's versions (ipywidgets
# 7.7.1 among them; tests_colab/colab_simulation.py names the runtime), the ganlab wheel
# installed as a chapter's first cell does (nothing else may change), every chapter run from
# a temp dir, and each chapter's widgets then driven from Python in its kernel.
colab: $(STAMP)
	$(BIN)/python tests_colab/colab_simulation.py

# Wall time and peak memory of every chapter in a fresh kernel -> bench/results/chapters.md.
timing: $(STAMP)
	$(BIN)/python bench/chapters.py

# Re-execute every chapter in place, top to bottom, to refresh its stored outputs; then drop
# the saved ipywidgets state (the book removes widget outputs, and the state alone makes the
# page load require.js and the widget manager from a CDN). The outputs are written under the
# AVX2 code path, so that every x86-64 machine with AVX2 or AVX-512 writes the same numbers
# (the ones the prose quotes); NB=book/04_dcgan.ipynb refreshes one chapter.
WRITER_CPU := ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2
NB ?= book/*.ipynb
notebooks: $(STAMP)
	for nb in $(NB); do $(WRITER_CPU) $(BIN)/jupyter execute --inplace "$$nb" || exit 1; done
	$(BIN)/python -c 'import sys, nbformat; [nbformat.write(nb, p) for p in sys.argv[1:] for nb in [nbformat.read(p, 4)] if nb.metadata.pop("widgets", None) is not None]' $(NB)

# ruff (lint and format), then import-linter: the package's layers (contracts in pyproject.toml,
# the map in ARCHITECTURE.md) hold, imports inside functions included. CI runs it first.
lint: $(STAMP)
	$(BIN)/ruff check ganlab tests tests_browser tests_colab bench
	$(BIN)/ruff format --check ganlab tests tests_browser tests_colab bench
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf _build $(VENV) $(OLDEST_VENV)
