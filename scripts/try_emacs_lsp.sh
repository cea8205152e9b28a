#!/usr/bin/env bash
# Try `dropout-lint server` in Emacs with eglot, driven without a person, on copies of
# examples/mnist.py: the same steps and files as scripts/try_vim_lsp.sh (diagnostics shown
# by flymake, hover, each code action with the saved file compared byte for byte with what
# `dropout-lint --fix` / `--add-noqa` write, typing, a settings change, a syntax error, a
# 3,000-line model file, shutdown). Emacs runs docs/editors.md's configuration
# (scripts/emacs_lsp/init.el) and scripts/emacs_lsp/drive.el, in a terminal that `script`
# (util-linux) gives it. Not run by CI or the tests: they have no editor.
#
#   scripts/try_emacs_lsp.sh [WORK_FOLDER]
#
# Needs Emacs 28 or later with eglot (on Debian 12: apt-get install emacs-nox elpa-eglot, or
# Emacs 30 from bookworm-backports, which has eglot built in; EMACS names another emacs). Run it with the virtual environment active (dropout-lint[server]
# installed); DL_SERVER names another `dropout-lint` executable. It prints what Emacs showed
# (WORK_FOLDER/out/emacs.log; eglot's log of the messages is out/events.log) and the
# comparisons, and exits 1 if a step timed out or a file differs.
set -euo pipefail

work=$(realpath -m "${1:-$(mktemp -d /tmp/try-emacs-lsp.XXXXXX)}")
repo=$(cd "$(dirname "$0")/.." && pwd)
server=$(realpath "${DL_SERVER:-$(command -v dropout-lint)}")
python=${PYTHON:-$(dirname "$server")/python}
emacs=${EMACS:-emacs}

rm -rf "$work" && mkdir -p "$work/out" && cd "$work"

# The files the editor edits, and fresh copies of them for the command.
. "$repo/scripts/lsp_try_files.sh"
make_inputs
# One project (eglot's unit: one server for its files), as a person's checkout is.
git init -q .

# A mistake in the driver would leave Emacs waiting for a person until the timeout: compile
# it first. `-q` reads no init file but the system's (Debian's puts elpa-eglot on the load
# path); HOME is out/home, so that no file of the person running this is read either.
export HOME="$work/out/home"
"$emacs" --batch -q -l "$repo/scripts/emacs_lsp/init.el" --eval "(progn (require 'eglot)
  (setq byte-compile-dest-file-function (lambda (_) \"$work/out/drive.elc\"))
  (unless (byte-compile-file \"$repo/scripts/emacs_lsp/drive.el\") (kill-emacs 2)))" > out/compile 2>&1 \
    || { cat out/compile >&2; exit 2; }
# Emacs runs `dropout-lint server` from PATH, as the documented configuration says. Its
# terminal's input stays open, as a person's does (at end of input, Emacs reads nothing else:
# not even the server's answers).
exec 3< <(sleep 900)
idle_input=$!
PATH="$(dirname "$server"):$PATH" DL_OUT="$work/out" TERM=xterm timeout 600 \
    script -qec "$emacs -nw -q -l $repo/scripts/emacs_lsp/init.el -l $repo/scripts/emacs_lsp/drive.el" /dev/null \
    <&3 > out/screen 2>&1 || true
kill "$idle_input" 2>/dev/null || true
cat out/emacs.log

cli_references "$server"
echo
same qf/mnist.py cli/fix/mnist.py "DRP001 quick fix vs --fix"
same all/mnist.py cli/fix/mnist.py "source.fixAll.dropout-lint vs --fix"
same cmd/mnist.py cli/fix/mnist.py "dropout-lint.applyFixAll vs --fix"
same enc/model.py cli/enc/model.py "DRP001 quick fix after non-ASCII text vs --fix"
same noqa/mnist.py cli/noqa/mnist.py "Disable DRP010 vs --add-noqa --select DRP010"
same unsafe/mnist.py cli/unsafe/mnist.py "DRP010 unsafe quick fix vs --fix --unsafe-fixes --select DRP010"
if grep -q "TIMEOUT\|ERROR" out/emacs.log; then failed=1; fi
exit $failed
