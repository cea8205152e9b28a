"""How fast dropout-lint is beside the tools people run next to it, on any tree of Python.

Every tool runs once per round, in an order that rotates from round to round, so a change
in the machine's load weighs on all of them alike; what is printed is the median over
rounds. Nothing here asserts on time: the targets of issue 6 are printed beside the
measured ratios for a reader to judge.

    python bench/speed.py                      # a generated corpus of PyTorch-like modules
    python bench/speed.py --quick              # a smaller corpus, one round: a smoke test
    python bench/speed.py /path/to/tree --repeat 5 --torchfix /venv-tf/bin/torchfix
    python bench/speed.py tree --flake8-tree tree/vit_pytorch --flake8-tree tree/timm \
        --fix-from tree/transformers

The cold run reads and writes no cache, as ruff's beside it; "first run" is the same run
with the cache on, from an empty one: what a user's first run costs, keys and writes
included. "warm" runs with a full cache.

ruff runs twice: with its default rules, and with one rule (F401) selected, the fairer
peer for a checker of a few rules. flake8 runs over each ``--flake8-tree`` (default: the
whole tree), and is judged by CPU time, which a loaded machine disturbs least.
``--fix-from`` times ``--diff`` on a copy of the files of a tree that pass the mode to a
dropout call (``training=self.training``), with that argument removed: the fixes a user
of ``--fix`` meets; without it, ``--diff`` runs on the tree itself.

``--before REF`` also runs the cold run, ``--diff`` and flake8 with the plugin on the
``dropout_lint`` of a git revision (``git archive REF``, imported ahead of the installed
one), in the same rotation, and prints each before beside after with their ratios to the
same peers: what a change did, measured in one run.

    python bench/speed.py tree --before main~3 --flake8-tree tree/timm --fix-from tree/transformers

Every ``dropout_lint`` measured is compiled to bytecode first, as an installed package is:
where ``PYTHONDONTWRITEBYTECODE`` is set, each run would otherwise compile it anew, a cost
users do not pay (and flake8 would pay it again in each worker).

flake8 without our plugin runs in the same interpreter and environment, minus our
distribution: ``python -S`` over a directory of links to every entry of site-packages
except dropout-lint's. Ignoring our codes (``--extend-ignore``) would still run the plugin.
flake8 with the plugin runs the same way, with every entry linked, so both pay alike for
starting up.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field, replace
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Optional, Sequence

from dropout_lint.workspace.cache import CACHE_DIRECTORY

# The ratios issues 6 and 17 set targets for, and how each is judged. RSS "flat" allows
# 25%. flake8's ratio is printed for each tree it runs on.
TARGETS = {
    "dropout-lint cold / ruff": ("<= 0.5", lambda r: r <= 0.5),
    "dropout-lint cold / ruff one rule": ("<= 2", lambda r: r <= 2),
    "TorchFix / dropout-lint cold": (">= 100", lambda r: r >= 100),
    "dropout-lint warm, seconds": ("< 1", lambda r: r < 1),
    "flake8 with / without plugin, CPU": ("<= 1.02", lambda r: r <= 1.02),
    "peak RSS, tree / half tree": ("~ 1 (flat)", lambda r: r <= 1.25),
    "dropout-lint --diff, seconds": ("<= 20", lambda r: r <= 20),
}
# What stripping removes from the files --fix-from copies (as the mode argument is
# forgotten in the code DRP001 reports), first or not.
_MODE_ARGUMENT = re.compile(r", *training *= *self\.training|training *= *self\.training *, *")


@dataclass(frozen=True)
class Command:
    """One tool's invocation: what runs, where, with what environment, on how many files."""

    name: str
    argv: Sequence[str]
    cwd: Path
    files: int
    lines: int
    env: Optional[dict[str, str]] = None
    counts_findings: bool = False
    # A directory removed before each run, untimed: the cache, for a first run.
    clears: Optional[Path] = None


