#!/usr/bin/env bash
# Try `dropout-lint server` in a real editor, driven without a person, on copies of
# examples/mnist.py: Vim 9 with the yegappan/lsp client (scripts/vim_lsp/), or Neovim's own
# client with docs/editors.md's configuration (scripts/nvim_lsp/). It checks the diagnostics
# the editor shows, hover, each code action (saved files compared byte for byte with what
# `dropout-lint --fix` / `--add-noqa` write), typing, a settings change, a syntax error, and
# a 3,000-line model file. Not run by CI or the tests: they have no editor.
#
#   scripts/try_vim_lsp.sh PATH/TO/yegappan-lsp [WORK_FOLDER]    # vim 9, `script` (util-linux)
#   scripts/try_vim_lsp.sh --nvim PATH/TO/nvim [WORK_FOLDER]     # Neovim 0.11 or later
#
# Run it with the virtual environment active (dropout-lint[server] installed); DL_SERVER
# names another `dropout-lint` executable. It prints what the editor showed
# (WORK_FOLDER/out/*.log) and the comparisons, keeps the client's own log in WORK_FOLDER/out,
# and exits 1 if a step timed out or a file differs.
set -euo pipefail

editor=vim
if [ "${1:-}" = --nvim ]; then editor=nvim; shift; fi
tool=$(realpath "${1:?usage: $0 [--nvim PATH/TO/nvim | PATH/TO/yegappan-lsp] [WORK_FOLDER]}")
work=$(realpath -m "${2:-$(mktemp -d /tmp/try-$editor-lsp.XXXXXX)}")
repo=$(cd "$(dirname "$0")/.." && pwd)
server=$(realpath "${DL_SERVER:-$(command -v dropout-lint)}")
python=${PYTHON:-$(dirname "$server")/python}
if [ $editor = vim ] && [ ! -f "$tool/plugin/lsp.vim" ]; then
    echo "$tool is not yegappan/lsp (no plugin/lsp.vim)" >&2; exit 2
fi

rm -rf "$work" && mkdir -p "$work/out" && cd "$work"

# The files the editor edits, and fresh copies of them for the command.
. "$repo/scripts/lsp_try_files.sh"
make_inputs

if [ $editor = vim ]; then
    mkdir -p pack/plugins/opt && ln -s "$tool" pack/plugins/opt/lsp
    cp "$repo/scripts/vim_lsp/vimrc" "$repo/scripts/vim_lsp/drive.vim" .
    # A mistake in the driver would leave Vim at a prompt until the timeout: compile it first.
    sed 's/^autocmd VimEnter.*/defcompile/' drive.vim > out/compile.vim
    vim -N -u vimrc -i NONE -es -c 'try | source out/compile.vim | catch | call writefile([v:exception], "out/compile-error") | endtry' -c 'qa!' < /dev/null || true
    if [ -s out/compile-error ]; then cat out/compile-error >&2; exit 2; fi
    # Vim needs a terminal to start its VimEnter autocommands: `script` gives it one.
    rm -f /tmp/lsp-dropout-lint.log
    DL_SERVER="$server" DL_OUT="$work/out" timeout 600 \
        script -qec "vim -N -u vimrc -i NONE -S drive.vim" /dev/null < /dev/null > out/screen 2>&1 || true
    cp /tmp/lsp-dropout-lint.log out/ 2>/dev/null || true
else
    # Neovim runs `dropout-lint server` from PATH, as the documented configuration says; its
    # own files (the client's lsp.log among them) go under out/.
    PATH="$(dirname "$server"):$PATH" DL_OUT="$work/out" XDG_CONFIG_HOME="$work/out/config" \
        XDG_STATE_HOME="$work/out/state" XDG_DATA_HOME="$work/out/data" timeout 600 \
        "$tool" --headless -u "$repo/scripts/nvim_lsp/init.lua" -c "luafile $repo/scripts/nvim_lsp/drive.lua" \
        < /dev/null > out/screen 2>&1 || true
fi
cat out/$editor.log

cli_references "$server"
echo
same qf/mnist.py cli/fix/mnist.py "DRP001 quick fix vs --fix"
same all/mnist.py cli/fix/mnist.py "source.fixAll.dropout-lint vs --fix"
same cmd/mnist.py cli/fix/mnist.py "dropout-lint.applyFixAll vs --fix"
same enc/model.py cli/enc/model.py "DRP001 quick fix after non-ASCII text vs --fix"
same noqa/mnist.py cli/noqa/mnist.py "Disable DRP010 vs --add-noqa --select DRP010"
same unsafe/mnist.py cli/unsafe/mnist.py "DRP010 unsafe quick fix vs --fix --unsafe-fixes --select DRP010"
if grep -q "TIMEOUT\|EXCEPTION\|ERROR" out/$editor.log; then failed=1; fi
exit $failed
