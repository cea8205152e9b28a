#!/usr/bin/env bash
# Try `dropout-lint server` in a real editor: Vim 9 with the yegappan/lsp client, driven
# without a person (scripts/vim_lsp/drive.vim), on copies of examples/mnist.py. It checks the
# diagnostics Vim shows, hover, each code action (saved files compared byte for byte with what
# `dropout-lint --fix` / `--add-noqa` write), typing, a settings change, a syntax error, and a
# 3,000-line model file. Needs vim 9 (+job +channel), `script` (util-linux), and a copy of
# https://github.com/yegappan/lsp; not run by CI or the tests (they have neither).
#
#   scripts/try_vim_lsp.sh PATH/TO/yegappan-lsp [WORK_FOLDER]
#
# Run it with the virtual environment active (dropout-lint[server] installed); DL_SERVER
# names another `dropout-lint` executable. It prints what Vim showed (WORK_FOLDER/out/vim.log)
# and the comparisons, keeps the client's log of every message in WORK_FOLDER/out, and exits
# 1 if a step timed out or a file differs.
set -euo pipefail

plugin=$(realpath "${1:?usage: $0 PATH/TO/yegappan-lsp [WORK_FOLDER]}")
work=$(realpath -m "${2:-$(mktemp -d /tmp/try-vim-lsp.XXXXXX)}")
repo=$(cd "$(dirname "$0")/.." && pwd)
server=$(realpath "${DL_SERVER:-$(command -v dropout-lint)}")
python=${PYTHON:-$(dirname "$server")/python}
[ -f "$plugin/plugin/lsp.vim" ] || { echo "$plugin is not yegappan/lsp (no plugin/lsp.vim)" >&2; exit 2; }

rm -rf "$work" && mkdir -p "$work/pack/plugins/opt" "$work/out" && cd "$work"
ln -s "$plugin" pack/plugins/opt/lsp
cp "$repo/scripts/vim_lsp/vimrc" "$repo/scripts/vim_lsp/drive.vim" .

# The files Vim edits, and fresh copies of them for the command.
MODEL='import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n        tag = "\xc3\xa9\xf0\x9f\x98\x80"; x = F.dropout(x, 0.2)  # \xc3\xbcn\xc3\xafcode\n        return x\n'
for folder in qf all noqa type cmd unsafe cli/fix cli/noqa cli/unsafe; do
    mkdir -p "$folder" && cp "$repo/examples/mnist.py" "$folder/"
done
mkdir -p enc cli/enc big
printf "$MODEL" > enc/model.py
printf "$MODEL" > cli/enc/model.py
printf 'import torch.nn.functional as F\n\n\ndef forward(self, x:\n    return F.dropout(x, 0.5)\n' > bad.py
(cd "$repo/bench" && "$python" -c 'from server_latency import *; print(generated(MODEL_BLOCK, HEADER, BUGGY_BLOCKS), end="")') > big/model.py

# A mistake in the driver would leave Vim at a prompt until the timeout: compile it first.
sed 's/^autocmd VimEnter.*/defcompile/' drive.vim > out/compile.vim
vim -N -u vimrc -i NONE -es -c 'try | source out/compile.vim | catch | call writefile([v:exception], "out/compile-error") | endtry' -c 'qa!' < /dev/null || true
if [ -s out/compile-error ]; then cat out/compile-error >&2; exit 2; fi

# Vim needs a terminal to start its VimEnter autocommands: `script` gives it one.
rm -f /tmp/lsp-dropout-lint.log
DL_SERVER="$server" DL_OUT="$work/out" timeout 600 \
    script -qec "vim -N -u vimrc -i NONE -S drive.vim" /dev/null < /dev/null > out/screen 2>&1 || true
cp /tmp/lsp-dropout-lint.log out/ 2>/dev/null || true
cat out/vim.log

"$server" --fix cli/fix/mnist.py cli/enc/model.py > /dev/null 2>&1 || true
"$server" --add-noqa --select DRP010 cli/noqa/mnist.py > /dev/null 2>&1 || true
"$server" --fix --unsafe-fixes --select DRP010 cli/unsafe/mnist.py > /dev/null 2>&1 || true
failed=0
same() {
    if cmp -s "$1" "$2"; then echo "same: $1 == $2 ($3)"; else echo "DIFFERENT: $1 vs $2 ($3)"; diff "$2" "$1" || true; failed=1; fi
}
echo
same qf/mnist.py cli/fix/mnist.py "DRP001 quick fix vs --fix"
same all/mnist.py cli/fix/mnist.py "source.fixAll.dropout-lint vs --fix"
same cmd/mnist.py cli/fix/mnist.py "dropout-lint.applyFixAll vs --fix"
same enc/model.py cli/enc/model.py "DRP001 quick fix after non-ASCII text vs --fix"
same noqa/mnist.py cli/noqa/mnist.py "Disable DRP010 vs --add-noqa --select DRP010"
same unsafe/mnist.py cli/unsafe/mnist.py "DRP010 unsafe quick fix vs --fix --unsafe-fixes --select DRP010"
if grep -q "TIMEOUT\|EXCEPTION" out/vim.log; then failed=1; fi
exit $failed