@dataclass
class Timings:
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    peak_rss_kib: list[int] = field(default_factory=list)
    findings: list[int] = field(default_factory=list)


def run_once(command: Command, timings: Timings) -> None:
    """Run ``command`` to its end; record its wall time, peak RSS and findings."""
    if command.clears is not None:
        shutil.rmtree(command.clears, ignore_errors=True)
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(
            command.argv, cwd=command.cwd, env=command.env, stdout=output, stderr=subprocess.PIPE
        )
        # wait4, not wait: its rusage is this child's (and its reaped workers'), no other's.
        _, status, usage = os.wait4(process.pid, 0)
        timings.seconds.append(time.perf_counter() - start)
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.returncode not in (0, 1):
            raise SystemExit(f"{command.name} failed ({process.returncode}): {stderr[-2000:]}")
        timings.peak_rss_kib.append(usage.ru_maxrss)
        timings.cpu_seconds.append(usage.ru_utime + usage.ru_stime)
        if command.counts_findings:
            output.seek(0)
            timings.findings.append(len(json.loads(output.read() or b"[]")))


def measure(commands: Sequence[Command], rounds: int) -> dict[str, Timings]:
    """Each command once per round, the order rotated by one each round."""
    results = {command.name: Timings() for command in commands}
    for round_number in range(rounds):
        shift = round_number % len(commands)
        for command in [*commands[shift:], *commands[:shift]]:
            run_once(command, results[command.name])
    return results


# The generated corpus: modules as models are written, some with the bugs we look for.
_CLEAN_BLOCK = '''

class {name}(nn.Module):
    """A residual block with dropout on the attention and the MLP."""

    def __init__(self, dim: int, heads: int = 8, drop: float = 0.1) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=drop, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.dropout = nn.Dropout(drop)
        self.p = drop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Pre-norm attention, then the MLP, each behind a residual connection.
        h = self.norm(x)
        h, _ = self.attn(h, h, h, need_weights=False)
        x = x + self.dropout(h)
        x = x + F.dropout(self.mlp(self.norm(x)), p=self.p, training=self.training)
        return x

    def train(self, mode: bool = True) -> "{name}":
        super().train(mode)
        return self
'''
_BUGGY_BLOCK = '''

class {name}(nn.Module):
    """A convolutional head with the dropout mistakes dropout-lint reports."""

    def __init__(self, channels: int, drop: float = 0.2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)
        self.p = drop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv(x)))
        if self.train:
            x = x + torch.randn_like(x) * 0.01
        x = F.dropout(x, self.p)
        return nn.Dropout(self.p)(x)
'''
_UTILITIES = '''

def {name}(values: list[float], window: int = 5) -> list[float]:
    """A moving average, as training scripts keep around."""
    averages = []
    for index in range(len(values)):
        chunk = values[max(0, index - window + 1) : index + 1]
        averages.append(sum(chunk) / len(chunk))
    return averages
'''
_HEADER = '"""Generated for bench/speed.py: a module as model code is written."""\n\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n'


def write_corpus(directory: Path, files: int) -> None:
    """``files`` modules in a package tree: most clean, one in eight with findings."""
    for number in range(files):
        package = directory / f"package_{number // 50}"
        package.mkdir(parents=True, exist_ok=True)
        blocks = [_HEADER]
        for block in range(6):
            template = _UTILITIES if block % 3 == 2 else _CLEAN_BLOCK
            if number % 8 == 0 and block == 0:
                template = _BUGGY_BLOCK
            blocks.append(template.format(name=f"Block{number}x{block}"))
        (package / f"module_{number}.py").write_text("".join(blocks))


def python_files(paths: Sequence[Path]) -> list[Path]:
    return sorted(
        path
        for root in paths
        for path in (root.rglob("*.py") if root.is_dir() else [root])
        if not any(part.startswith(".") for part in path.parts[len(root.parts) :])
    )


