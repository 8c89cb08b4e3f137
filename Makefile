# The two commands of the README:
#   make book   build the website into _build/html (executing notebooks, cached)
#   make test   run every test: gdlutils unit tests, every notebook (nbval), the book build
# Both create the virtual environment .venv and install what they need on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 2

.PHONY: book test clean install

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps --no-build-isolation -e .
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going

# The tests run on $(JOBS) worker processes; each (and every notebook kernel it starts)
# uses one BLAS/OpenMP thread, so the workers do not fight over the cores.
test: $(STAMP)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadscope --nbval-lax --nbval-current-env --durations=20

clean:
	rm -rf _build
