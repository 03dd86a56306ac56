# t2m: two commands on a fresh machine — `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.t2m-installed
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: demo test lint venv clean

venv: $(STAMP)

# torch is pinned to the CPU build first: an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

# Both suites always run (one report of everything that fails); the target fails if either does.
test: $(STAMP)
	@$(BIN)/lit --succinct lit; lit=$$?; \
	$(BIN)/pytest --quiet -p no:cacheprovider -n 2 --dist loadfile tests; pytest=$$?; \
	test $$lit -eq 0 -a $$pytest -eq 0

lint: $(STAMP)
	$(BIN)/ruff check compiler dialects passes tests examples
	$(BIN)/pyright

clean:
	rm -rf out build *.egg-info lit/**/Output
