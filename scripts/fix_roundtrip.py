"""Round-trip ``dropout-lint --fix`` over a whole tree and check that no byte of code is lost.

    python scripts/fix_roundtrip.py path/to/tree            # e.g. an unpacked timm wheel
    python scripts/fix_roundtrip.py --generate 300 corpus   # write a generated corpus, then check it

The tree is copied (its ``.py`` files only) to a scratch directory and fixed there, never in
place. Then, for every file: if it compiled before it still compiles; if it had no finding
it is byte-identical; a second ``--fix`` changes nothing; and the AST of each changed file
differs from the original only at the reported calls (or attributes), in dropout classes
swapped for another, and in inserted ``self.<name> = nn.<Dropout>(...)`` assignments and
``torch`` imports added or left unused. Exit 0 when every check holds, 1 with one line per violation otherwise.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Sequence

DROPOUT_CLASSES = frozenset(
    {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"}
)
COMMAND = [sys.executable, "-m", "dropout_lint", "--isolated", "--no-cache"]


@dataclass(frozen=True)
class Span:
    """A finding's location, as dropout-lint reports it: 1-based, end column exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass
class RoundTrip:
    """What one run found: counts for the summary, and every violated property."""

    files: int = 0
    files_with_findings: int = 0
    changed: int = 0
    findings_before: int = 0
    findings_after: int = 0
    seconds: float = 0.0
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.files} files, {self.files_with_findings} with findings "
            f"({self.findings_before} findings), {self.changed} changed by --fix, "
            f"{self.findings_after} findings left, {len(self.violations)} violations, "
            f"{self.seconds:.1f} s"
        )


def run_dropout_lint(tree: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """The command, run from outside ``tree`` so that no file of it can shadow a module."""
    return subprocess.run(
        [*COMMAND, *options, tree.name], cwd=tree.parent, capture_output=True, text=True
    )


def findings_by_file(tree: Path, unsafe_fixes: bool) -> dict[str, list[Span]]:
    """The findings a ``--fix`` run may act on, by path relative to ``tree``."""
    result = run_dropout_lint(tree, "--format", "json", *(["--unsafe-fixes"] if unsafe_fixes else []))
    found: dict[str, list[Span]] = {}
    for diagnostic in json.loads(result.stdout or "[]"):
        relative = str(Path(diagnostic["path"]).relative_to(tree.name))
        found.setdefault(relative, []).append(
            Span(diagnostic["line"], diagnostic["column"], diagnostic["end_line"], diagnostic["end_column"])
        )
    return found


def copy_python_files(source: Path, destination: Path) -> list[str]:
    """Copy every ``.py`` file under ``source``; symlinks are not followed."""
    copied = []
    for path in sorted(source.rglob("*.py")):
        if path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(source)
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination / relative)
        copied.append(str(relative))
    return copied


def snapshot(tree: Path, files: Sequence[str]) -> dict[str, bytes]:
    return {name: (tree / name).read_bytes() for name in files}


def parse_tree(data: bytes, name: str) -> Optional[ast.Module]:
    try:
        return ast.parse(data, name)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def check_tree(source: Path, work: Path, unsafe_fixes: bool = False) -> RoundTrip:
    """Copy ``source`` into ``work``, fix it twice, and check every property."""
    started = time.monotonic()
    tree = work / "tree"
    files = copy_python_files(source, tree)
    outcome = RoundTrip(files=len(files))
    before = snapshot(tree, files)
    reported = findings_by_file(tree, unsafe_fixes)
    outcome.files_with_findings = len(reported)
    outcome.findings_before = sum(map(len, reported.values()))
    fix = ["--fix", "--quiet", *(["--unsafe-fixes"] if unsafe_fixes else [])]
    first = run_dropout_lint(tree, *fix)
    if first.returncode not in (0, 1, 2) or "Traceback" in first.stderr:
        outcome.violations.append(f"--fix crashed (exit {first.returncode}): {first.stderr[-2000:]}")
    after = snapshot(tree, files)
    for name in files:
        outcome.violations.extend(
            check_file(name, before[name], after[name], reported.get(name, []))
        )
    outcome.changed = sum(before[name] != after[name] for name in files)
    second = run_dropout_lint(tree, *fix)
    if snapshot(tree, files) != after:
        changed_again = [name for name, data in snapshot(tree, files).items() if data != after[name]]
        outcome.violations.append(f"a second --fix changed {len(changed_again)} files: {changed_again[:5]}")
    if "Fixed 0 findings" not in second.stderr:
        outcome.violations.append(f"a second --fix reported: {second.stderr.strip()[-500:]}")
    outcome.findings_after = sum(map(len, findings_by_file(tree, unsafe_fixes).values()))
    outcome.seconds = time.monotonic() - started
    return outcome


