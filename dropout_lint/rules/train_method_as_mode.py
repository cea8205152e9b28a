"""DRP002: ``self.train`` (a bound method) used as the train/eval mode."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis.call_arguments import argument
from ..analysis.module_classes import Method, ModuleClasses
from ..analysis.torch_api import dropout_function
from ..engine.diagnostics import Diagnostic, Fix
from ..engine.rule import Invalid, Rule, Valid
from ..fixes.node_edits import NodeEdits
from ..prefilter.attribute_reads import AttributeReads

# What the rule looks for, once: the byte gate, the syntax gate and the visitor read it.
TRAIN_READS = AttributeReads("train", keywords=("training", "train"), lookup=dropout_function)


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
    looks_for = (TRAIN_READS,)

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

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value != TRAIN_READS.attribute or not isinstance(node.value, cst.Name):
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
        """How ``node`` is used as a mode, in words, or None if it is not: the uses
        ``TRAIN_READS`` states, confirmed (a positional argument must be the mode's)."""
        parent = classes.parent(node)
        if isinstance(parent, cst.Arg):
            call = classes.parent(parent)
            if not isinstance(call, cst.Call):
                return None
            function = self.resolve_name(call.func, TRAIN_READS.lookup)
            if function is not None and argument(
                call, function.mode
            ) is parent:
                return f"`{function.spelled}` raises TypeError when given it"
            if parent.keyword is not None and TRAIN_READS.is_keyword(parent.keyword.value):
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
