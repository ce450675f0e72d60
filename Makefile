# Two commands on a fresh machine with Python 3.11 and make: `make demo`, `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The stamp is rebuilt when pyproject.toml changes, so `make` reuses a good .venv and repairs a stale one.
STAMP  := $(VENV)/.installed-dev

export TF_CPP_MIN_LOG_LEVEL ?= 3
export TF_ENABLE_ONEDNN_OPTS ?= 0
export OPENBLAS_NUM_THREADS ?= 1
# Bytecode is written (to the __pycache__ folders .gitignore leaves out), even where the environment
# says not to (this machine's sets PYTHONDONTWRITEBYTECODE=1): the suite starts tastebot in ~70
# processes and four workers, each compiled every module it imported, and pytest rewrote every test
# module's asserts again on every run.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: demo test install bench clean

# uv (astral-sh/uv) installs the stack into the venv in about 10 s where pip takes about a minute
# (most of a clean clone's `make test`); where uv cannot be had or fails, pip does it as before.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	-$(BIN)/python -m pip install --quiet uv

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --python $(BIN)/python --quiet -e '.[dev,bench]' \
		|| $(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tastebot demo

# The two plugins are named rather than found through their entry points: pytest rewrites the asserts
# of every module of an entry-point plugin's distribution, which is all of hypothesis (73 modules,
# 2-3 s of each process's start for nothing).
test: $(STAMP)
	PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(BIN)/python -m pytest -p xdist.plugin -p _hypothesis_pytestplugin \
		-n 4 --dist loadgroup --no-loadscope-reorder -q

bench: $(STAMP)
	$(BIN)/python benchmarks/harvest.py
	$(BIN)/python benchmarks/taste.py
	$(BIN)/python benchmarks/recommend.py
	$(BIN)/python benchmarks/soak.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