def check_file(name: str, before: bytes, after: bytes, spans: Sequence[Span]) -> Iterator[str]:
    """The properties one file violates after ``--fix``, one line each."""
    if before == after:
        return
    if not spans:
        yield f"{name}: changed, but it had no finding"
        return
    old, new = parse_tree(before, name), parse_tree(after, name)
    if old is None:
        yield f"{name}: changed, but Python could not parse it before"
        return
    if new is None:
        yield f"{name}: compiled before --fix, not after"
        return
    allowed = ReportedNodes(before, spans)
    difference = first_difference(old, new, allowed)
    if difference is not None:
        yield f"{name}: {difference}"


class ReportedNodes:
    """Which AST nodes are at a reported finding: their changes are the fixes'."""

    def __init__(self, source: bytes, spans: Sequence[Span]) -> None:
        self.lines = source.splitlines(keepends=True)
        self.spans = set(spans)

    def __contains__(self, node: ast.AST) -> bool:
        if not isinstance(node, (ast.Call, ast.Attribute)):
            return False
        return Span(
            node.lineno,
            self._column(node.lineno, node.col_offset),
            node.end_lineno or node.lineno,
            self._column(node.end_lineno or node.lineno, node.end_col_offset or 0),
        ) in self.spans

    def _column(self, line: int, byte_offset: int) -> int:
        """The 1-based character column of a UTF-8 byte offset (AST offsets are bytes)."""
        if not 1 <= line <= len(self.lines):
            return byte_offset + 1
        return len(self.lines[line - 1][:byte_offset].decode("utf-8", "replace")) + 1


def first_difference(old: ast.AST, new: ast.AST, reported: ReportedNodes, where: str = "module") -> Optional[str]:
    """Where ``new`` differs from ``old`` other than as a fix may change it, or None."""
    if old in reported:
        return None
    if type(old) is not type(new):
        return f"{where}: {type(old).__name__} became {type(new).__name__} (line {getattr(old, 'lineno', '?')})"
    if _is_dropout_class_swap(old, new):
        return None
    for name in old._fields:
        old_value, new_value = getattr(old, name, None), getattr(new, name, None)
        place = f"{where}.{name}"
        if isinstance(old_value, list):
            difference = _list_difference(old_value, new_value, reported, place)
        elif isinstance(old_value, ast.AST):
            difference = first_difference(old_value, new_value, reported, place)
        else:
            difference = None if old_value == new_value else f"{place}: {old_value!r} became {new_value!r}"
        if difference is not None:
            return difference
    return None


