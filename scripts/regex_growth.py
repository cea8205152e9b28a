"""Flag regular expressions of dropout_lint whose time grows faster than their input.

Each compiled pattern (module-level, class attributes, tuples) is run with ``finditer`` and
``match`` on repetitions of one or two pieces (blanks, ``#``, backslashes, quotes,
brackets, line breaks, keywords the patterns hold) at 500, 2,000 and 8,000 characters; a
pattern is flagged when each fourfold size takes over eight times as long. ``finditer``
tries every position, as a search of a whole file does: a flag on a pattern that the code
only ``match``es at one position, or on a short text, is read with its use.

    python scripts/regex_growth.py [NAME_PART]
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import re
import sys
import time

import dropout_lint

PIECES = [
    "#", " ", "\t", "\\", "\\\n", ".", "'", '"', "'''", '"""', "(", ")", "[", "]", "{", "}", "\r\n", "\n", "\r",
    "a", "_", "0", "=", ",", "*", ":", ";", "-", "e", "\f", "x.", "A(", " as ", "as", "def ", "class ",
    "import ", "from ", "torch", "Dropout", "noqa", "noqa:", "drp", "DRP", "eval", "train", ".eval", "self.",
    "a=", "a.b", "setattr(", "0.", "1e", "?", "%", "!", "a,", "training", "Dropout2d",
]


def patterns() -> list[tuple[str, re.Pattern]]:
    found: dict[int, tuple[str, re.Pattern]] = {}
    for module_info in pkgutil.walk_packages(dropout_lint.__path__, "dropout_lint."):
        if ".runtime" in module_info.name or module_info.name.endswith("__main__"):
            continue
        try:
            module = importlib.import_module(module_info.name)
        except ImportError as error:  # an optional dependency (the language server's)
            print("skipped", module_info.name, error, file=sys.stderr)
            continue
        for name, value in vars(module).items():
            members = [(name, value)]
            if isinstance(value, type):
                members += [(f"{name}.{key}", member) for key, member in vars(value).items()]
            if isinstance(value, tuple):
                members += [(f"{name}[{index}]", member) for index, member in enumerate(value)]
            for member_name, member in members:
                if isinstance(member, re.Pattern):
                    found.setdefault(id(member), (f"{module_info.name}:{member_name}", member))
    return list(found.values())


def seconds(pattern: re.Pattern, pieces: tuple[str, ...], size: int) -> float:
    unit = "".join(pieces)
    text = (unit * (size // len(unit) + 1))[:size]
    data = text.encode("latin-1") if isinstance(pattern.pattern, bytes) else text
    started = time.process_time()
    for _ in pattern.finditer(data):
        pass
    pattern.match(data)
    return time.process_time() - started


def main(name_part: str = "") -> None:
    families = [(piece,) for piece in PIECES] + list(itertools.permutations(PIECES, 2))
    for name, pattern in patterns():
        if name_part not in name:
            continue
        flagged = []
        for pieces in families:
            small = seconds(pattern, pieces, 500)
            if small < 2e-4:
                continue
            middle = seconds(pattern, pieces, 2_000)
            if middle > 8 * small and middle > 2e-3:
                large = seconds(pattern, pieces, 8_000)
                if large > 8 * middle:
                    flagged.append(f"    {pieces!r}: 500: {small * 1e3:.2f} ms, 2k: {middle * 1e3:.2f} ms, 8k: {large * 1e3:.1f} ms")
                    if len(flagged) == 4:
                        break
        print("FLAG" if flagged else "ok  ", name, pattern.pattern[:90], *flagged, sep="\n" if flagged else " ", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
