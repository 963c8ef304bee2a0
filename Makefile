# Two entry points: `make book` builds the HTML book, `make test` runs the whole test suite.
# Also: `make pdf` prints the whole book to one PDF; `make notebooks` regenerates book/*.ipynb.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test lint clean system-packages pdf notebooks

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . -n -W --keep-going
	@echo "Built. Open _build/html/index.html in a browser, or serve it: $(BIN)/python -m http.server -d _build/html"

pdf: $(STAMP)
	$(BIN)/jupyter-book build . --builder singlehtml -n -W --keep-going
	$(BIN)/python -m softmax_course.publish.print_pdf _build/singlehtml _build/pdf/softmax-step-by-step.pdf

notebooks: $(STAMP)
	$(BIN)/python -m softmax_course.publish.chapter_notebooks

# bubblewrap, chromium, poppler-utils and postgresql for the tests (.ci/system-packages says which).
system-packages:
	bash .ci/system-packages

test: $(STAMP) system-packages
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf _build
