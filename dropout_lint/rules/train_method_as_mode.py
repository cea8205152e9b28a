"""DRP002: ``self.train`` (a bound method) used as the train/eval mode."""

from __future__ import annotations

import ast
import re
from typing import Optional

import libcst as cst

from ..analysis.call_arguments import argument
from ..analysis.instance_parameter import ast_instance_parameter_of
from ..analysis.module_classes import Method, ModuleClasses
from ..analysis.torch_api import dropout_function
from ..engine.diagnostics import Diagnostic, Fix
from ..engine.rule import Invalid, Rule, Valid
from ..fixes.node_edits import NodeEdits
from ..prefilter.byte_scan import ByteScan, NameAttributeRead
from ..prefilter.syntax_scan import SyntaxScan

_MODE_KEYWORDS = ("training", "train")
# What may come right before an expression that is a test, an operand of `and`, `or` or
# `not`, or a call's positional argument (or the call's parenthesised expression).
_TEST_OPENERS = frozenset(("if", "elif", "while", "assert", "and", "or", "not", "(", ","))


class TrainMethodAsMode(Rule):
    code = "DRP002"
    name = "train-method-as-mode"
    summary = "`self.train` is the bound method `nn.Module.train`, not the mode: use `self.training`"
    explanation = """
## What it does
Checks for `self.train` used as a train/eval flag in the methods of an `nn.Module`: as a
condition (`if self.train:`, `x if self.train else y`, `not self.train`) or as the mode
argument of a call (`training=self.train`).

## Why is this bad?
`self.train` is the method `nn.Module.train`, and a bound method is always truthy: code
meant for "training only" runs in eval mode too. Given to torch's dropout functions as
`training=`, it raises `TypeError` on the first call. The mode is the attribute
`self.training`.

Classes that assign an attribute of their own called `train` (`self.train = train`) are
left alone: there `self.train` is whatever they stored.

## Example
```python
class Net(nn.Module):
    def forward(self, x):
        if self.train:
            x = x + torch.randn_like(x) * 0.1
        return F.dropout(x, 0.5, training=self.train)
```

## Use instead
```python
class Net(nn.Module):
    def forward(self, x):
        if self.training:
            x = x + torch.randn_like(x) * 0.1
        return F.dropout(x, 0.5, training=self.training)
```

## Fix safety
The fix replaces `self.train` with `self.training`. It is safe: the code then does what
it was written to do, and only in eval mode does its behaviour change.

## References
- [torch.nn.Module.train](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.train)
"""
    # `train` not called: a call's `(` follows on the same line (a line break there may
    # end the statement: `assert self.train` then `(x)`). `may_fire` looks for the dot.
    trigger = re.compile(rb"train\b(?![ \t\f]*\()")

    valid = (
        Valid(
            """
import torch.nn as nn

class Net(nn.Module):
    def forward(self, x):
        self.train()
        self.train(False)
        return x if self.training else -x
"""
        ),
        Valid(
            """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self, train):
        super().__init__()
        self.train = train

    def forward(self, x):
        return x if self.train else -x
"""
        ),
        Valid(
            """
class Loader:
    def __iter__(self):
        if self.train:
            yield 1
"""
        ),
    )
    invalid = (
        Invalid(
            """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def forward(self, x):
        if self.train:  # expect
            x = x * 2
        return F.dropout(x, 0.5, training=self.train)  # expect
""",
            fixed="""
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def forward(self, x):
        if self.training:  # expect
            x = x * 2
        return F.dropout(x, 0.5, training=self.training)  # expect
""",
        ),
        Invalid(
            """
import torch

class Net(torch.nn.Module):
    def forward(self, x):
        return torch.dropout(x, 0.5, self.train)  # expect
""",
            fixed="""
import torch

class Net(torch.nn.Module):
    def forward(self, x):
        return torch.dropout(x, 0.5, self.training)  # expect
""",
        ),
    )

    @classmethod
    def may_fire(cls, scan: ByteScan) -> bool:
        """Only ``<name>.train`` in code can fire, as a test or a call's argument: after
        a test's keyword, ``(``, ``,`` or a mode keyword's ``=``, or before ``and``/``or``."""
        reads = scan.name_attribute_reads("train")
        return reads is None or any(_may_be_mode(read) for read in reads)

    @classmethod
    def sites(cls, scan: SyntaxScan) -> list[ast.AST]:
        """The same reads, by CPython's tree: of the method's own instance, used as a
        mode, in a class that stores no ``train`` of its own."""
        return [
            node
            for node in scan.nodes()
            if isinstance(node, ast.Attribute)
            and node.attr == "train"
            and isinstance(node.value, ast.Name)
            and _may_be_mode_use(node, scan)
        ]

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value != "train" or not isinstance(node.value, cst.Name):
            return
        classes = self.context.classes
        method = classes.enclosing_method(node)
        if method is None or method.self_name != node.value.value:
            return
        use = self._use_as_mode(node, classes)
        if use is None or _sets_own_train(method, classes):
            return
        self.report(
            node,
            f"`{method.self_name}.train` is the bound method `nn.Module.train`, not the mode: "
            f"{use}; use `{method.self_name}.training`",
            Fix(f"Replace `{method.self_name}.train` with `{method.self_name}.training`"),
        )

    def _use_as_mode(self, node: cst.Attribute, classes: ModuleClasses) -> Optional[str]:
        """How ``node`` is used as a mode, in words, or None if it is not."""
        parent = classes.parent(node)
        if isinstance(parent, cst.Arg):
            call = classes.parent(parent)
            if not isinstance(call, cst.Call):
                return None
            function = self.resolve_name(call.func, dropout_function)
            if function is not None and argument(
                call, function.mode
            ) is parent:
                return f"`{function.spelled}` raises TypeError when given it"
            if parent.keyword is not None and parent.keyword.value in _MODE_KEYWORDS:
                return "it is always truthy, so this runs in eval mode too"
            return None
        is_test = (
            isinstance(parent, (cst.If, cst.IfExp, cst.While, cst.Assert)) and parent.test is node
        ) or (
            isinstance(parent, cst.BooleanOperation)
            or (isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not))
        )
        return "it is always truthy, so this runs in eval mode too" if is_test else None

    def node_edits(self, diagnostic: Diagnostic) -> NodeEdits:
        edits = NodeEdits()
        edits.replace(diagnostic.node, diagnostic.node.with_changes(attr=cst.Name("training")))
        return edits


