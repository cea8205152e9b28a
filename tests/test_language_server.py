"""`dropout-lint server` end to end: the real server process, driven over stdio by an LSP client.

Every fix the server offers is applied as an editor applies it and compared with what
`dropout-lint --fix` writes for the same file.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Optional

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
import pytest_asyncio  # noqa: E402
from lsprotocol import types  # noqa: E402
from pygls.protocol import default_converter  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features  # noqa: E402

from dropout_lint.engine.source_text import split_lines  # noqa: E402
from dropout_lint.integrations.language_server.edits import code_units  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SERVER = [sys.executable, "-m", "dropout_lint", "server"]
TIMEOUT = 30
BUGGY = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5)
        return x
"""
CLEAN = BUGGY.replace("F.dropout(x, 0.5)", "F.dropout(x, 0.5, training=self.training)")
# What VS Code 1.100.3 (code-server 4.100.3) with vscode-languageclient 9.0.1 (the Generic LSP
# Client extension) declared in scripts/try_vscode_lsp.sh; pytest-lsp's record of VS Code is of
# 1.65, which neither pulls diagnostics nor syncs notebooks.
VS_CODE_1_100 = default_converter().structure(
    json.loads((Path(__file__).resolve().parent / "clients" / "vscode_1.100.3.json").read_text()), types.ClientCapabilities
)
# What every client here can do; the pull and resolve tests add to it.
PUSH_CLIENT = types.ClientCapabilities(
    text_document=types.TextDocumentClientCapabilities(
        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
        code_action=types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(value_set=["quickfix", "source.fixAll"])
            )
        ),
        hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
    ),
    notebook_document=types.NotebookDocumentClientCapabilities(
        synchronization=types.NotebookDocumentSyncClientCapabilities()
    ),
    workspace=types.WorkspaceClientCapabilities(apply_edit=True),
)


class Editor:
    """An LSP client with the habits of an editor: open files, type, save, apply edits."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self.published: list[types.PublishDiagnosticsParams] = []
        self.applied: list[types.WorkspaceEdit] = []
        self.refreshes = 0  # workspace/diagnostic/refresh requests received
        self._arrived = asyncio.Event()

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(_: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
            client.diagnostics[params.uri] = list(params.diagnostics)
            self.published.append(params)
            self._arrived.set()

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def on_apply_edit(_: LanguageClient, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            self.applied.append(params.edit)
            return types.ApplyWorkspaceEditResult(applied=True)

        @client.feature(types.WORKSPACE_DIAGNOSTIC_REFRESH)
        def on_refresh(_: LanguageClient, params: None) -> None:
            self.refreshes += 1

    async def start(self, capabilities: types.ClientCapabilities = PUSH_CLIENT, options: Any = None) -> None:
        await self.client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=self.root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(self.root.as_uri(), "root")],
                initialization_options=options,
            )
        )

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def open(self, name: str, text: str, write: bool = True) -> str:
        uri = self.uri(name)
        if write:
            (self.root / name).write_text(text)
        self.versions[uri] = 1
        self.texts[uri] = text
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
        )
        return uri

    def change(self, uri: str, text: str) -> int:
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(self.versions[uri], uri),
                [types.TextDocumentContentChangeWholeDocument(text)],
            )
        )
        return self.versions[uri]

    def save(self, uri: str) -> None:
        Path(self.root / Path(uri).name).write_text(self.texts[uri])
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))

    async def diagnostics(self, uri: str, version: Optional[int] = None) -> list[types.Diagnostic]:
        """The diagnostics published for ``uri`` (for ``version``, when given)."""
        async def arrived() -> list[types.Diagnostic]:
            while True:
                for params in reversed(self.published):
                    if params.uri == uri and (version is None or params.version == version):
                        return list(params.diagnostics)
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(arrived(), TIMEOUT)

    async def actions(self, uri: str, line: int, only: Optional[list[str]] = None) -> list[types.CodeAction]:
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                types.TextDocumentIdentifier(uri),
                types.Range(types.Position(line, 0), types.Position(line, 0)),
                types.CodeActionContext(diagnostics=[], only=only),
            )
        )
        return [action for action in result or [] if isinstance(action, types.CodeAction)]

    def apply(self, edit: types.WorkspaceEdit) -> None:
        """Apply ``edit`` to the open documents and tell the server, as an editor does."""
        for uri, edits in (edit.changes or {}).items():
            self.change(uri, apply_text_edits(self.texts[uri], edits))


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    """``text`` with ``edits`` (UTF-16 positions) applied, as a client applies them."""
    lines = split_lines(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: types.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        body = lines[position.line].rstrip("\r\n")
        column = 0
        while column < len(body) and code_units(body[:column], "utf-16") < position.character:
            column += 1
        return starts[position.line] + column

    spans = sorted(((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def cli(*args: str, cwd: Path, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dropout_lint", *args], cwd=cwd, input=stdin, capture_output=True, text=True
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.dropout-lint]\n")
    return tmp_path


def editor_client() -> LanguageClient:
    """pytest-lsp's test client, less the handlers :class:`Editor` brings its own of."""
    client = LanguageClient(converter_factory=default_converter)
    own = (types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, types.WORKSPACE_APPLY_EDIT, types.WORKSPACE_DIAGNOSTIC_REFRESH)
    register_lsp_features(client, {m: f for m, f in DEFAULT_CLIENT_FEATURES.items() if m not in own})
    return client