def site_packages_view(directory: Path, without: Optional[str]) -> dict[str, str]:
    """An environment for ``python -S`` that sees site-packages, minus ``without``'s files.

    A linked copy rather than a second install: same interpreter, same versions of every
    other package, so the one difference is the missing distribution.
    """
    site_packages = Path(sysconfig.get_paths()["purelib"])
    excluded: set[str] = set()
    if without is not None:
        distribution = metadata.distribution(without)
        excluded = {Path(str(f)).parts[0] for f in distribution.files or ()}
        excluded |= {
            entry.name
            for entry in site_packages.iterdir()
            if entry.name.startswith(("__editable__.", "__editable___"))
            and without.replace("-", "_") in entry.name
        }
    directory.mkdir(parents=True)
    for entry in site_packages.iterdir():
        if entry.name not in excluded and not entry.name.endswith(".pth"):
            (directory / entry.name).symlink_to(entry)
    path = [str(directory)]
    if without is None:
        # An editable install is found through a .pth that -S skips: add its source.
        path.append(str(installed_package().parent))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


def flake8_plugins(env: dict[str, str], cwd: Path) -> str:
    """``flake8 --version`` as the timed runs see it: from their directory, since ``-m``
    puts the working directory on the path (a checkout's egg-info would add the plugin)."""
    version = subprocess.run(
        [sys.executable, "-S", "-m", "flake8", "--version"],
        env=env,
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    return version.stdout.strip()


def strip_mode_arguments(source: Path, target: Path) -> Path:
    """A copy of the files under ``source`` that pass ``training=self.training``, with that
    argument removed: a tree for ``--fix`` to work on, made from any published package."""
    for path in python_files([source.resolve()]):
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        stripped = _MODE_ARGUMENT.sub("", text)
        if stripped != text:
            copy = target / path.relative_to(source.resolve())
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(stripped, encoding="utf-8", errors="surrogateescape")
    target.mkdir(parents=True, exist_ok=True)
    return target


def torchfix_command(given: Optional[str]) -> Optional[list[str]]:
    """TorchFix as given, as importable here, or as found on PATH; None if nowhere."""
    if given:
        return [given]
    if find_spec("torchfix") is not None:
        return [sys.executable, "-m", "torchfix"]
    found = shutil.which("torchfix")
    return [found] if found else None


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, help="default: a generated corpus")
    parser.add_argument("--quick", action="store_true", help="small corpus, one round")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are printed")
    parser.add_argument("--corpus-files", type=int, default=600)
    parser.add_argument("--torchfix", help="TorchFix's executable (it pins its own libcst)")
    parser.add_argument(
        "--torchfix-sample", type=int, help="run TorchFix on every k-th file, this many in all"
    )
    parser.add_argument("--flake8-tree", type=Path, action="append",
                        help="run flake8 over this tree (repeatable; default: the tree)")
    parser.add_argument("--fix-from", type=Path,
                        help="time --diff on this tree's files with training=self.training removed")
    parser.add_argument("--before", metavar="REF",
                        help="also time this git revision's dropout_lint, beside this one")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.repeat
    with tempfile.TemporaryDirectory(prefix="dropout-lint-speed-") as scratch_name:
        scratch = Path(scratch_name)
        tree = args.tree
        if tree is None:
            tree = scratch / "corpus"
            write_corpus(tree, 40 if args.quick else args.corpus_files)
        tree = tree.resolve()
        files = python_files([tree])
        half = files[::2]
        lines = {path: path.read_bytes().count(b"\n") for path in files}
        total_lines = sum(lines.values())
        fix_tree = tree if args.fix_from is None else strip_mode_arguments(args.fix_from, scratch / "fix")
        commands = _commands(args, scratch, tree, files, half, lines, fix_tree)
        measured = [installed_package()]
        if args.before:
            before = export_revision(args.before, scratch / "before")
            commands += _before_commands(commands, before)
            measured.append(before / "dropout_lint")
        for package in measured:
            compileall.compile_dir(str(package), quiet=1)
        warm_cwd = scratch / "warm"
        warm_cwd.mkdir()
        run_once(next(c for c in commands if c.name == "dropout-lint warm"), Timings())
        print(f"tree: {tree} ({len(files)} files, {total_lines} lines), {rounds} round(s)")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()}")
        results = measure(commands, rounds)
    print_table(commands, results)
    print_ratios(commands, results)
    if args.before:
        print_before_and_after(args.before, results)
    return 0


