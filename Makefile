# Everything a new user needs: `make demo` sets up .venv and runs the main demo,
# `make test` sets up .venv and runs the test suite. Both are idempotent.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(abspath $(VENV))/bin/python

.PHONY: setup demo test bench bench-quick clean

setup: $(VENV)/.installed

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[test]'
	touch $@

# The STYLEGAN experiment with mixture 1 removed (report section 2.2).
demo: setup
	cd 2D-codes && $(PY) STYLEGAN.py --compare --missing_mixt 1 --fig_name demo

test: setup
	$(PY) -m pytest -q tests

# Speed + 10-seed quality tables for the 2-d experiments (~25 min on 2 cores).
bench: setup
	$(PY) benchmarks/bench_2d.py --seeds 10

bench-quick: setup
	$(PY) benchmarks/bench_2d.py --seeds 2 --niters 501

clean:
	rm -rf runs 2D-codes/runs .pytest_cache