@pytest_asyncio.fixture
async def editor(project: Path):
    client = await ClientServerConfig(server_command=SERVER, client_factory=editor_client).start()
    editor = Editor(client, project)
    yield editor
    await client.shutdown_session()
    await client.stop()


@pytest.mark.asyncio
async def test_findings_on_open_are_the_commands(editor: Editor) -> None:
    await editor.start()
    uri = editor.open("model.py", BUGGY)
    found = await editor.diagnostics(uri, 1)
    expected = json.loads(cli("--format", "json", "model.py", cwd=editor.root).stdout)
    assert [(d.code, d.message, d.range) for d in found] == [
        (
            e["code"],
            e["message"],
            types.Range(
                types.Position(e["line"] - 1, e["column"] - 1), types.Position(e["end_line"] - 1, e["end_column"] - 1)
            ),
        )
        for e in expected
    ]
    assert found[0].source == "dropout-lint"
    assert found[0].severity == types.DiagnosticSeverity.Warning
    assert found[0].code_description.href.endswith("dropout_lint/rules/functional_dropout_without_training.py")


@pytest.mark.asyncio
async def test_a_change_is_checked_and_only_the_latest_version_is_published(editor: Editor) -> None:
    await editor.start()
    uri = editor.open("model.py", BUGGY)
    assert [d.code for d in await editor.diagnostics(uri, 1)] == ["DRP001"]
    assert await editor.diagnostics(uri, editor.change(uri, CLEAN)) == []
    # A burst of typing: the versions in between may be skipped, never published late.
    for _ in range(5):
        editor.change(uri, CLEAN)
        last = editor.change(uri, BUGGY)
    assert [d.code for d in await editor.diagnostics(uri, last)] == ["DRP001"]
    versions = [p.version for p in editor.published if p.uri == uri]
    assert versions == sorted(versions)


@pytest.mark.asyncio
async def test_on_save_only_checks_at_save(editor: Editor) -> None:
    await editor.start(options={"run": "onSave"})
    uri = editor.open("model.py", CLEAN)
    assert await editor.diagnostics(uri, 1) == []
    editor.change(uri, BUGGY)
    await asyncio.sleep(0.5)
    assert [p.version for p in editor.published if p.uri == uri] == [1]
    editor.save(uri)
    assert [d.code for d in await editor.diagnostics(uri, 2)] == ["DRP001"]


@pytest.mark.asyncio
async def test_a_syntax_error_is_drp900_and_the_server_goes_on(editor: Editor) -> None:
    await editor.start()
    uri = editor.open("model.py", BUGGY.replace("return x", "return x +"))
    [problem] = await editor.diagnostics(uri, 1)
    assert problem.code == "DRP900" and problem.message.startswith("syntax error")
    assert problem.severity == types.DiagnosticSeverity.Error
    assert problem.range.start.line == 7
    assert [d.code for d in await editor.diagnostics(uri, editor.change(uri, BUGGY))] == ["DRP001"]


@pytest.mark.asyncio
async def test_hover_on_a_finding_explains_its_rule(editor: Editor) -> None:
    await editor.start()
    uri = editor.open("model.py", BUGGY)
    await editor.diagnostics(uri, 1)
    hover = await editor.client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(6, 14))
    )
    explained = cli("--explain", "DRP001", cwd=editor.root).stdout
    assert hover.contents.kind == types.MarkupKind.Markdown and hover.contents.value == explained
    elsewhere = await editor.client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 1))
    )
    assert elsewhere is None


@pytest.mark.asyncio
async def test_hover_is_plain_text_for_a_client_that_reads_only_plain_text(editor: Editor) -> None:
    """eglot declares only "plaintext" when Emacs has no markdown-mode."""
    text_document = types.TextDocumentClientCapabilities(
        hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.PlainText])
    )
    await editor.start(types.ClientCapabilities(text_document=text_document))
    uri = editor.open("model.py", BUGGY)
    await editor.diagnostics(uri, 1)
    hover = await editor.client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(6, 14))
    )
    explained = cli("--explain", "DRP001", cwd=editor.root).stdout
    assert hover.contents.kind == types.MarkupKind.PlainText and hover.contents.value == explained