def _may_be_mode(read: NameAttributeRead) -> bool:
    """Whether the tokens around a read allow one of the uses ``_use_as_mode`` reports."""
    keyword, previous = read.before
    return (
        previous in _TEST_OPENERS
        or (previous == "=" and keyword in _MODE_KEYWORDS)
        or read.after in ("and", "or")
    )


def _may_be_mode_use(node: ast.Attribute, scan: SyntaxScan) -> bool:
    """visit_Attribute's test on CPython's tree; a positional argument of any call that
    may be a dropout function's counts as its mode."""
    method = scan.method_of(node)
    owner = scan.parent(method) if method is not None else None
    if method is None or ast_instance_parameter_of(method) != node.value.id:  # type: ignore[attr-defined]
        return False
    if any(_stores_train(c) for c in scan.classes_in_hierarchy(owner)):  # type: ignore[arg-type]
        return False
    parent = scan.parent(node)
    if isinstance(parent, ast.keyword):
        return parent.arg in _MODE_KEYWORDS
    if isinstance(parent, ast.Call):
        return node in parent.args and any(
            dropout_function(name) for name in scan.possible_names(parent.func)
        )
    return (
        isinstance(parent, (ast.If, ast.IfExp, ast.While, ast.Assert)) and parent.test is node
    ) or isinstance(parent, ast.BoolOp) or (
        isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)
    )


def _stores_train(classdef: ast.ClassDef) -> bool:
    """``_assigns_train`` on CPython's tree."""
    for node in ast.walk(classdef):
        if isinstance(node, ast.Assign) and any(map(_is_train_target_node, node.targets)):
            return True
        if isinstance(node, ast.AnnAssign) and _is_train_target_node(node.target):
            return True
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name == "train"
            and any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)
        ):
            return True
    return False


def _is_train_target_node(target: ast.expr) -> bool:
    if isinstance(target, ast.Attribute):
        return target.attr == "train"
    return isinstance(target, ast.Name) and target.id == "train"


def _sets_own_train(method: Method, classes: ModuleClasses) -> bool:
    """Whether the class (or a base in this file) stores its own ``train`` attribute."""
    return any(_assigns_train(c) for c in classes.classes_in_hierarchy(method.owner))


def _assigns_train(classdef: cst.ClassDef) -> bool:
    finder = _TrainAssignmentFinder()
    classdef.visit(finder)
    return finder.found


class _TrainAssignmentFinder(cst.CSTVisitor):
    """Finds ``self.train = ...``, ``train = ...`` in the class body, or a ``train`` property."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.found |= _is_train_target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.found |= _is_train_target(node.target)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value == "train" and any(
            isinstance(d.decorator, cst.Name) and d.decorator.value == "property"
            for d in node.decorators
        ):
            self.found = True


def _is_train_target(target: cst.BaseExpression) -> bool:
    if isinstance(target, cst.Attribute):
        return target.attr.value == "train"
    return isinstance(target, cst.Name) and target.value == "train"