def _list_difference(old: list, new: list, reported: ReportedNodes, where: str) -> Optional[str]:
    """Align two lists; the new one may hold inserted registrations and imports besides,
    and lack (or trim) torch imports the fixes left unused."""
    position = 0
    for index, old_item in enumerate(old):
        if _is_torch_import(old_item):
            run = position
            while run < len(new) and _is_insertion(new[run]) and not _same(old_item, new[run]):
                run += 1
            if run == len(new) or not _same(old_item, new[run]):
                continue  # removed or trimmed: what the new one has instead is an insertion
        while position < len(new) and _is_insertion(new[position]) and not _same(old_item, new[position]):
            position += 1
        if position == len(new):
            return f"{where}[{index}]: removed (line {getattr(old_item, 'lineno', '?')})"
        if isinstance(old_item, ast.AST):
            difference = first_difference(old_item, new[position], reported, f"{where}[{index}]")
        else:
            difference = None if old_item == new[position] else f"{where}[{index}] changed"
        if difference is not None:
            return difference
        position += 1
    extra = [item for item in new[position:] if not _is_insertion(item)]
    return f"{where}: {len(extra)} statements added" if extra else None


def _same(old: object, new: object) -> bool:
    return isinstance(old, ast.AST) and isinstance(new, ast.AST) and ast.dump(old) == ast.dump(new)


def _is_insertion(node: object) -> bool:
    """An import of torch, or ``self.<name> = <...>.<Dropout class>(...)``: what fixes add."""
    if _is_torch_import(node):
        return True
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
        return (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and isinstance(value, ast.Call)
            and _last_name(value.func) in DROPOUT_CLASSES
        )
    return False