@pytest.mark.asyncio
async def test_noqa_action_adds_a_comment_or_merges_into_one(editor: Editor) -> None:
    await editor.start()
    source = BUGGY.replace("x = F.dropout(x, 0.5)", "x = F.dropout(x, 0.5)  # noqa: DRP010")
    uri = editor.open("model.py", source)
    await editor.diagnostics(uri, 1)
    [noqa] = [a for a in await editor.actions(uri, 6) if a.title.startswith("Disable")]
    assert noqa.title == "Disable DRP001 for this line"
    editor.apply(noqa.edit)
    assert editor.texts[uri] == source.replace("# noqa: DRP010", "# noqa: DRP010, DRP001")
    assert await editor.diagnostics(uri, 2) == []

    other = editor.open("other.py", BUGGY)
    await editor.diagnostics(other, 1)
    [noqa] = [a for a in await editor.actions(other, 6) if a.title.startswith("Disable")]
    editor.apply(noqa.edit)
    assert editor.texts[other] == BUGGY.replace("F.dropout(x, 0.5)", "F.dropout(x, 0.5)  # noqa: DRP001")


UNPLACEABLE = BUGGY.replace(
    "        x = F.dropout(x, 0.5)\n",
    '        x = F.dropout(x, 0.5) + len("""\n""")\n'
    "        x = F.dropout(x, 0.5) + \\\n            0\n"
    '        x = F.dropout(x, 0.5) if "#" else x  # keep\n',
)


@pytest.mark.asyncio
async def test_noqa_is_written_as_add_noqa_writes_it_and_not_offered_where_it_cannot_go(editor: Editor) -> None:
    """A line that ends inside a string or after a backslash cannot hold a comment: no
    "Disable" there, as --add-noqa adds none; elsewhere the same directive as --add-noqa."""
    await editor.start()
    uri = editor.open("model.py", UNPLACEABLE)
    found = await editor.diagnostics(uri, 1)
    assert [(d.code, d.range.start.line) for d in found] == [("DRP001", 6), ("DRP001", 8), ("DRP001", 10)]
    offered = {line: [a for a in await editor.actions(uri, line) if a.title.startswith("Disable")] for line in (6, 8, 10)}
    assert offered[6] == [] and offered[8] == []
    [noqa] = offered[10]
    editor.apply(noqa.edit)

    added = cli("--add-noqa", "model.py", cwd=editor.root)
    assert "model.py:7: no directive added" in added.stderr and "model.py:9: no directive added" in added.stderr
    by_the_command = (editor.root / "model.py").read_text()
    assert editor.texts[uri] == by_the_command != UNPLACEABLE
    assert '"#" else x  # keep  # noqa: DRP001' in editor.texts[uri]


@pytest.mark.asyncio
async def test_settings_from_the_editor_and_the_project_wins(editor: Editor) -> None:
    await editor.start(options={"dropout-lint": {"ignore": ["DRP001"]}})
    uri = editor.open("model.py", BUGGY)
    assert await editor.diagnostics(uri, 1) == []
    editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams({"select": ["DRP0"]}))
    await asyncio.wait_for(_until(lambda: [d.code for d in editor.client.diagnostics.get(uri, [])] == ["DRP001"]), TIMEOUT)

    (editor.root / "pyproject.toml").write_text('[tool.dropout-lint]\nignore = ["DRP001"]\n')
    editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams({"select": ["DRP001"]}))
    await asyncio.wait_for(_until(lambda: editor.client.diagnostics.get(uri) == []), TIMEOUT)
    shown = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams("dropout-lint.showSettings", [uri])
    )
    assert shown["configFile"] == str(editor.root / "pyproject.toml")
    assert "DRP001" not in shown["rules"] and "DRP002" in shown["rules"]
    assert shown["editor"]["select"] == ["DRP001"]


@pytest.mark.asyncio
async def test_each_file_gets_its_closest_configuration_with_the_editors_in_the_gaps(editor: Editor) -> None:
    """As `dropout-lint PATH` in the workspace: sub/ has its own .dropout-lint.toml (fix style
    only), so its files get that file's fix style and the editor's rule selection."""
    sub = editor.root / "sub"
    sub.mkdir()
    (sub / ".dropout-lint.toml").write_text('fix-style = "training-flag"\n')
    await editor.start(options={"fixStyle": "module", "extendSelect": ["DRP003"]})
    uri = editor.open("sub/model.py", BUGGY)
    assert [d.code for d in await editor.diagnostics(uri, 1)] == ["DRP001"]
    shown = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams("dropout-lint.showSettings", [uri])
    )
    assert shown["configFile"] == str(sub / ".dropout-lint.toml")
    assert shown["fixStyle"] == "training-flag" and "DRP003" in shown["rules"]
    assert "DRP003" not in cli("--show-settings", "sub/model.py", cwd=editor.root).stdout

    [fix] = [a for a in await editor.actions(uri, 6) if a.title.startswith("Fix ")]
    editor.apply(fix.edit)
    cli("--fix", "sub/model.py", cwd=editor.root)
    assert editor.texts[uri] == (sub / "model.py").read_text() == CLEAN


