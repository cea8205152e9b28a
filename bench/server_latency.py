"""How long an editor waits for fresh findings from ``dropout-lint server``.

The model file is 3,000 lines of transformer blocks that use dropout, two of them with the
bug; the other file is 3,000 lines of plain Python. The server runs as an editor runs it, a
process spoken to over stdio. Each round types or deletes one line of the open document (an
incremental change, as editors send them) and times the wait from sending
``textDocument/didChange`` to receiving ``publishDiagnostics`` for that version (the
server's debounce included). The model file is edited in three places: between its imports,
in the ``forward`` of a block without a finding, and in that of a block with one (which the
server lints again with the statements linked to it by name: see
:mod:`dropout_lint.engine.incremental`). Beside each, in the
same run, is the engine alone on the same texts, in this process: a full lint
(``lint_source``) and the server's incremental one (``IncrementalLint``). Medians are
printed; nothing asserts on time. Issue 15 targets a median under 100 ms for a 3,000-line
model file (warm) and well under 10 ms for a file with no candidate.

    python bench/server_latency.py                  # generated 3,000-line files, 50 changes each
    python bench/server_latency.py --quick          # 6 changes each: a smoke test
    python bench/server_latency.py --file model.py  # a file of your own as the model file
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from dropout_lint.engine.incremental import IncrementalLint
from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.rules import ALL_RULES

TARGET_LINES = 3000
TARGETS_MS = {"model file": 100.0, "no candidate": 10.0}

MODEL_BLOCK = '''

class Block{n}(nn.Module):
    """Attention, a feed-forward layer and dropout, as a transformer block has them."""

    def __init__(self, dim: int, heads: int = 8, p: float = 0.1):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=p, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)
        self.drop = nn.Dropout(p)
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        h, _ = self.attn(h, h, h, need_weights=False)
        x = x + self.drop(h)
        h = self.fc2(F.gelu(self.fc1(self.norm2(x))))
        h = F.dropout(h, self.p, training=self.training)
        return x + F.dropout(h, self.p{bug})
'''
PLAIN_BLOCK = '''

def moving_average{n}(values: list[float], window: int = 5) -> list[float]:
    """The mean of each window of ``values``: plain Python, nothing for the linter."""
    out = []
    total = 0.0
    for index, value in enumerate(values):
        total += value
        if index >= window:
            total -= values[index - window]
        out.append(total / min(index + 1, window))
    return out
'''
# A model file as people write them: a few blocks with the bug, most without.
BUGGY_BLOCKS = 2
HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def generated(block: str, header: str, buggy: int = 0) -> str:
    """``block`` repeated until the file has :data:`TARGET_LINES` lines; the first ``buggy``
    copies forget ``training=`` (findings), the others pass it (candidates the gates clear)."""
    parts = [header]
    n = 0
    while sum(part.count("\n") for part in parts) < TARGET_LINES:
        parts.append(block.format(n=n, bug="" if n < buggy else ", training=self.training"))
        n += 1
    return "".join(parts)


@dataclass(frozen=True)
class Place:
    """Where a round types its line: before line ``line`` (0-based), as ``typed``."""

    name: str
    line: int
    typed: str

    def edit(self, round_number: int) -> types.TextDocumentContentChangePartial:
        """The change an editor sends for one round: the line typed, or deleted again,
        alternately (so the text is the same every other round)."""
        start = types.Position(self.line, 0)
        if round_number % 2 == 0:
            return types.TextDocumentContentChangePartial(types.Range(start, start), self.typed)
        return types.TextDocumentContentChangePartial(types.Range(start, types.Position(self.line + 1, 0)), "")

    def changed(self, text: str, round_number: int) -> str:
        """``text`` after round ``round_number``'s edit."""
        if round_number % 2:
            return text
        lines = text.splitlines(keepends=True)
        return "".join([*lines[: self.line], self.typed, *lines[self.line :]])


def places(text: str) -> list[Place]:
    """Between the first two lines; in the first ``forward`` without a finding, and in the
    first with one (a call without ``training=``), when the file has them."""
    found = [Place("line typed between imports", 1, "# an edit\n")]
    lines = text.splitlines()
    forwards = [index + 1 for index, line in enumerate(lines) if line.strip().startswith("def forward(")]
    for name, buggy in (("in a block without a finding", False), ("in the block with a finding", True)):
        for body in forwards:
            end = next((i for i in range(body, len(lines)) if lines[i].strip().startswith(("def ", "class "))), len(lines))
            block = "\n".join(lines[body:end])
            if ("F.dropout(" in block and "training=" not in block.split("F.dropout(")[-1]) == buggy:
                indent = lines[body][: len(lines[body]) - len(lines[body].lstrip())]
                found.append(Place(f"line typed {name}", body, f"{indent}x = x + 0\n"))
                break
    return found