def _is_torch_import(node: object) -> bool:
    if isinstance(node, ast.Import):
        return all(alias.name.split(".")[0] == "torch" for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "torch"
    return False


def _is_dropout_class_swap(old: ast.AST, new: ast.AST) -> bool:
    """``nn.Dropout2d`` became ``nn.Dropout`` (or the like): DRP010's fix, where the layer is built."""
    if isinstance(old, ast.Attribute) and isinstance(new, ast.Attribute):
        return old.attr in DROPOUT_CLASSES and new.attr in DROPOUT_CLASSES and _same(old.value, new.value)
    if isinstance(old, ast.Name) and isinstance(new, ast.Name):
        return old.id in DROPOUT_CLASSES and new.id in DROPOUT_CLASSES
    return False


def _last_name(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


# --- the generated corpus ---------------------------------------------------------------

IMPORT_STYLES = [
    ("import torch.nn as nn\nimport torch.nn.functional as F\n", "nn.Module", "F.dropout", "nn"),
    ("import torch\nfrom torch import nn\n", "nn.Module", "torch.nn.functional.dropout", "nn"),
    ("import torch\n", "torch.nn.Module", "torch.nn.functional.dropout2d", "torch.nn"),
    ("from torch.nn import Module, Linear, Dropout2d\nfrom torch.nn.functional import dropout as drop\n", "Module", "drop", None),
    ("import torch.nn as nn\nfrom torch.nn import functional as F\n", "nn.Module", "F.alpha_dropout", "nn"),
]
CLEAN_MODULES = [
    '"""Data helpers: no dropout here."""\n\nimport os\n\n\ndef shard(paths, n):\n    return [paths[i::n] for i in range(n)]\n',
    "import torch.nn as nn\n\n\nclass Head(nn.Module):\n    def __init__(self, p=0.1):\n        super().__init__()\n"
    "        self.dropout = nn.Dropout(p)\n\n    def forward(self, x):\n        return self.dropout(x)\n",
    "import torch.nn.functional as F\n\n\ndef noisy(x, p, training):\n    return F.dropout(x, p, training=training)\n",
    "# -*- coding: utf-8 -*-\n\"\"\"Caf\u00e9 \u2014 constants only.\"\"\"\n\n\u03c0 = 3.14159\nNAMES = ['\u00e9t\u00e9', '\u51ac']\n",
]


def generated_module(rng: random.Random, index: int) -> bytes:
    """A realistic model file: some of its dropout calls are bugs, some are fine or noqa'd."""
    if rng.random() < 0.2:
        return _dress(rng, rng.choice(CLEAN_MODULES))
    imports, base, function, nn = rng.choice(IMPORT_STYLES)
    layer = f"{nn}.Linear" if nn else "Linear"
    lines = [f'"""Model {index}: generated for the --fix round trip."""', "", imports.rstrip("\n"), "", ""]
    for number in range(rng.randint(1, 3)):
        lines += _generated_class(rng, f"Block{index}_{number}", base, function, layer, nn)
    return _dress(rng, "\n".join(lines) + "\n")


def _generated_class(rng: random.Random, name: str, base: str, function: str, layer: str, nn: Optional[str]) -> list[str]:
    rate = rng.choice(["0.1", "0.5", "p", "self.p", "p=0.25"])
    lines = [f"class {name}({base}):", f'    """A block; the rate is {rate}."""', ""]
    has_init = rng.random() < 0.8
    if has_init:
        lines += ["    def __init__(self, width=16, p=0.2):", "        super().__init__()", "        self.p = p",
                  f"        self.fc = {layer}(width, width)"]
        if nn and rng.random() < 0.3:
            lines.append(f"        self.drop2d = {nn}.Dropout2d(p)")
        lines.append("")
    lines.append("    def forward(self, x, p=0.1):")
    lines.append("        x = self.fc(x)" if has_init else "        x = x * 2")
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["bug", "bug", "multiline", "noqa", "fine", "inline", "train", "helper"])
        arguments = f"x, {rate}"
        if kind == "bug":
            lines.append(f"        x = {function}({arguments})")
        elif kind == "multiline":
            lines += [f"        x = {function}(  # keep this comment", "            x,", f"            {rate},", "        )"]
        elif kind == "noqa":
            lines.append(f"        x = {function}({arguments})  # noqa: DRP001")
        elif kind == "fine":
            lines.append(f"        x = {function}({arguments}, training=self.training)")
        elif kind == "inline" and nn:
            lines.append(f"        x = {nn}.Dropout({rate.replace('p=', '')})(x)")
        elif kind == "train":
            lines += ["        if self.train:", "            x = x + 1"]
        elif kind == "helper":
            lines.append(f"        x = {function}(x * 0.5, 0.3) if self.training else x")
    if has_init and "        self.drop2d" in "\n".join(lines) and rng.random() < 0.5:
        lines += ["        x = x.flatten(1)", "        x = self.drop2d(x)"]
    lines += ["        return x", "", ""]
    return lines


def _dress(rng: random.Random, text: str) -> bytes:
    """Tabs, CRLF, a BOM or a form feed, now and then: the file must keep them."""
    if rng.random() < 0.15:
        text = text.replace("    ", "\t")
    if rng.random() < 0.1:
        text = "\x0c\n" + text
    data = text.encode("utf-8")
    if rng.random() < 0.15:
        data = data.replace(b"\n", b"\r\n")
    if rng.random() < 0.1:
        data = b"\xef\xbb\xbf" + data
    return data


def write_corpus(directory: Path, count: int, seed: int) -> None:
    """``count`` generated model files in nested packages under ``directory``."""
    rng = random.Random(seed)
    for index in range(count):
        package = directory / f"package{index % 7}" / f"sub{index % 3}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"model_{index}.py").write_bytes(generated_module(rng, index))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path, help="the directory to round-trip (a copy is fixed)")
    parser.add_argument("--generate", type=int, metavar="N", help="first write N generated files into TREE")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated corpus")
    parser.add_argument("--unsafe-fixes", action="store_true", help="apply the unsafe fixes too")
    args = parser.parse_args(argv)
    if args.generate:
        write_corpus(args.tree, args.generate, args.seed)
    with tempfile.TemporaryDirectory(prefix="fix-roundtrip-") as work:
        outcome = check_tree(args.tree.resolve(), Path(work), args.unsafe_fixes)
    for violation in outcome.violations:
        print(violation)
    print(outcome.summary())
    return 1 if outcome.violations else 0


if __name__ == "__main__":
    sys.exit(main())