@pytest.mark.asyncio
async def test_settings_sent_later_go_over_the_initialization_options(editor: Editor) -> None:
    """eglot sends `{}` once started, and its workspace settings later: each setting sent
    replaces only itself (rule selection counts as one), and `{}` changes nothing."""
    await editor.start(options={"unsafeFixes": True, "ignore": ["DRP001"]})
    uri = editor.open("model.py", (FIXTURES / "drp010" / "mnist_net.py").read_text())
    [finding] = await editor.diagnostics(uri, 1)

    async def editor_settings() -> dict[str, Any]:
        shown = await editor.client.workspace_execute_command_async(
            types.ExecuteCommandParams("dropout-lint.showSettings", [uri])
        )
        return shown["editor"]

    editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams({}))
    editor.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams({"dropout-lint": {"fixStyle": "training-flag"}})
    )
    assert await editor_settings() == {
        "ignore": ["DRP001"], "fixStyle": "training-flag", "unsafeFixes": True, "run": "onType", "logLevel": "info"
    }
    [fix, _] = await editor.actions(uri, finding.range.start.line, only=["quickfix"])
    assert fix.title.endswith(" (unsafe)")
    editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams({"select": ["DRP010"]}))
    assert await editor_settings() == {"select": ["DRP010"], "unsafeFixes": True, "run": "onType", "logLevel": "info"}


@pytest.mark.asyncio
async def test_unusable_editor_settings_are_reported_and_the_old_ones_kept(editor: Editor) -> None:
    await editor.start()
    editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams({"unsafeFixes": "yes"}))
    await asyncio.wait_for(_until(lambda: editor.client.messages), TIMEOUT)
    assert "'unsafeFixes' must be true or false" in editor.client.messages[0].message
    uri = editor.open("model.py", BUGGY)
    assert [d.code for d in await editor.diagnostics(uri, 1)] == ["DRP001"]


@pytest.mark.asyncio
async def test_shutdown_and_exit_end_the_process_cleanly(project: Path) -> None:
    client = await ClientServerConfig(server_command=SERVER, client_factory=editor_client).start()
    editor = Editor(client, project)
    await editor.start()
    uri = editor.open("model.py", BUGGY)
    await editor.diagnostics(uri, 1)
    await client.shutdown_session()
    assert client._server.returncode == 0
    await client.stop()


@pytest.mark.asyncio
async def test_shutdown_is_answered_while_a_check_runs(project: Path) -> None:
    """A check cannot be stopped midway, but shutdown does not wait for it (eglot gives up
    after 1.5 s); the process ends once it is done."""
    client = await server_where_drp002_visits(
        project,
        "import pathlib, time\n"
        f"root = pathlib.Path({str(project)!r})\n"
        "(root / 'started').touch()\n"
        "for _ in range(1200):\n"
        "    if (root / 'release').exists():\n"
        "        break\n"
        "    time.sleep(0.05)\n",
    )
    editor = Editor(client, project)
    try:
        await editor.start()
        editor.open("model.py", BUGGY.replace("return x", "return x if self.train else x"))
        await asyncio.wait_for(_until(lambda: (project / "started").exists()), TIMEOUT)
        await asyncio.wait_for(client.shutdown_async(None), 10)
        assert not (project / "release").exists()
    finally:
        (project / "release").touch()
    client.exit(None)
    assert await asyncio.wait_for(client._server.wait(), TIMEOUT) == 0
    await client.stop()


async def server_where_drp002_visits(project: Path, visit_attribute: str) -> LanguageClient:
    """A server whose DRP002 visitor runs ``visit_attribute`` (the body of its
    ``visit_Attribute(self, node)``) instead of its own: a sitecustomize in the server's
    path patches it in."""
    hooks = project / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        "from dropout_lint.rules.visitors import train_method_as_mode as rule\n"
        "def visit_Attribute(self, node):\n"
        + textwrap.indent(visit_attribute, "    ")
        + "rule.TrainMethodAsModeVisitor.visit_Attribute = visit_Attribute\n"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hooks), *sys.path])}
    return await ClientServerConfig(
        server_command=SERVER, client_factory=editor_client, server_env=environment
    ).start()


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.02)


FIXABLE = sorted(
    path
    for path in FIXTURES.glob("*/*.py")
    if not path.name.endswith(".fixed.py") and path.parent.name != "drp003"
)
# A few of them, for every run; all of them with `-m slow`.
SAMPLE = [
    path
    for path in FIXABLE
    if f"{path.parent.name}/{path.name}"
    in ("fix/add_import.py", "fix/inline_module.py", "fix/training_flag_style.py", "drp010/mnist_net.py", "drp002/train_method.py")
]
FIXTURE_SETS = [
    pytest.param(SAMPLE, id="sample"),
    pytest.param(FIXABLE, id="all", marks=pytest.mark.slow),
]
_FIX_STYLE = re.compile(r"^#\s*fix-style:\s*(?P<style>\S+)$", re.MULTILINE)
_NOQA = re.compile(r"#\s*noqa", re.IGNORECASE)
# A client that pulls diagnostics and resolves code actions lazily, as VS Code does.
PULL_AND_RESOLVE_CLIENT = types.ClientCapabilities(
    text_document=types.TextDocumentClientCapabilities(
        diagnostic=types.DiagnosticClientCapabilities(),
        code_action=types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(value_set=["quickfix", "source.fixAll"])
            ),
            resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
        ),
    ),
    workspace=types.WorkspaceClientCapabilities(apply_edit=True),
)