class Session:
    """A server process and the client that speaks to it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.client = LanguageClient("server-latency-bench", "1")
        self.arrived: dict[tuple[str, Optional[int]], asyncio.Future[list[types.Diagnostic]]] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            future = self.arrived.get((params.uri, params.version))
            if future is not None and not future.done():
                future.set_result(list(params.diagnostics))

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "dropout_lint", "server")
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    text_document=types.TextDocumentClientCapabilities(
                        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True)
                    )
                ),
                root_uri=self.root.as_uri(),
            )
        )
        self.client.initialized(types.InitializedParams())

    def expect(self, uri: str, version: int) -> asyncio.Future[list[types.Diagnostic]]:
        future = asyncio.get_running_loop().create_future()
        self.arrived[(uri, version)] = future
        return future

    async def open(self, path: Path, text: str) -> list[types.Diagnostic]:
        future = self.expect(path.as_uri(), 1)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(path.as_uri(), "python", 1, text))
        )
        return await asyncio.wait_for(future, 60)

    async def change(self, path: Path, version: int, change: types.TextDocumentContentChangePartial) -> float:
        """Seconds from sending the change to the findings of that version."""
        future = self.expect(path.as_uri(), version)
        started = time.perf_counter()
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version, path.as_uri()),
                [change],
            )
        )
        await asyncio.wait_for(future, 60)
        return time.perf_counter() - started

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def engine_seconds(text: str, path: str, place: Place, rounds: int) -> tuple[float, float]:
    """The median times of the engine alone on the changed texts, in this process: a full
    lint of each, and an incremental one (after a first lint of ``text``)."""
    options = LintOptions(rules=[rule for rule in ALL_RULES if rule.default_enabled])
    full, incremental = [], []
    linter = IncrementalLint()
    linter.lint(text, path, options)
    for round_number in range(rounds):
        source = place.changed(text, round_number)
        started = time.perf_counter()
        lint_source(source.encode(), path, options)
        full.append(time.perf_counter() - started)
        started = time.perf_counter()
        linter.lint(source, path, options)
        incremental.append(time.perf_counter() - started)
    return statistics.median(full), statistics.median(incremental)


@dataclass(frozen=True)
class Result:
    file: str
    place: str
    lines: int
    findings: int
    server: float
    full: float
    incremental: float


async def measure(files: dict[str, tuple[Path, str]], rounds: int) -> list[Result]:
    """For each file and place: the median server latency and engine times."""
    root = next(iter(files.values()))[0].parent
    session = Session(root)
    await session.start()
    results = []
    try:
        for name, (path, text) in files.items():
            found = await session.open(path, text)
            version = 1
            for place in places(text) if name == "model file" else places(text)[:1]:
                latencies = []
                for n in range(rounds):
                    version += 1
                    latencies.append(await session.change(path, version, place.edit(n)))
                full, incremental = engine_seconds(text, str(path), place, rounds)
                lines = text.count("\n")
                results.append(Result(name, place.name, lines, len(found), statistics.median(latencies), full, incremental))
    finally:
        await session.stop()
    return results


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=50, help="changes timed per file and place (made even)")
    parser.add_argument("--quick", action="store_true", help="6 changes per file and place: a smoke test")
    parser.add_argument("--file", type=Path, help="use this file as the model file")
    args = parser.parse_args(argv)
    rounds = 6 if args.quick else args.rounds + args.rounds % 2  # each typed line deleted again
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        model = args.file.read_text() if args.file else generated(MODEL_BLOCK, HEADER, BUGGY_BLOCKS)
        plain = generated(PLAIN_BLOCK, "import math\n")
        files = {}
        for name, file_name, text in (("model file", "model.py", model), ("no candidate", "plain.py", plain)):
            (root / file_name).write_text(text)
            files[name] = (root / file_name, text)
        results = asyncio.run(measure(files, rounds))
    print(f"{rounds} changes per file and place, median milliseconds from didChange to its publishDiagnostics;")
    print("the engine alone on the same texts: a full lint, and the server's incremental lint")
    print()
    print("| file | edit | lines | findings | server, ms | full lint, ms | incremental lint, ms | target, ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for result in results:
        print(
            f"| {result.file} | {result.place} | {result.lines} | {result.findings} | {1000 * result.server:.1f} "
            f"| {1000 * result.full:.1f} | {1000 * result.incremental:.1f} | < {TARGETS_MS[result.file]:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
