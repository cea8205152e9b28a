"""DRP030's visitor on libcst's tree. The rule, with its documentation, examples and
gates, is :mod:`dropout_lint.rules.model_left_in_eval_mode`."""

from __future__ import annotations

import ast

import libcst as cst

from ...analysis.mode_flow import LostMode, ModeFlow
from ...engine.rule_visitor import RuleVisitor
from ...engine.source_text import split_lines
from ..model_left_in_eval_mode import ModelLeftInEvalMode


class ModelLeftInEvalModeVisitor(ModelLeftInEvalMode, RuleVisitor):
    def visit_Module(self, node: cst.Module) -> None:
        # The same reading of CPython's tree as ``sites``, of the statements libcst sees.
        code = self.context.code
        self._lines = split_lines(code)
        self._lost = {
            (found.change.call.lineno, found.change.call.col_offset): found
            for found in ModeFlow(
                ast.parse(code), self.context.path, self.context.mode_summaries, code
            ).lost_modes()
        }

    def visit_Call(self, node: cst.Call) -> None:
        if not self._lost:
            return
        start = self.context.positions[node].start
        line = self._lines[start.line - 1]
        found = self._lost.get((start.line, len(line[: start.column].encode("utf-8"))))
        if found is not None:
            self.report(node, _message(found))


def _message(found: LostMode) -> str:
    change = found.change
    receiver = change.receiver
    step = ast.unparse(found.step.func)
    if change.helper is None:
        what = f"`{ast.unparse(change.call)}` leaves `{receiver}` in eval mode"
    else:
        where = f"line {change.line}"
        if change.helper_path is not None:
            where += f" of {change.helper_path}"
        what = (
            f"`{change.helper}(...)` leaves `{receiver}` in eval mode "
            f"(the mode is lost at {where}, in `{change.helper}`)"
        )
    return (
        f"{what}, and the loop's next `{step}()` (line {found.step.lineno}) runs without "
        f"`{receiver}.train()`; call `{receiver}.train()` at the top of the loop body"
    )