def lay_out(root: Path, sources: dict[str, str]) -> list[str]:
    """Write ``sources`` as a project: files that ask for the training-flag fix style (with a
    ``# fix-style:`` line, as in the fix fixtures) go to ``flag/``, whose pyproject says so."""
    (root / "pyproject.toml").write_text('[tool.dropout-lint]\nselect = ["ALL"]\n')
    (root / "flag").mkdir()
    (root / "flag" / "pyproject.toml").write_text(
        '[tool.dropout-lint]\nselect = ["ALL"]\nfix-style = "training-flag"\n'
    )
    names = []
    for name, source in sources.items():
        style = _FIX_STYLE.search(source)
        relative = f"flag/{name}" if style and style.group("style") == "training-flag" else name
        (root / relative).write_text(source)
        names.append(relative)
    return names


def fixed_by_the_command(
    root: Path, names: list[str], unsafe: bool, select: Optional[dict[str, str]] = None
) -> dict[str, str]:
    """Each file as `dropout-lint --fix FILE` writes it, run (as a user would) where its
    settings are, with only the rule ``select`` names for it, if given. One file at a time,
    as the server checks a document: given several files, the command also reads what the
    others say (their classes, the rates they set), which the server does not
    (docs/editors.md, "Known gap")."""
    copy = root.parent / f"{root.name}-fixed-by-the-command"
    shutil.copytree(root, copy)
    extra = ["--unsafe-fixes"] if unsafe else []
    for name in names:
        folder, _, file = name.rpartition("/")
        only = ["--select", select[name]] if select else []
        cli("--fix", "--no-cache", *extra, *only, file, cwd=copy / folder)
    return {name: (copy / name).read_text() for name in names}


async def resolved(editor: Editor, action: types.CodeAction) -> types.CodeAction:
    if action.edit is None:
        action = await editor.client.code_action_resolve_async(action)
    return action


async def current_findings(editor: Editor, uri: str, pull: bool) -> list[types.Diagnostic]:
    if not pull:
        return await editor.diagnostics(uri, editor.versions[uri])
    report = await editor.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri))
    )
    return list(report.items)


def fixture_name(path: Path) -> str:
    return f"{path.parent.name}_{path.name}"


@pytest.mark.parametrize("fixtures", FIXTURE_SETS)
@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.asyncio
async def test_fix_all_is_the_commands_fix(editor: Editor, unsafe: bool, fixtures: list[Path]) -> None:
    names = lay_out(editor.root, {fixture_name(path): path.read_text() for path in fixtures})
    expected = fixed_by_the_command(editor.root, names, unsafe)
    await editor.start(options={"unsafeFixes": unsafe})
    outcome = {}
    for name in names:
        uri = editor.open(name, (editor.root / name).read_text(), write=False)
        await editor.diagnostics(uri, 1)
        [action] = await editor.actions(uri, 0, only=["source.fixAll"]) or [None]
        if action is not None:
            assert action.kind == "source.fixAll.dropout-lint"
            editor.apply((await resolved(editor, action)).edit)
        outcome[name] = editor.texts[uri]
    assert outcome == expected
    assert sum(expected[name] != (editor.root / name).read_text() for name in names) >= len(names) // 2


@pytest.mark.parametrize("fixtures", FIXTURE_SETS)
@pytest.mark.parametrize("client", ["push-eager", "pull-lazy"])
@pytest.mark.asyncio
async def test_each_quick_fix_is_what_the_command_writes_for_that_finding(
    editor: Editor, client: str, fixtures: list[Path]
) -> None:
    """For each fixable finding, a copy of its file where every other finding is silenced by
    `# noqa`: the finding's quick fix must write what `dropout-lint --fix` writes there."""
    sources, codes = {}, {}
    for path in fixtures:
        source = path.read_text()
        found = json.loads(cli("--format", "json", "--isolated", "--select", "ALL", str(path), cwd=path.parent).stdout)
        fixable = [f for f in found if f["fix"]]
        lines = split_lines(source)
        for index, finding in enumerate(fixable):
            if sum(f["line"] == finding["line"] for f in found) > 1:
                continue  # two findings on one line cannot be told apart by noqa
            if any(_NOQA.search(lines[f["line"] - 1]) for f in found if f is not finding):
                continue  # a second directive on a line is not read: only the first counts
            silenced = list(lines)
            for other in found:
                if other is not finding:
                    row = silenced[other["line"] - 1]
                    silenced[other["line"] - 1] = row.rstrip("\n") + f"  # noqa: {other['code']}\n"
            name = f"{path.parent.name}_{index}_{path.name}"
            sources[name], codes[name] = "".join(silenced), finding["code"]
    names = lay_out(editor.root, sources)
    # The finding's rule alone: with every rule, `--fix` goes on to what the fix leads to
    # (a `# noqa` it made unused, which DRP100 removes), and a quick fix does not.
    expected = fixed_by_the_command(
        editor.root, names, unsafe=True, select={name: codes[name.rpartition("/")[2]] for name in names}
    )
    pull = client == "pull-lazy"
    await editor.start(PULL_AND_RESOLVE_CLIENT if pull else PUSH_CLIENT, options={"unsafeFixes": True})
    outcome = {}
    for name in names:
        uri = editor.open(name, (editor.root / name).read_text(), write=False)
        findings = await current_findings(editor, uri, pull)
        fixes = [
            action
            for line in sorted({d.range.start.line for d in findings})
            for action in await editor.actions(uri, line, only=["quickfix"])
            if action.title.startswith("Fix ")
        ]
        assert len(fixes) == 1, (name, [a.title for a in fixes])
        assert (fixes[0].edit is None) == pull
        editor.apply((await resolved(editor, fixes[0])).edit)
        outcome[name] = editor.texts[uri]
    assert outcome == expected
    assert len(names) >= 2 * len(fixtures)


