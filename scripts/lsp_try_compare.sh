# Sourced by scripts/try_*_lsp.sh after the editor has saved its files: what the command
# writes for the same inputs (under cli/), and the byte comparison of the two.

# cli_references SERVER [FILE...]: --fix (on the FILEs too), --add-noqa and --unsafe-fixes.
cli_references() {
    local server=$1
    shift
    "$server" --fix cli/fix/mnist.py cli/enc/model.py "$@" > /dev/null 2>&1 || true
    "$server" --add-noqa --select DRP010 cli/noqa/mnist.py > /dev/null 2>&1 || true
    "$server" --fix --unsafe-fixes --select DRP010 cli/unsafe/mnist.py > /dev/null 2>&1 || true
}

failed=0
# same SAVED EXPECTED WHAT: whether the editor saved exactly what the command wrote.
same() {
    if cmp -s "$1" "$2"; then echo "same: $1 == $2 ($3)"; else echo "DIFFERENT: $1 vs $2 ($3)"; diff "$2" "$1" || true; failed=1; fi
}
