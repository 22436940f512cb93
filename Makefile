# yoi — the two commands a newcomer needs:  make demo  and  make test
# Everything CI does is in here: a step that is not in this file does not exist.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: all install demo test lint typecheck pytest bench clean system-deps

# Editor clients add their own checks: each mk file appends its targets to
# CLIENT_TESTS (and may add to SYSTEM_DEPS for apt packages it needs).
CLIENT_TESTS :=
-include nvim/nvim.mk
-include vscode-extension/vscode.mk

all: test

# --- installation -----------------------------------------------------------

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "yoi needs Python 3.11 or newer; set PYTHON=python3.11 (or newer) and run make again")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Optional system tools the tests exercise when present (ripgrep for grep).
# Installed through apt when missing and possible; never fatal.
system-deps:
	@command -v rg >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get install -y -qq ripgrep >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq ripgrep >/dev/null 2>&1)) \
	     || echo "note: could not install ripgrep; grep uses its Python fallback"; \
	  else echo "note: ripgrep not found; grep uses its Python fallback"; fi; }

# --- the product's main job -------------------------------------------------

demo: $(STAMP)
	$(BIN)/python -m agent.demo

# --- checks -----------------------------------------------------------------

lint: $(STAMP)
	$(BIN)/ruff check agent server terminal tests bench
	$(BIN)/ruff format --check agent server terminal tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The few tests that measure the event loop's stalls (marked "quiet") run
# first, alone, on a machine no other test is loading; the rest spend most of
# their time waiting on the processes they drive (the server, the model
# process, Neovim), so they run in parallel.
PYTEST_WORKERS ?= 3
pytest: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -m quiet
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) -m "not quiet"

test: lint typecheck pytest $(CLIENT_TESTS)

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache build *.egg-info