@pytest.mark.asyncio
async def test_unsafe_fixes_are_offered_only_when_allowed_and_labelled(editor: Editor) -> None:
    source = (FIXTURES / "drp010" / "mnist_net.py").read_text()
    await editor.start(options={"unsafeFixes": False})
    uri = editor.open("model.py", source)
    [finding] = await editor.diagnostics(uri, 1)
    titles = [a.title for a in await editor.actions(uri, finding.range.start.line, only=["quickfix"])]
    assert titles == ["Disable DRP010 for this line"]
    editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams({"unsafeFixes": True}))
    await asyncio.sleep(0.2)
    [fix, noqa] = await editor.actions(uri, finding.range.start.line, only=["quickfix"])
    assert fix.title.startswith("Fix DRP010: ") and fix.title.endswith(" (unsafe)")
    assert not fix.is_preferred


@pytest.mark.asyncio
async def test_fix_all_command_sends_the_edit_to_the_editor(editor: Editor) -> None:
    await editor.start()
    uri = editor.open("model.py", BUGGY)
    await editor.diagnostics(uri, 1)
    await editor.client.workspace_execute_command_async(types.ExecuteCommandParams("dropout-lint.applyFixAll", [uri]))
    [edit] = editor.applied
    editor.apply(edit)
    assert editor.texts[uri] == fixed_by_the_command(editor.root, ["model.py"], unsafe=False)["model.py"] != BUGGY


def open_notebook(editor: Editor, name: str, notebook: dict[str, Any]) -> tuple[str, list[str]]:
    """Open ``notebook`` as a notebook document, as VS Code does; its uri and its cells' uris."""
    path = editor.root / name
    path.write_text(json.dumps(notebook))
    uri = path.as_uri()
    cells, documents = [], []
    for number, cell in enumerate(notebook["cells"], 1):
        cell_uri = f"vscode-notebook-cell:{path}#C{number}"
        code = cell["cell_type"] == "code"
        text = "".join(cell["source"])
        editor.texts[cell_uri] = text
        cells.append(types.NotebookCell(types.NotebookCellKind.Code if code else types.NotebookCellKind.Markup, cell_uri))
        documents.append(types.TextDocumentItem(cell_uri, "python" if code else "markdown", 1, text))
    editor.client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(types.NotebookDocument(uri, "jupyter-notebook", 1, cells), documents)
    )
    return uri, [cell.document for cell in cells]


def change_cell(editor: Editor, uri: str, cell: str, text: str) -> None:
    """Replace the text of one cell of the notebook ``uri`` (its second version)."""
    editor.client.notebook_document_did_change(
        types.DidChangeNotebookDocumentParams(
            types.VersionedNotebookDocumentIdentifier(2, uri),
            types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    text_content=[
                        types.NotebookDocumentCellContentChanges(
                            types.VersionedTextDocumentIdentifier(2, cell),
                            [types.TextDocumentContentChangeWholeDocument(text)],
                        )
                    ]
                )
            ),
        )
    )


@pytest.mark.asyncio
async def test_notebook_findings_are_on_their_cells_and_fix_all_is_the_commands(editor: Editor) -> None:
    notebook = json.loads((FIXTURES / "notebooks" / "mnist_tutorial.ipynb").read_text())
    await editor.start()
    _, cells = open_notebook(editor, "tutorial.ipynb", notebook)
    expected = json.loads(cli("--format", "json", "tutorial.ipynb", cwd=editor.root).stdout)
    assert expected, "the fixture has findings"
    for finding in expected:
        published = await editor.diagnostics(cells[finding["cell"] - 1])
        assert (finding["code"], finding["line"] - 1, finding["column"] - 1) in [
            (d.code, d.range.start.line, d.range.start.character) for d in published
        ]
    found_in = {cells[f["cell"] - 1] for f in expected}
    assert all(editor.client.diagnostics.get(cell) == [] for cell in cells if cell not in found_in)

    [fix_all] = await editor.actions(cells[expected[0]["cell"] - 1], expected[0]["line"] - 1, only=["source.fixAll"])
    for cell_uri, edits in fix_all.edit.changes.items():
        editor.texts[cell_uri] = apply_text_edits(editor.texts[cell_uri], edits)
    cli("--fix", "tutorial.ipynb", cwd=editor.root)
    fixed = json.loads((editor.root / "tutorial.ipynb").read_text())
    assert [editor.texts[cell] for cell in cells] == ["".join(cell["source"]) for cell in fixed["cells"]]


