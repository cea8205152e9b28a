"""The LSP adapter: messages from the editor in, the command's findings and fixes out.

A check that parses runs on one worker thread, off the message loop, so requests and
cancellations are read meanwhile. Each check is of one version of a document; its results
are published only if that version is still the current one, so the editor never sees
findings of text it no longer has.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional, Union

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from ... import __version__
from ...engine.incremental import IncrementalLint
from ...output.rule_docs import find_documented
from ...rules import ALL_RULES, RULES_BY_CODE
from ...workspace.config_error import ConfigError
from . import code_actions
from .documents import CODE, MARKUP, OTHER, Cell, Checked, Subject, check, needs_parsing, path_of
from .diagnostics import to_lsp
from .settings import RUN_ON_SAVE, RUN_ON_TYPE, ClientSettings, client_settings, describe, settings_for

FIX_ALL_COMMAND = "dropout-lint.applyFixAll"
SHOW_SETTINGS_COMMAND = "dropout-lint.showSettings"
PYTHON_SUFFIXES = (".py", ".pyi")

logger = logging.getLogger("dropout_lint.language_server")


class DropoutLintServer(LanguageServer):
    """The server's state: the editor's settings and the last check of each open document."""

    def __init__(self) -> None:
        super().__init__(
            "dropout-lint",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[
                    types.NotebookDocumentFilterWithCells(
                        cells=[types.NotebookCellLanguage(language="python")], notebook="jupyter-notebook"
                    )
                ],
                save=True,
            ),
        )
        self.client_settings = ClientSettings()
        self.initialization_options: Any = None  # what later settings go over
        self.checked: dict[str, Checked] = {}  # by the uri of the file or notebook
        self.pending: dict[str, asyncio.Task[None]] = {}  # the running check of each
        self.incremental: dict[str, IncrementalLint] = {}  # what the next check may reuse, by uri
        self.saved: dict[str, Subject] = {}  # each document as last opened or saved, by uri
        self.settings_generation = 0  # counts the editor's settings changes
        self.checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dropout-lint-check")

    @property
    def encoding(self) -> str:
        return str(getattr(self.workspace.position_encoding, "value", self.workspace.position_encoding) or "utf-16")

    @property
    def root(self) -> Path:
        """Where the command would be run: the workspace's root (else the server's directory)."""
        return Path(self.workspace.root_path or os.getcwd())

    @property
    def pulls_diagnostics(self) -> bool:
        """Clients that ask for diagnostics are not sent them unasked as well (as ruff does),
        except those of notebooks: no client asks for a cell's (VS Code does not)."""
        document = self.client_capabilities.text_document
        return document is not None and document.diagnostic is not None

    @property
    def refreshes_pulled_diagnostics(self) -> bool:
        """Whether the client asks again for diagnostics when told to (it must say so)."""
        workspace = self.client_capabilities.workspace
        return bool(self.pulls_diagnostics and workspace and workspace.diagnostics and workspace.diagnostics.refresh_support)

    @property
    def hover_kind(self) -> types.MarkupKind:
        """Markdown, unless the client lists the formats it reads and Markdown is not one."""
        hover = self.client_capabilities.text_document and self.client_capabilities.text_document.hover
        formats = hover and hover.content_format
        return types.MarkupKind.PlainText if formats and types.MarkupKind.Markdown not in formats else types.MarkupKind.Markdown

    @property
    def resolves_code_actions(self) -> bool:
        code_action = self.client_capabilities.text_document and self.client_capabilities.text_document.code_action
        properties = code_action and code_action.resolve_support and code_action.resolve_support.properties
        return bool(properties and "edit" in properties)

    def subject(self, uri: str) -> Optional[Subject]:
        """What is checked for document ``uri``: the file, the notebook of a cell, or None."""
        notebook = self.workspace.get_notebook_document(notebook_uri=uri) or self.workspace.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            cells = tuple(_cell(self, cell) for cell in notebook.cells)
            path = path_of(uris.to_fs_path(notebook.uri), self.workspace.root_path, "Untitled.ipynb")
            return Subject(notebook.uri, notebook.version, path, cells=cells)
        if uri not in self.workspace.text_documents:
            return None  # closed
        document = self.workspace.get_text_document(uri)
        path = path_of(uris.to_fs_path(uri), self.workspace.root_path, "untitled.py")
        if document.language_id != "python" and not path.endswith(PYTHON_SUFFIXES):
            return None
        return Subject(uri, document.version, path, document.source)

    def opened_or_saved(self, uri: str) -> None:
        """Check ``uri`` and remember it as it is now: with ``run = "onSave"``, the text a
        pull is answered for."""
        subject = self.subject(uri)
        if subject is not None:
            self.saved[subject.uri] = subject
        self.schedule(uri)

    def pulled_subject(self, uri: str) -> Optional[Subject]:
        """What a pull for ``uri`` is answered with: its current text, or with ``run =
        "onSave"`` its text as last opened or saved."""
        subject = self.subject(uri)
        if subject is not None and self.client_settings.run == RUN_ON_SAVE:
            return self.saved.get(subject.uri, subject)
        return subject

    def is_current(self, subject: Subject) -> bool:
        latest = self.subject(subject.uri)
        return latest is not None and latest.version == subject.version

    def check_now(self, subject: Subject) -> Optional[Checked]:
        """The check of ``subject``, here and now (remembered); None if the settings are wrong."""
        known = self.checked.get(subject.uri)
        if known is not None and known.subject == subject:
            return known
        return self.remember(check_with_settings(subject, self.client_settings, self.root), self.settings_generation)

    def remember(self, outcome: Union[Checked, ConfigError], generation: int) -> Optional[Checked]:
        """Keep a check of the current version made with the current settings; say what is
        wrong with settings that cannot be used."""
        if isinstance(outcome, ConfigError):
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"dropout-lint: {outcome}"))
            return None
        if self.is_current(outcome.subject) and generation == self.settings_generation:
            self.checked[outcome.subject.uri] = outcome
        return outcome

    async def check_in_background(self, subject: Subject) -> Optional[Checked]:
        """The check of ``subject``: on the checking thread when it needs parsing (or its
        last check did), so the messages keep flowing meanwhile; here when a scan of its
        bytes is all it takes."""
        known = self.checked.get(subject.uri)
        if known is not None and known.subject == subject:
            return known
        started = time.perf_counter()
        generation = self.settings_generation
        try:
            settings = settings_for(subject.path, self.client_settings, self.root)
        except ConfigError as error:
            return self.remember(error, generation)
        incremental = None if subject.is_notebook else self.incremental.setdefault(subject.uri, IncrementalLint())
        if (incremental is not None and incremental.primed) or needs_parsing(subject, settings):
            checked = await asyncio.get_running_loop().run_in_executor(self.checker, check, subject, settings, incremental)
        else:
            checked = check(subject, settings)
        logger.debug("checked %s (version %s) in %.1f ms", subject.uri, subject.version, 1000 * (time.perf_counter() - started))
        return self.remember(checked, generation)

    async def check_until_current(self, uri: str) -> None:
        """Check the document and publish its findings; if it changed meanwhile, the
        findings are stale: check its latest version instead, until one is current."""
        while True:
            subject = self.subject(uri)
            generation = self.settings_generation
            if subject is None:
                return
            checked = await self.check_in_background(subject)
            if checked is None:
                return
            if self.is_current(subject) and generation == self.settings_generation:
                self.publish(checked)
                return

    def schedule(self, uri: str) -> None:
        """Check ``uri`` now, or, if a check of it is running, once that one is done.

        Changes that arrive while a check runs are coalesced into one check of the
        latest version, so a burst of typing costs at most two checks and no waiting.
        """
        subject = self.subject(uri)
        if subject is None or (self.pulls_diagnostics and not subject.is_notebook):
            return
        running = self.pending.get(subject.uri)
        if running is None or running.done():
            self.pending[subject.uri] = asyncio.ensure_future(self.check_until_current(subject.uri))

    def publish(self, checked: Checked) -> None:
        for uri in checked.document_uris():
            version = checked.subject.version if not checked.subject.is_notebook else None
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri, [to_lsp(checked, d, self.encoding) for d in checked.findings_in(uri)], version)
            )

    def clear(self, uri: str) -> None:
        self.incremental.pop(uri, None)
        self.saved.pop(uri, None)
        checked = self.checked.pop(uri, None)
        for document in checked.document_uris() if checked is not None else [uri]:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(document, []))


