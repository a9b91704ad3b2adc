# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo test test-fast lint format install install-dev benchmarks bench notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,spark,postgres]"
	touch $@ $(STAMP)

install: $(STAMP)
install-dev: $(DEVSTAMP)

demo: $(STAMP)
	$(BIN)/salesml demo

lint: $(DEVSTAMP)
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks notebooks

format: $(DEVSTAMP)
	$(BIN)/ruff format src tests benchmarks notebooks
	$(BIN)/ruff check --fix src tests benchmarks notebooks

test: lint
	$(BIN)/python -m pytest

# The inner loop: everything but the end-to-end runs and notebooks (marked slow).
test-fast: lint
	$(BIN)/python -m pytest -m "not slow" -q

# Re-execute every notebook on the full data, in place, so the committed copies show
# their findings (tables and figures) without running anything.
notebooks: $(DEVSTAMP)
	cd notebooks && for nb in [0-9][0-9]-*.ipynb; do \
		../$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=1800 --ExecutePreprocessor.kernel_name=python3 "$$nb" || exit 1; \
	done

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_experiments.py
	$(BIN)/python benchmarks/bench_forecast.py
	$(BIN)/python benchmarks/bench_leakage.py
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_seasonality.py

# Side by side with the tools users would pick instead (PyCaret in its own venv, a plain
# scikit-learn script, statsforecast alone), the cost curves (salesml run on 10k-1M leads
# and 100-10,000 weekly series, local and Spark local[2]) and scoring throughput, then
# benchmarks/RESULTS.md from the figures. The Spark curve needs the spark extra (in DEVSTAMP).
PEER_PYTHON ?= $(PYTHON)
PYCARET := benchmarks/.venvs/pycaret
$(PYCARET)/.installed: benchmarks/peers/requirements-pycaret.txt
	$(PEER_PYTHON) -m venv $(PYCARET)
	$(PYCARET)/bin/python -m pip install --quiet --upgrade pip
	$(PYCARET)/bin/python -m pip install --quiet -r $<
	touch $@

bench: $(DEVSTAMP) $(PYCARET)/.installed
	$(BIN)/python benchmarks/bench_peers.py
	$(BIN)/python benchmarks/bench_seasonality.py
	$(BIN)/python benchmarks/bench_targets.py
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_scale.py --curve forecast --engine spark
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_lifecycle.py
	$(BIN)/python benchmarks/bench_survival.py
	$(BIN)/python benchmarks/results_md.py

clean:
	rm -rf $(VENV) reports mlflow.db mlflow.db.lock mlruns mlartifacts .pytest_cache
