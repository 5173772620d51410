# Everything a new user needs: `make demo` sets up .venv and runs the main demo,
# `make test` sets up .venv and runs the test suite. Both are idempotent.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(abspath $(VENV))/bin/python

.PHONY: setup data browser demo lint format test report league bench bench-quick bench-vae bench-vae-torch bench-infogan bench-figr bench-can bench-survey bench-roofline bench-report-time bench-faults bench-diffusion clean

setup: data browser $(VENV)/.installed

# Real Fashion-MNIST from Debian's package (needs root or password-less sudo; elsewhere the
# loaders fall back to tensorflow-datasets and say so). Never fails the build.
data:
	@if [ -d /usr/share/datasets/fashion-mnist ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  $$SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
	  || { $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; } \
	  && echo "installed Debian's dataset-fashion-mnist" \
	  || echo "note: could not install Debian's dataset-fashion-mnist (needs root); see README 'Data'"; \
	else echo "note: no apt-get here; Fashion-MNIST will come from --data_dir or tensorflow-datasets (README 'Data')"; fi

# Debian's Chromium and its driver: the tests open the results page in a real headless browser
# (browsers cannot be downloaded from elsewhere here). Without root the browser test says so and skips.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  $$SUDO apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
	  || { $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; } \
	  && echo "installed Debian's chromium and chromium-driver" \
	  || echo "note: could not install chromium (needs root); the browser tests will skip and say so"; \
	else echo "note: no apt-get here; install chromium + chromedriver for the browser tests"; fi

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[test]'
	touch $@

# The STYLEGAN experiment with mixture 1 removed (report section 2.2).
demo: setup
	cd 2D-codes && $(PY) STYLEGAN.py --compare --missing_mixt 1 --fig_name demo

# Lint and format check (configuration: ruff.toml); `make format` rewrites the files.
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Three test processes on 2 cores (a worker waiting on its subprocesses leaves a core to another;
# 8.3-9.0 min against 9.7 with two, on an earlier suite). A test file stays in one process, the longest files first
# (tests/conftest.py's order, kept by --no-loadscope-reorder): 6.1-7.1 min (clean clones: 5.9-6.9,
# plus 1.0-1.3 for the set-up; 8.5 once while the host was busy: CPU steal, 24 % more CPU for the same
# code) on a 2-core machine with AVX-512, about twice that on an AVX2-only one (16.5-19
# min there before runs froze their objects at exit). CPU-bound: both cores busy until the last
# minute; four processes are no faster. TEST_WORKERS=1: one.
TEST_WORKERS ?= 3
test: lint
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15 tests

# Every finding of the report, its poster and Ahn et al.'s CAN over confirmatory seeds ->
# report/index.html, report/findings.json, report/FINDINGS.md (~3.5 h on 2 cores: 417 min of
# runs, two at a time; finished runs are reused, so a rerun resumes). QUICK=1: the same at toy settings in ~4 min, into runs/report-quick/.
report: setup
	$(PY) -m reporting $(if $(QUICK),--quick)

# Every model family on every held-out class, one protocol, one table -> league/results/index.html
# (the CPU league: classes 1 and 7, ~80 min on 2 cores). QUICK=1: toy budgets, one class (~4 min), into runs/league-quick/.
league: setup
	$(PY) -m league $(if $(QUICK),--quick)

# Speed + 10-seed quality tables for the 2-d experiments (~25 min on 2 cores).
bench: setup
	$(PY) -m benchmarks.bench_2d --write_docs --seeds 10

# VAE: seconds per epoch, the -ELBO table and the report's four findings (~35 min on 2 cores).
bench-vae: setup
	$(PY) -m benchmarks.bench_vae --write_docs

# Our MLP VAE beside pytorch/examples' (PyTorch in a scratch venv under runs/benchmarks; ~25 min)
bench-vae-torch: setup
	$(PY) -m benchmarks.bench_vae_torch --write_docs

# InfoGAN family: seconds per epoch, the report's command for every --gan_type, Fashion-MNIST
# infoGAN at 50 epochs (~60 min on 2 cores).
bench-infogan: setup
	$(PY) -m benchmarks.bench_infogan --write_docs

# FIGR: meta-iterations/s per --loss, held-out metrics at fixed meta-iteration counts, the
# comparison with the four-shot VAE (~45 min on 2 cores).
bench-figr: setup
	$(PY) -m benchmarks.bench_figr --write_docs

# CAN: seconds per iteration at batch 200 and 64 beside the convolutions alone, CAN vs the
# baseline DCGAN on the stand-in (~25 min on 2 cores).
bench-can: setup
	$(PY) -m benchmarks.bench_can --write_docs

# The diffusion model's recipe for the league: each recipe trained MINUTES (default 10) here and
# graded on the league's quality column (~50 min on 2 cores).
bench-diffusion: setup
	$(PY) -m benchmarks.bench_diffusion --write_docs --samplers $(if $(MINUTES),--minutes $(MINUTES))

# The survey server under 50 simulated participants at once (needs make report's CAN runs; ~2 min).
bench-survey: setup
	$(PY) -m benchmarks.bench_survey --write_docs

# A roofline: the machine's float32 peaks beside every experiment's step at default and paper
# settings (FLOPs, s/step, GFLOP/s, peak RSS; ~10 min).
# BEFORE=rev also measures the code at git revision rev in the same run (before/after columns).
bench-roofline: setup
	$(PY) -m benchmarks.bench_roofline --write_docs $(if $(BEFORE),--before $(BEFORE))

# The report's time outside training: every run of `make report` once with its training cut to a
# few steps, seconds per stage (~20 min).
bench-report-time: setup
	$(PY) -m benchmarks.bench_report_time --write_docs

# Fault injection: kill -9, Ctrl-C, damaged checkpoints and caches, races, a full disk, 100+ bad
# inputs, odd images, other commands' folders, waits that could hang (~40 min).
bench-faults: setup
	$(PY) -m benchmarks.bench_faults --write_docs

bench-quick: setup
	$(PY) -m benchmarks.bench_2d --write_docs --seeds 2 --niters 501

clean:
	rm -rf runs 2D-codes/runs vae/runs infogan/runs figr/runs figr/Runs can/runs .pytest_cache
