# Sourced by scripts/try_*_lsp.sh, in the folder a try works in ($repo and $python set): the
# files the editor edits, what the command writes for the same inputs (under cli/), and the
# byte comparison of the two.

# make_inputs [FOLDER...]: examples/mnist.py in each folder the steps edit (and in FOLDERs),
# a model with non-ASCII text before its finding in enc/, a syntax error in bad.py, the
# latency bench's 3,000-line model in big/; fresh copies under cli/ for the command.
make_inputs() {
    local model='import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n        tag = "\xc3\xa9\xf0\x9f\x98\x80"; x = F.dropout(x, 0.2)  # \xc3\xbcn\xc3\xafcode\n        return x\n'
    local folder
    for folder in qf all noqa type cmd unsafe "$@" cli/fix cli/noqa cli/unsafe; do
        mkdir -p "$folder" && cp "$repo/examples/mnist.py" "$folder/"
    done
    mkdir -p enc cli/enc big
    printf "$model" > enc/model.py
    printf "$model" > cli/enc/model.py
    printf 'import torch.nn.functional as F\n\n\ndef forward(self, x:\n    return F.dropout(x, 0.5)\n' > bad.py
    (cd "$repo/bench" && "$python" -c 'from server_latency import *; print(generated(MODEL_BLOCK, HEADER, BUGGY_BLOCKS), end="")') > big/model.py
}

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
