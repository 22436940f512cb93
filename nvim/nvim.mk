# Neovim client (nvim/). Its tests are pytest tests (tests/test_nvim.py), so
# `make test` runs them; this file makes sure a Neovim is there to run them,
# and lints the plugin's Lua. Included by the root Makefile.

.PHONY: nvim-deps nvim-lint nvim-test

system-deps: nvim-deps
CLIENT_TESTS += nvim-lint

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
nvim-test: $(STAMP) nvim-deps
	$(BIN)/python -m pytest -q tests/test_nvim.py
