#!/usr/bin/env bash
# Try `dropout-lint server` in VS Code, driven without a person: code-server (VS Code in the
# browser) in headless Chromium, with the "Generic LSP Client (v2)" extension
# (zsol/vscode-glspc) and the configuration of docs/editors.md, on copies of
# examples/mnist.py. scripts/vscode_lsp/drive.js does what a person would (keyboard, command
# palette, Problems panel, hover, code-action menus, saving); this script then compares the
# saved files byte for byte with what `dropout-lint --fix` / `--add-noqa` write. Not run by CI
# or the tests: they have no editor.
#
#   scripts/try_vscode_lsp.sh --prepare TOOLS GLSPC_SOURCE   # once: build TOOLS (see below)
#   scripts/try_vscode_lsp.sh TOOLS [WORK_FOLDER]            # the try
#
# --prepare needs node 20 with npm (the npm registry), a C++ compiler, libkrb5-dev, ripgrep
# and chromium (Debian: apt-get install chromium ripgrep libkrb5-dev g++ make), and a source
# checkout of https://github.com/zsol/vscode-glspc (tried: b1d6fee, 0.2.1). It puts in TOOLS:
# code-server 4.100.3 from npm (VS Code 1.100.3, the last release for node 20) with its
# native modules compiled here (its prebuilt downloads come from GitHub), the extension
# packaged as a .vsix with its own npm dependencies, and playwright-core.
#
# Run the try with the virtual environment active (dropout-lint[server] installed); DL_SERVER
# names another `dropout-lint` executable. It prints what VS Code showed (WORK_FOLDER/out/
# vscode.log), keeps the extension's log (the LSP messages) in WORK_FOLDER/out, and exits 1 if
# a step timed out or a file differs.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.2
repo=$(cd "$(dirname "$0")/.." && pwd)

prepare() {
    local tools glspc gyp m
    tools=$(realpath -m "$1")
    glspc=$(realpath "$2")
    [ -f "$glspc/src/extension.ts" ] || { echo "$glspc is not vscode-glspc (no src/extension.ts)" >&2; exit 2; }
    mkdir -p "$tools" && cd "$tools"
    npm pack "code-server@$CODE_SERVER_VERSION" > /dev/null
    rm -rf code-server && mkdir code-server
    tar xzf "code-server-$CODE_SERVER_VERSION.tgz" -C code-server --strip-components 1
    # What code-server's postinstall.sh does, without the scripts that download from GitHub.
    (cd code-server && npm install --omit=dev --ignore-scripts --no-audit --no-fund)
    (cd code-server/lib/vscode && npm install --omit=dev --ignore-scripts --no-audit --no-fund)
    (cd code-server/lib/vscode/extensions && npm install --omit=dev --ignore-scripts --no-audit --no-fund)
    ln -sfn node_modules code-server/lib/vscode/node_modules.asar
    mkdir -p code-server/lib/vscode/node_modules/@vscode/ripgrep/bin
    cp "$(command -v rg)" code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg
    gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
    for m in @vscode/spdlog kerberos native-watchdog node-pty @vscode/deviceid; do
        (cd "code-server/lib/vscode/node_modules/$m" && node "$gyp" rebuild --nodedir=/usr > /dev/null)
    done
    (cd code-server/node_modules/argon2 && node "$gyp" rebuild --nodedir=/usr --module_name=argon2 \
        --module_path="$PWD/lib/binding/napi-v3" --napi_build_version=3 > /dev/null)
    rm -rf glspc && cp -r "$glspc" glspc
    (cd glspc && npm ci --no-audit --no-fund && npx vsce package --no-dependencies -o ../glspc.vsix)
    npm install --prefix playwright "playwright-core@$PLAYWRIGHT_VERSION" --no-audit --no-fund
    node code-server/out/node/entry.js --config /dev/null --version
}

if [ "${1:-}" = --prepare ]; then
    prepare "${2:?usage: $0 --prepare TOOLS GLSPC_SOURCE}" "${3:?usage: $0 --prepare TOOLS GLSPC_SOURCE}"
    exit 0
fi
tools=$(realpath "${1:?usage: $0 TOOLS [WORK_FOLDER] (TOOLS made by $0 --prepare)}")
work=$(realpath -m "${2:-$(mktemp -d /tmp/try-vscode-lsp.XXXXXX)}")
server=$(realpath "${DL_SERVER:-$(command -v dropout-lint)}")
python=${PYTHON:-$(dirname "$server")/python}
[ -f "$tools/glspc.vsix" ] || { echo "$tools has no glspc.vsix: run $0 --prepare first" >&2; exit 2; }

rm -rf "$work" && mkdir -p "$work/out" && cd "$work"

