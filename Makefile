# The two commands of the README:
#   make book   build the website into _build/html (executing notebooks, cached)
#   make test   run every test: gdlutils unit tests, every notebook (nbval), the book build
# Both create the virtual environment .venv and install what they need on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 2

.PHONY: book test check-site linkcheck clean install

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps --no-build-isolation -e .
	touch $@

# tools/build_book.py runs `jupyter-book build . -W -n --keep-going`; when a notebook fails to
# execute it says which, and makes the next `make book` execute it again.
book: $(STAMP)
	$(BIN)/python tools/build_book.py

# The tests run on $(JOBS) worker processes; each (and every notebook kernel it starts)
# uses one BLAS/OpenMP thread, so the workers do not fight over the cores.
test: $(STAMP)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadscope --nbval-lax --nbval-current-env --durations=20

# The browser tests on the executed site of `make book` (outputs included), as the publishing
# workflow runs them before it deploys; screenshots go to _build/screenshots.
check-site: $(STAMP)
	$(BIN)/python -m pytest -p no:xdist tests/test_browser.py --site _build/html -k "not fixture and not faults and not executed"

# External links of the pages and the bibliography. It needs the network, so it is not part of
# `make test` (which runs offline).
linkcheck: $(STAMP)
	$(BIN)/jupyter-book build . --builder linkcheck

clean:
	rm -rf _build