def _commands(
    args: argparse.Namespace,
    scratch: Path,
    tree: Path,
    files: list[Path],
    half: list[Path],
    lines: dict[Path, int],
    fix_tree: Path,
) -> list[Command]:
    total = sum(lines.values())
    lint = [sys.executable, "-m", "dropout_lint", "--isolated", "--exit-zero", "--format", "json"]
    cold_cwd = scratch / "cold"
    cold_cwd.mkdir()
    (scratch / "first").mkdir()
    commands = [
        Command("dropout-lint cold", [*lint, "--no-cache", str(tree)], cold_cwd, len(files), total,
                counts_findings=True),
        Command("dropout-lint warm", [*lint, str(tree)], scratch / "warm", len(files), total,
                counts_findings=True),
        # What a user's first run costs: the cold run, with the cache's keys and writes.
        Command("dropout-lint first run", [*lint, str(tree)], scratch / "first", len(files), total,
                counts_findings=True, clears=scratch / "first" / CACHE_DIRECTORY),
        Command("dropout-lint --jobs 1", [*lint, "--no-cache", "--jobs", "1", str(tree)], cold_cwd,
                len(files), total, counts_findings=True),
        Command("dropout-lint cold, half tree", [*lint, "--no-cache", *map(str, half)], cold_cwd,
                len(half), sum(lines[path] for path in half), counts_findings=True),
    ]
    fix_files = python_files([fix_tree])
    commands.append(Command(
        "dropout-lint --diff", [sys.executable, "-m", "dropout_lint", "--isolated", "--no-cache",
                                "--exit-zero", "--diff", str(fix_tree)],
        cold_cwd, len(fix_files), sum(path.read_bytes().count(b"\n") for path in fix_files),
    ))
    # Installed beside this interpreter, or anywhere on PATH.
    ruff = shutil.which("ruff", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                      os.environ.get("PATH", "")]))
    if ruff is None:
        print("ruff: not installed, skipped")
    else:
        # Its speed, and the rules it runs by default, change from release to release.
        print(subprocess.run([ruff, "--version"], capture_output=True, text=True).stdout.strip())
        ruff_check = [ruff, "check", "--isolated", "--no-cache", "--exit-zero", "--quiet"]
        commands.append(Command("ruff", [*ruff_check, str(tree)], cold_cwd, len(files), total))
        commands.append(Command("ruff one rule", [*ruff_check, "--select", "F401", str(tree)],
                                cold_cwd, len(files), total))
    for name, without in (("flake8 with plugin", None), ("flake8 without plugin", "dropout-lint")):
        env = site_packages_view(scratch / name.replace(" ", "-"), without)
        print(f"{name}: {flake8_plugins(env, cold_cwd)}")
        for flake8_tree in args.flake8_tree or [tree]:
            flake8_files = python_files([flake8_tree.resolve()])
            flake8 = [sys.executable, "-S", "-m", "flake8", "--isolated", "--exit-zero",
                      str(flake8_tree.resolve())]
            commands.append(Command(
                f"{name}{_tree_label(args, flake8_tree)}", flake8, cold_cwd, len(flake8_files),
                sum(path.read_bytes().count(b"\n") for path in flake8_files), env=env,
            ))
    torchfix = torchfix_command(args.torchfix)
    if torchfix is None:
        print("TorchFix: not importable and not on PATH, skipped")
    else:
        # TorchFix takes about a second a file: --quick gives it a few.
        sample_size = args.torchfix_sample or (4 if args.quick else None)
        step = max(1, len(files) // sample_size) if sample_size else 1
        sample = files[::step][:sample_size]
        commands.append(Command("TorchFix", [*torchfix, *map(str, sample)], cold_cwd, len(sample),
                                sum(lines[path] for path in sample)))
    return commands


def installed_package() -> Path:
    """The directory of the ``dropout_lint`` this interpreter imports."""
    spec = find_spec("dropout_lint")
    if spec is None or spec.origin is None:
        raise SystemExit("dropout_lint is not installed here")
    return Path(spec.origin).parent


def export_revision(revision: str, directory: Path) -> Path:
    """The ``dropout_lint`` package of a git revision of this checkout, in ``directory``."""
    directory.mkdir()
    archive = subprocess.run(
        ["git", "archive", revision, "dropout_lint"],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive.stdout, check=True)
    return directory


_BEFORE = " (before)"
# The runs --before repeats, each with its peer: what its ratio is taken to.
_COMPARED = {"dropout-lint cold": ("ruff", "ruff one rule"), "dropout-lint --diff": ()}


def _before_commands(commands: Sequence[Command], before: Path) -> list[Command]:
    """The cold run, ``--diff`` and flake8 with the plugin again, importing ``before``'s
    ``dropout_lint`` ahead of the installed one."""
    repeated = []
    for command in commands:
        if command.name in _COMPARED or command.name.startswith("flake8 with plugin"):
            env = dict(command.env or os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                [str(before), *filter(None, [env.get("PYTHONPATH")])]
            )
            repeated.append(replace(command, name=command.name + _BEFORE, env=env))
    return repeated


def print_before_and_after(revision: str, results: dict[str, Timings]) -> None:
    """Each repeated run before (``revision``) and after, in CPU seconds, with its ratio to
    its peers before and after; ``--diff`` in wall seconds too."""

    def median(name: str, kind: str = "cpu_seconds") -> float:
        return statistics.median(getattr(results[name], kind))

    rows: list[tuple[str, str]] = []
    for name, peers in _COMPARED.items():
        rows += [(name, peer) for peer in peers if peer in results] or [(name, "")]
    rows += [
        (name[: -len(_BEFORE)], name[: -len(_BEFORE)].replace("with plugin", "without plugin"))
        for name in results
        if name.startswith("flake8 with plugin") and name.endswith(_BEFORE)
    ]
    print()
    print(f"before: {revision}; after: this checkout (CPU s; --diff also in wall s)")
    print(f"| {'run':<36} | {'before':>7} | {'after':>7} | {'peer (CPU s)':<28} "
          f"| {'ratio before':>12} | {'ratio after':>11} |")
    print(f"|{'-' * 38}|{'-' * 8}:|{'-' * 8}:|{'-' * 30}|{'-' * 13}:|{'-' * 12}:|")
    for name, peer in rows:
        if name + _BEFORE not in results:
            continue
        before, after = median(name + _BEFORE), median(name)
        if peer:
            peer_cpu = median(peer)
            shown = (f"{peer} {peer_cpu:.2f}", f"{before / peer_cpu:.2f}", f"{after / peer_cpu:.2f}")
        else:
            shown = ("-", "-", "-")
        print(f"| {name:<36} | {before:>7.2f} | {after:>7.2f} | {shown[0]:<28} "
              f"| {shown[1]:>12} | {shown[2]:>11} |")
    if "dropout-lint --diff" + _BEFORE in results:
        print(f"dropout-lint --diff, wall seconds: "
              f"{median('dropout-lint --diff' + _BEFORE, 'seconds'):.2f} before, "
              f"{median('dropout-lint --diff', 'seconds'):.2f} after")


def _tree_label(args: argparse.Namespace, flake8_tree: Path) -> str:
    """What names a flake8 run's tree in its row: nothing when it is the bench's tree."""
    return f", {flake8_tree.name}" if args.flake8_tree else ""


def print_table(commands: Sequence[Command], results: dict[str, Timings]) -> None:
    print()
    print(f"| {'tool':<36} | {'files':>6} | {'lines':>9} | {'wall s':>8} | {'CPU s':>8} "
          f"| {'files/s':>8} | {'peak RSS MiB':>12} | {'findings':>8} |")
    print(f"|{'-' * 38}|{'-' * 7}:|{'-' * 10}:|{'-' * 9}:|{'-' * 9}:|{'-' * 9}:|{'-' * 13}:|"
          f"{'-' * 9}:|")
    for command in commands:
        timings = results[command.name]
        seconds = statistics.median(timings.seconds)
        cpu = statistics.median(timings.cpu_seconds)
        rss = statistics.median(timings.peak_rss_kib) / 1024
        findings = " ".join(str(n) for n in sorted(set(timings.findings))) or "-"
        print(f"| {command.name:<36} | {command.files:>6} | {command.lines:>9} | {seconds:>8.2f} "
              f"| {cpu:>8.2f} | {command.files / seconds:>8.0f} | {rss:>12.0f} | {findings:>8} |")


def print_ratios(commands: Sequence[Command], results: dict[str, Timings]) -> None:
    """The ratios issues 6 and 17 set targets for, of CPU seconds (all processes of a run),
    which a loaded machine disturbs less than wall time; the two "seconds" rows are wall
    time. TorchFix may run on a sample of the files, so its ratio compares time per file."""
    files = {command.name: command.files for command in commands}

    def median(name: str, kind: str = "cpu_seconds") -> Optional[float]:
        return statistics.median(getattr(results[name], kind)) if name in results else None

    def per_file(name: str) -> Optional[float]:
        value = median(name)
        return None if value is None else value / files[name]

    ratios: list[tuple[str, str, Optional[float]]] = [
        ("dropout-lint cold / ruff", "dropout-lint cold / ruff",
         _ratio(median("dropout-lint cold"), median("ruff"))),
        ("dropout-lint cold / ruff one rule", "dropout-lint cold / ruff one rule",
         _ratio(median("dropout-lint cold"), median("ruff one rule"))),
        ("TorchFix / dropout-lint cold", "TorchFix / dropout-lint cold",
         _ratio(per_file("TorchFix"), per_file("dropout-lint cold"))),
        ("dropout-lint warm, seconds", "dropout-lint warm, seconds",
         median("dropout-lint warm", "seconds")),
    ]
    for command in commands:
        if command.name.startswith("flake8 with plugin") and not command.name.endswith(_BEFORE):
            without = command.name.replace("with plugin", "without plugin")
            ratios.append(("flake8 with / without plugin, CPU",
                           "flake8 with / without plugin" + command.name[len("flake8 with plugin"):],
                           _ratio(median(command.name), median(without))))
    ratios += [
        ("peak RSS, tree / half tree", "peak RSS, tree / half tree",
         _ratio(median("dropout-lint cold", "peak_rss_kib"),
                median("dropout-lint cold, half tree", "peak_rss_kib"))),
        ("dropout-lint --diff, seconds", "dropout-lint --diff, seconds",
         median("dropout-lint --diff", "seconds")),
    ]
    print()
    print(f"| {'ratio':<44} | {'measured':>9} | {'target':>10} | met |")
    print(f"|{'-' * 46}|{'-' * 10}:|{'-' * 11}:|:---:|")
    for target_name, name, value in ratios:
        target, met = TARGETS[target_name]
        shown = "n/a" if value is None else f"{value:.2f}"
        verdict = "-" if value is None else ("yes" if met(value) else "no")
        print(f"| {name:<44} | {shown:>9} | {target:>10} | {verdict:^3} |")


def _ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    return None if numerator is None or denominator is None else numerator / denominator


if __name__ == "__main__":
    raise SystemExit(main())