# The files the editor edits, and fresh copies of them for the command.
. "$repo/scripts/lsp_try_files.sh"
make_inputs src
mkdir -p nb
# A notebook: a magic and the imports in one cell, the model in another.
"$python" -c 'import json; print(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
    {"cell_type": "markdown", "metadata": {}, "source": "# A model"},
    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
     "source": "%matplotlib inline\nimport torch.nn as nn\nimport torch.nn.functional as F"},
    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
     "source": "class Net(nn.Module):\n    def forward(self, x):\n        return F.dropout(x, 0.2)"}]}, indent=1))' > nb/model.ipynb
mkdir -p cli/nb && cp nb/model.ipynb cli/nb/

# VS Code's own folders, outside the workspace. settings.json is docs/editors.md's
# configuration with the server's full path (VS Code's extensions get the PATH of the user's
# login shell, not that of an activated virtual environment); keybindings.json binds the
# server's fix-all command, with the file it fixes, to Ctrl+Alt+A. VS Code in a browser saves
# files a second after each change unless told not to ("files.autoSave"): desktop VS Code
# does not, and the steps save when they mean to.
vsc="$work/.vscode-data"
mkdir -p "$vsc/user/User" "$vsc/ext"
cat > "$vsc/user/User/settings.json" <<EOF
{
  "glspc.server.command": "$server",
  "glspc.server.commandArguments": ["server"],
  "glspc.server.languageId": ["python"],
  "glspc.server.initializationOptions": {"unsafeFixes": false, "run": "onType"},
  "[python]": {"editor.codeActionsOnSave": {"source.fixAll.dropout-lint": "explicit"}},
  "glspc.trace.server": "messages",
  "files.autoSave": "off",
  "workbench.startupEditor": "none",
  "security.workspace.trust.enabled": false,
  "git.enabled": false,
  "extensions.ignoreRecommendations": true
}
EOF
cat > "$vsc/user/User/keybindings.json" <<EOF
[{"key": "ctrl+alt+a", "command": "dropout-lint.applyFixAll", "args": "file://$work/cmd/mnist.py"}]
EOF
# An empty config file: code-server writes its own to ~/.config/code-server/ when given none.
: > "$vsc/config.yaml"
node "$tools/code-server/out/node/entry.js" --config "$vsc/config.yaml" --user-data-dir "$vsc/user" --extensions-dir "$vsc/ext" \
    --install-extension "$tools/glspc.vsix" > out/install.log 2>&1
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node "$tools/code-server/out/node/entry.js" --config "$vsc/config.yaml" --auth none \
    --bind-addr "127.0.0.1:$port" --user-data-dir "$vsc/user" --extensions-dir "$vsc/ext" \
    --disable-telemetry --disable-update-check --disable-workspace-trust "$work" > out/code-server.log 2>&1 &
code_server=$!
trap 'kill $code_server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -qs "HTTP server listening" out/code-server.log && break; sleep 0.2; done

DL_URL="http://127.0.0.1:$port/?folder=$work" DL_WORK="$work" DL_OUT="$work/out" \
    DL_SETTINGS="$vsc/user/User/settings.json" NODE_PATH="$tools/playwright/node_modules" \
    timeout 900 node "$repo/scripts/vscode_lsp/drive.js" || true
kill $code_server 2>/dev/null || true
cp "$vsc"/user/logs/*/exthost1/zsol.vscode-glspc/*.log out/ 2>/dev/null || true
cat out/vscode.log

cli_references "$server" cli/nb/model.ipynb
echo
same qf/mnist.py cli/fix/mnist.py "DRP001 quick fix vs --fix"
same all/mnist.py cli/fix/mnist.py "source.fixAll.dropout-lint on save vs --fix"
same src/mnist.py cli/fix/mnist.py "Source Action... dropout-lint: fix all vs --fix"
same cmd/mnist.py cli/fix/mnist.py "dropout-lint.applyFixAll vs --fix"
same enc/model.py cli/enc/model.py "DRP001 quick fix after non-ASCII text vs --fix"
same noqa/mnist.py cli/noqa/mnist.py "Disable DRP010 vs --add-noqa --select DRP010"
same unsafe/mnist.py cli/unsafe/mnist.py "DRP010 unsafe quick fix vs --fix --unsafe-fixes --select DRP010"
# VS Code writes a notebook's JSON its own way: compare the cells' sources.
sources() { "$python" -c 'import json, sys; print(json.dumps([c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in json.load(open(sys.argv[1]))["cells"]], indent=1))' "$1"; }
sources nb/model.ipynb > out/nb-sources.json && sources cli/nb/model.ipynb > out/cli-nb-sources.json
same out/nb-sources.json out/cli-nb-sources.json "cells of nb/model.ipynb after the cell's quick fix vs --fix"
if grep -q "TIMEOUT\|ERROR" out/vscode.log; then failed=1; fi
exit $failed