class ClientLog(logging.Handler):
    """The server's log, sent to the editor's output panel (``window/logMessage``)."""

    LEVELS = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
        logging.DEBUG: types.MessageType.Log,
    }

    def __init__(self, server: LanguageServer) -> None:
        super().__init__()
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        kind = self.LEVELS.get(record.levelno, types.MessageType.Error)
        self.server.window_log_message(types.LogMessageParams(kind, record.getMessage()))


def _cell(server: DropoutLintServer, cell: types.NotebookCell) -> Cell:
    document = server.workspace.get_text_document(cell.document)
    if cell.kind == types.NotebookCellKind.Markup:
        kind = MARKUP
    else:
        kind = CODE if document.language_id in ("python", None) else OTHER
    return Cell(cell.document, kind, document.source)


def check_with_settings(subject: Subject, client: ClientSettings, root: Path) -> Union[Checked, ConfigError]:
    """Find the file's settings and check it; an error if the settings cannot be used."""
    try:
        settings = settings_for(subject.path, client, root)
    except ConfigError as error:
        return error
    return check(subject, settings)


def build_server() -> DropoutLintServer:
    """The server with every feature registered; ``start_io`` runs it."""
    server = DropoutLintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: DropoutLintServer, params: types.InitializeParams) -> None:
        if _apply_settings(ls, params.initialization_options):
            ls.initialization_options = params.initialization_options

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DropoutLintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.opened_or_saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DropoutLintServer, params: types.DidChangeTextDocumentParams) -> None:
        if ls.client_settings.run == RUN_ON_TYPE:
            ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DropoutLintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.opened_or_saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DropoutLintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.clear(params.text_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_did_open(ls: DropoutLintServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.opened_or_saved(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_did_change(ls: DropoutLintServer, params: types.DidChangeNotebookDocumentParams) -> None:
        if ls.client_settings.run == RUN_ON_TYPE:
            ls.schedule(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def notebook_did_save(ls: DropoutLintServer, params: types.DidSaveNotebookDocumentParams) -> None:
        ls.opened_or_saved(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_did_close(ls: DropoutLintServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.clear(params.notebook_document.uri)

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier="dropout-lint", inter_file_dependencies=False, workspace_diagnostics=False),
    )
    async def pull_diagnostics(ls: DropoutLintServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        subject = ls.pulled_subject(params.text_document.uri)
        if subject is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        result_id = f"{subject.version}:{ls.settings_generation}"
        if params.previous_result_id == result_id:  # nothing to check: no save (onSave) or edit since
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        checked = await ls.check_in_background(subject)
        items = [] if checked is None else [to_lsp(checked, d, ls.encoding) for d in checked.findings_in(params.text_document.uri)]
        return types.RelatedFullDocumentDiagnosticReport(items=items, result_id=result_id)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: DropoutLintServer, params: types.DidChangeConfigurationParams) -> None:
        before = ls.client_settings
        if _apply_settings(ls, ls.initialization_options, params.settings) and ls.client_settings != before:
            ls.settings_generation += 1
            ls.checked.clear()
            # A client that pulls is told to pull again if it can be; one that cannot
            # gets the new findings at its next pull (pushing as well would show them
            # twice: clients keep pulled and pushed diagnostics apart).
            if ls.refreshes_pulled_diagnostics:
                ls.workspace_diagnostic_refresh(None)
            for uri in [*ls.workspace.text_documents, *ls.workspace.notebook_documents]:
                if ls.workspace.get_notebook_document(cell_uri=uri) is None:
                    ls.schedule(uri)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, code_actions.FIX_ALL_KIND],
            resolve_provider=True,
        ),
    )
    def code_action(ls: DropoutLintServer, params: types.CodeActionParams) -> Optional[list[types.CodeAction]]:
        checked = _current(ls, params.text_document.uri)
        if checked is None:
            return None
        only = [str(getattr(kind, "value", kind)) for kind in params.context.only] if params.context.only else None
        return code_actions.actions_for(
            checked,
            params.text_document.uri,
            params.range,
            only,
            ls.client_settings.unsafe_fixes,
            ls.resolves_code_actions,
            ls.encoding,
        )

    @server.feature(types.CODE_ACTION_RESOLVE)
    def code_action_resolve(ls: DropoutLintServer, action: types.CodeAction) -> types.CodeAction:
        checked = _current(ls, (action.data or {}).get("uri", ""))
        if checked is None:
            return action
        return code_actions.resolve(action, checked, ls.client_settings.unsafe_fixes, ls.encoding)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: DropoutLintServer, params: types.HoverParams) -> Optional[types.Hover]:
        checked = _current(ls, params.text_document.uri)
        if checked is None:
            return None
        line = params.position.line + 1
        codes = sorted(
            {
                d.code
                for d in checked.findings_in(params.text_document.uri)
                if d.line <= line <= d.end_line and d.code in RULES_BY_CODE
            }
        )
        texts = [text for text in (find_documented(code, ALL_RULES) for code in codes) if text]
        if not texts:
            return None
        return types.Hover(types.MarkupContent(ls.hover_kind, "\n\n---\n\n".join(texts)))

    @server.command(FIX_ALL_COMMAND)
    def apply_fix_all(ls: DropoutLintServer, uri: str) -> None:
        checked = _current(ls, uri)
        edit = None if checked is None else code_actions.fix_all_edit(checked, ls.client_settings.unsafe_fixes, ls.encoding)
        if edit is not None:
            ls.workspace_apply_edit(types.ApplyWorkspaceEditParams(edit, label="dropout-lint: fix all"))

    @server.command(SHOW_SETTINGS_COMMAND)
    def show_settings(ls: DropoutLintServer, uri: str) -> dict[str, Any]:
        subject = ls.subject(uri)
        path = subject.path if subject is not None else path_of(uris.to_fs_path(uri), ls.workspace.root_path, "untitled.py")
        try:
            return describe(path, ls.client_settings, ls.root)
        except ConfigError as error:
            return {"path": path, "error": str(error)}

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: DropoutLintServer, params: None) -> None:
        for task in ls.pending.values():
            task.cancel()
        ls.checker.shutdown(wait=False, cancel_futures=True)  # a check still running ends before the process

    return server


def _current(ls: DropoutLintServer, uri: str) -> Optional[Checked]:
    subject = ls.subject(uri) if uri else None
    return None if subject is None else ls.check_now(subject)


def _apply_settings(ls: DropoutLintServer, *raw: Any) -> bool:
    """Take the editor's settings; on a mistake, say so and keep the ones in force."""
    try:
        ls.client_settings = client_settings(*raw)
    except ConfigError as error:
        ls.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"dropout-lint: {error}"))
        return False
    logger.setLevel(ls.client_settings.logging_level)
    return True


def serve() -> int:
    """``dropout-lint server``: serve one editor over stdin and stdout until it exits."""
    server = build_server()
    logger.addHandler(ClientLog(server))
    logger.propagate = False
    server.start_io()
    return 0
