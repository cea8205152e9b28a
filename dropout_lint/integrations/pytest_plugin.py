"""pytest plugin: ``pytest --dropout-audit`` audits every module forward each test runs.

Registered through the ``pytest11`` entry point, so installing dropout-lint makes the option
available; without it the plugin does nothing and torch is never imported here. With it,
each test's call runs under :func:`dropout_lint.runtime.audit` without a model (every
``nn.Module``), and the findings are listed in a terminal summary section with the tests
that produced them. ``--dropout-audit=strict`` also fails each of those tests.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from dropout_lint.runtime import Finding

REPORT = "report"
STRICT = "strict"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dropout-lint")
    group.addoption(
        "--dropout-audit",
        nargs="?",
        const=REPORT,
        default=None,
        choices=(REPORT, STRICT),
        help="audit every nn.Module forward in each test and list dropout findings; "
        "'strict' also fails the tests that have some (needs torch)",
    )


def pytest_configure(config: pytest.Config) -> None:
    mode = config.getoption("dropout_audit")
    if mode is not None:
        config.pluginmanager.register(DropoutAudit(strict=mode == STRICT), "dropout-audit")


class DropoutAudit:
    """The active plugin: audits each test's call and collects what it found."""

    def __init__(self, strict: bool) -> None:
        from dropout_lint.runtime import audit

        self._audit = audit
        self.strict = strict
        # Each distinct finding, with the ids of the tests that produced it, in order.
        self.findings: dict[Finding, list[str]] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        auditor = self._audit()
        try:
            with auditor:
                result = yield
        finally:
            for finding in auditor.report.findings:
                self.findings.setdefault(finding, []).append(item.nodeid)
        if self.strict and auditor.report.findings:
            found = "\n".join(str(finding) for finding in auditor.report.findings)
            pytest.fail(f"dropout audit: {found}", pytrace=False)
        return result

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        writer = terminalreporter
        writer.section("dropout audit")
        if not self.findings:
            writer.write_line("no findings")
            return
        start = terminalreporter.config.invocation_params.dir
        for finding, tests in self.findings.items():
            where = _relative(finding.filename, start)
            writer.write_line(
                f"{where}:{finding.lineno}: {finding.kind}: {finding.message}  [{_listed(tests)}]"
            )
        count = len(self.findings)
        writer.write_line(f"{count} finding{'s' if count != 1 else ''}")


def _relative(filename: str, start: Path) -> str:
    """The path as pytest writes them: relative to where it was started, if it is below."""
    path = Path(filename)
    return str(path.relative_to(start)) if path.is_relative_to(start) else filename


def _listed(test_ids: list[str], shown: int = 3) -> str:
    """The first few test ids, and how many more."""
    more = len(test_ids) - shown
    return ", ".join(test_ids[:shown]) + (f", and {more} more" if more > 0 else "")