@pytest.mark.asyncio
async def test_a_cell_edit_rechecks_the_notebook(editor: Editor) -> None:
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": "import torch.nn as nn\nimport torch.nn.functional as F\n"},
            {"cell_type": "markdown", "metadata": {}, "source": "The model:"},
            {"cell_type": "code", "metadata": {}, "source": BUGGY.split("\n\n\n", 1)[1]},
        ],
    }
    await editor.start()
    uri, cells = open_notebook(editor, "nb.ipynb", notebook)
    [finding] = await editor.diagnostics(cells[2])
    assert (finding.code, finding.range.start.line) == ("DRP001", 2)
    change_cell(editor, uri, cells[2], CLEAN.split("\n\n\n", 1)[1])
    await asyncio.wait_for(_until(lambda: editor.client.diagnostics.get(cells[2]) == []), TIMEOUT)


@pytest.mark.asyncio
async def test_a_cells_quick_fix_is_the_commands_and_its_noqa_stays_in_the_cell(editor: Editor) -> None:
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": "%matplotlib inline\nimport torch.nn as nn\n"},
            {"cell_type": "code", "metadata": {}, "source": "import torch.nn.functional as F\n"},
            {"cell_type": "code", "metadata": {}, "source": BUGGY.split("\n\n\n", 1)[1]},
        ],
    }
    await editor.start()
    _, cells = open_notebook(editor, "nb.ipynb", notebook)
    [finding] = await editor.diagnostics(cells[2])
    actions = await editor.actions(cells[2], finding.range.start.line, only=["quickfix"])
    [fix] = [a for a in actions if a.title.startswith("Fix ")]
    [noqa] = [a for a in actions if a.title.startswith("Disable")]
    assert list(fix.edit.changes) == list(noqa.edit.changes) == [cells[2]]

    original = editor.texts[cells[2]]
    editor.texts[cells[2]] = apply_text_edits(original, noqa.edit.changes[cells[2]])
    assert editor.texts[cells[2]] == original.replace("F.dropout(x, 0.5)", "F.dropout(x, 0.5)  # noqa: DRP001")

    editor.texts[cells[2]] = apply_text_edits(original, fix.edit.changes[cells[2]])
    cli("--fix", "nb.ipynb", cwd=editor.root)
    fixed = json.loads((editor.root / "nb.ipynb").read_text())
    assert [editor.texts[cell] for cell in cells] == ["".join(cell["source"]) for cell in fixed["cells"]]
    assert editor.texts[cells[2]] != original


@pytest.mark.asyncio
async def test_a_client_that_pulls_diagnostics_is_not_pushed_any(editor: Editor) -> None:
    await editor.start(PULL_AND_RESOLVE_CLIENT)
    uri = editor.open("model.py", BUGGY)
    report = await editor.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri))
    )
    assert [d.code for d in report.items] == ["DRP001"]
    editor.change(uri, CLEAN)
    report = await editor.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri))
    )
    assert list(report.items) == []
    assert editor.published == []


@pytest.mark.asyncio
async def test_a_client_that_pulls_diagnostics_is_pushed_those_of_notebooks(editor: Editor) -> None:
    """VS Code pulls the diagnostics of files but never of notebook cells (found by
    scripts/try_vscode_lsp.sh: a notebook showed no finding): a notebook's are pushed."""
    await editor.start(VS_CODE_1_100)
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": "import torch.nn as nn\nimport torch.nn.functional as F\n"},
            {"cell_type": "code", "metadata": {}, "source": BUGGY.split("\n\n\n", 1)[1]},
        ],
    }
    uri, cells = open_notebook(editor, "nb.ipynb", notebook)
    [finding] = await editor.diagnostics(cells[1])
    assert (finding.code, finding.range.start.line) == ("DRP001", 2)
    change_cell(editor, uri, cells[1], CLEAN.split("\n\n\n", 1)[1])
    await asyncio.wait_for(_until(lambda: editor.client.diagnostics.get(cells[1]) == []), TIMEOUT)
    text_file = editor.open("model.py", BUGGY)
    report = await editor.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(text_file))
    )
    assert [d.code for d in report.items] == ["DRP001"]
    assert {params.uri for params in editor.published} == set(cells)


@pytest.mark.asyncio
async def test_a_pull_with_run_on_save_answers_for_the_saved_text(editor: Editor) -> None:
    """With ``run = "onSave"``, a client that pulls gets the findings of the text as last
    opened or saved: "unchanged" while it only types, fresh findings once it saves."""
    await editor.start(PULL_AND_RESOLVE_CLIENT, options={"run": "onSave"})
    uri = editor.open("model.py", BUGGY)

    async def pull(previous: Optional[str] = None) -> types.DocumentDiagnosticReport:
        params = types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri), previous_result_id=previous)
        return await editor.client.text_document_diagnostic_async(params)

    opened = await pull()
    assert [d.code for d in opened.items] == ["DRP001"] and opened.result_id
    editor.change(uri, CLEAN)
    typed = await pull(opened.result_id)
    assert typed.kind == "unchanged" and typed.result_id == opened.result_id
    assert [d.code for d in (await pull()).items] == ["DRP001"]
    editor.save(uri)
    saved = await pull(opened.result_id)
    assert saved.kind == "full" and list(saved.items) == [] and saved.result_id != opened.result_id


@pytest.mark.asyncio
async def test_a_pull_with_nothing_changed_is_answered_unchanged(editor: Editor) -> None:
    await editor.start(PULL_AND_RESOLVE_CLIENT)
    uri = editor.open("model.py", BUGGY)
    first = await editor.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri))
    )
    again = await editor.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri), previous_result_id=first.result_id)
    )
    assert again.kind == "unchanged" and again.result_id == first.result_id
    editor.change(uri, CLEAN)
    edited = await editor.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri), previous_result_id=first.result_id)
    )
    assert edited.kind == "full" and list(edited.items) == []


@pytest.mark.parametrize("refreshes", [True, False], ids=["refresh-support", "no-refresh-support"])
@pytest.mark.asyncio
async def test_after_a_settings_change_a_client_that_pulls_is_told_to_pull_only_if_it_can(
    editor: Editor, refreshes: bool
) -> None:
    """workspace/diagnostic/refresh goes only to a client that declares
    `workspace.diagnostics.refreshSupport` (Neovim does not); neither is pushed findings
    (it would show them twice); both get the new settings' findings at their next pull."""
    workspace = types.WorkspaceClientCapabilities(
        diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True) if refreshes else None
    )
    await editor.start(types.ClientCapabilities(text_document=PULL_AND_RESOLVE_CLIENT.text_document, workspace=workspace))
    uri = editor.open("model.py", BUGGY)

    async def pull(previous: Optional[str] = None) -> types.DocumentDiagnosticReport:
        params = types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri), previous_result_id=previous)
        return await editor.client.text_document_diagnostic_async(params)

    before = await pull()
    assert [d.code for d in before.items] == ["DRP001"]
    editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams({"ignore": ["DRP001"]}))
    after = await pull(before.result_id)  # answered after the server has taken the change
    assert after.kind == "full" and list(after.items) == []
    assert editor.refreshes == (1 if refreshes else 0)
    assert editor.published == []


@pytest.mark.asyncio
async def test_a_crashing_rule_is_drp901_on_that_document_only(project: Path) -> None:
    """A rule made to crash (by a sitecustomize in the server's path) on files that mention
    `self.train`: those files get DRP901, the others their findings, and the server goes on."""
    client = await server_where_drp002_visits(project, "raise ZeroDivisionError('boom')\n")
    editor = Editor(client, project)
    try:
        await editor.start()
        crashing = editor.open("crashing.py", BUGGY.replace("return x", "return x if self.train else x"))
        found = await editor.diagnostics(crashing, 1)
        assert [d.code for d in found] == ["DRP901", "DRP001"]
        assert "DRP002" in found[0].message and "ZeroDivisionError: boom" in found[0].message
        other = editor.open("other.py", BUGGY)
        assert [d.code for d in await editor.diagnostics(other, 1)] == ["DRP001"]
    finally:
        await client.shutdown_session()
        await client.stop()


@pytest.mark.parametrize("spec", ["visual-studio-code", "vscode-1.100.3", "neovim", "emacs"])
@pytest.mark.asyncio
async def test_with_the_capabilities_real_editors_declare(editor: Editor, spec: str) -> None:
    """pytest-lsp records what VS Code, Neovim and Emacs declare (and the try recorded a recent
    VS Code): with each, the finding arrives (pushed or pulled, as the client wants) and its
    quick fix writes what --fix does."""
    capabilities = VS_CODE_1_100 if spec == "vscode-1.100.3" else client_capabilities(spec)
    await editor.start(capabilities)
    pull = capabilities.text_document is not None and capabilities.text_document.diagnostic is not None
    uri = editor.open("model.py", BUGGY)
    [finding] = await current_findings(editor, uri, pull)
    assert finding.code == "DRP001"
    [fix] = [a for a in await editor.actions(uri, finding.range.start.line) if a.title.startswith("Fix ")]
    editor.apply((await resolved(editor, fix)).edit)
    assert editor.texts[uri] == fixed_by_the_command(editor.root, ["model.py"], unsafe=False)["model.py"]
