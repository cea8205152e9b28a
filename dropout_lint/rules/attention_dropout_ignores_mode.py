"""DRP004: a fused attention's dropout rate that stays on after ``eval()``."""

from __future__ import annotations

import ast
import re

from ..analysis.torch_api import ATTENTION_FUNCTIONS, AttentionFunction, attention_function
from ..engine.rule import Invalid, Rule, Valid
from ..prefilter.byte_scan import ArgumentText, CallSite
from ..prefilter.call_sites import CallSites
from ..prefilter.code_blocks import Method
from ..prefilter.reduction import ClassReads
from ..prefilter.syntax_scan import LocatedCall

# A rate written as zero (`0`, `0.`, `0.0`, `0e0`): the bytes say it cannot drop.
_ZERO = re.compile(rb"[ \t\r\n]*0*(?:\.0*)?(?:[eE][+-]?\d+)?[ \t\r\n]*")
# A name, as an assignment's target (ASCII: Python reads other letters as their NFKC form).
_NAME = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
# What `_is_tied_ifexp` takes, in its plainest spellings only: `<name> if <x.>training else
# 0.0` and `0.0 if not <x.>training else <name>` (a name or number, dotted).
_TIED_VALUE = re.compile(
    rb"[\w.]+[ \t\f]+if[ \t\f]+(?:\w+[ \t\f]*\.[ \t\f]*)*training[ \t\f]+else[ \t\f]+(?:0(?:\.0*)?|\.0+)"
    rb"|(?:0(?:\.0*)?|\.0+)[ \t\f]+if[ \t\f]+not[ \t\f]+(?:\w+[ \t\f]*\.[ \t\f]*)*training[ \t\f]+else[ \t\f]+[\w.]+"
)
# `p if self.training else 0.0` and `0.0 if not self.training else p`, exactly: rates
# visit_Call finds tied to the mode, so the bytes may rule them out. `p` holds no `if`
# (`a if b else p if self.training else 0.0` is tied to `b`), `lambda` or `:=`.
_TIED_RATE = re.compile(
    rb"(?:(?!\b(?:if|lambda)\b|:=)[^\n])*?[ \t\r\n]if[ \t\r\n]+[\w.]*\btraining[ \t\r\n]+else[ \t\r\n]+0*\.?0*[ \t\r\n]*"
    rb"|[ \t\r\n]*0*\.?0*[ \t\r\n]+if[ \t\r\n]+not[ \t\r\n]+[\w.]*\btraining[ \t\r\n]+else[^\n]*"
)


class AttentionDropoutIgnoresMode(Rule):
    code = "DRP004"
    name = "attention-dropout-ignores-mode"
    summary = "Attention `dropout_p` not tied to the mode: it stays on after `eval()`"
    explanation = """
## What it does
Checks, in the methods of an `nn.Module`, for `F.scaled_dot_product_attention` (by any
alias or import path) given a `dropout_p` that can be nonzero and is not tied to the
mode, and for `F.multi_head_attention_forward` given no `training=` argument.

A rate is tied to the mode when it is written `p if self.training else 0.0` (directly or
through a local variable assigned only so), when the call only runs under a mode guard
(`if self.training:`, as DRP001 reads them), or when it comes from a parameter of the
method (the caller decides, as for DRP001).

## Why is this bad?
The fused attention functions know nothing of the module they are called from:
`scaled_dot_product_attention` applies its `dropout_p` whenever it is nonzero, and
`multi_head_attention_forward` defaults to `training=True`. Attention dropout then stays
on after `model.eval()`: inference is noisy and validation scores are wrong. The
pattern often hides in a fast path (`if self.fused_attn:`) beside a slow path that uses
a registered `nn.Dropout`, which does follow the mode; timm fixed it in its models by
writing `dropout_p=self.attn_drop.p if self.training else 0.`.

## Example
```python
class Attention(nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop)
```

## Use instead
```python
class Attention(nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.0
        )
```

## Fix safety
The fix for `scaled_dot_product_attention` rewrites the rate as `<p> if self.training
else 0.0`. It is safe: outputs in training mode are unchanged (the same rate, the same
random draws); in eval mode attention dropout is off, which is the point. There is no
fix for `multi_head_attention_forward` (pass `training=self.training`), nor in a
static method, where there is no module to ask for its mode.

## References
- [torch.nn.functional.scaled_dot_product_attention](https://pytorch.org/docs/stable/generated/torch.nn.functional.scaled_dot_product_attention.html)
- [torch.nn.Module.eval](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval)
"""
    # The two names themselves: `_attention` alone is in nearly every transformer file.
    looks_for = (
        CallSites(
            names=tuple((function.short_name, function) for function in ATTENTION_FUNCTIONS.values()),
            lookup=attention_function,
            accepts=lambda site, function: _may_fire_on(site, function)
            and not (isinstance(site, LocatedCall) and _rate_assigned_tied(site, function)),
            accepts_in_method=lambda site, function, method: not _rate_assigned_tied_in_code(
                site, function, method
            ),
            in_method=True,
        ),
    )
    # The guards of the methods calling the site's method; the fix rewrites the call alone.
    class_reads = ClassReads(callers=True)

    valid = (
        Valid(
            """
import torch.nn as nn
import torch.nn.functional as F

class Attention(nn.Module):
    def forward(self, q, k, v, mask=None):
        x = F.scaled_dot_product_attention(q, k, v, dropout_p=self.p if self.training else 0.0)
        x = F.scaled_dot_product_attention(q, k, v, mask, 0.0 if not self.training else self.p)
        dropout_p = self.p if self.training else 0.0
        x = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
        x = F.scaled_dot_product_attention(q, k, v)
        x = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
        if self.training:
            x = F.scaled_dot_product_attention(q, k, v, dropout_p=self.p)
        return x
"""
        ),
        Valid(
            """
import torch.nn.functional as F

def sdpa_attention_forward(module, query, key, value, dropout=0.0):
    return F.scaled_dot_product_attention(query, key, value, dropout_p=dropout)
"""
        ),
        Valid(
            """
import torch.nn as nn
from torch.nn.functional import scaled_dot_product_attention as sdpa

class CrossAttention(nn.Module):
    def forward(self, q, k, v, dropout_p: float):
        return sdpa(q, k, v, dropout_p=dropout_p)
"""
        ),
    )
    invalid = (
        Invalid(
            """
import torch.nn as nn
import torch.nn.functional as F

class Attention(nn.Module):
    def __init__(self, dim, attn_drop=0.1):
        super().__init__()
        self.qkv = nn.Linear(dim, dim * 3)
        self.attn_drop = attn_drop

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop)  # expect
""",
            fixed="""
import torch.nn as nn
import torch.nn.functional as F

class Attention(nn.Module):
    def __init__(self, dim, attn_drop=0.1):
        super().__init__()
        self.qkv = nn.Linear(dim, dim * 3)
        self.attn_drop = attn_drop

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop if self.training else 0.0)  # expect
""",
        ),
        Invalid(
            """
import torch
import torch.nn as nn

class Block(nn.Module):
    def forward(self, x, w, b, out_w, out_b):
        return torch.nn.functional.multi_head_attention_forward(  # expect
            x, x, x, 64, 8, w, b, None, None, False, 0.1, out_w, out_b
        )
"""
        ),
    )


def _may_fire_on(site: CallSite, function: AttentionFunction) -> bool:
    """Whether the call may drop in eval, as far as its arguments can be read."""
    if site.arguments is None:
        return True
    if site.has_unpacking:
        return False
    if function.mode is not None:
        if site.argument(function.mode) is not None:
            return False
    rate = site.argument(function.rate)
    return rate is not None and _ZERO.fullmatch(rate.value) is None and not _reads_mode(rate)


def _rate_assigned_tied(site: LocatedCall, function: AttentionFunction) -> bool:
    """A rate that is a local variable only ever assigned ``p if self.training else 0.0``
    in its method, by CPython's tree (as ``_tied_to_mode`` reads it with libcst)."""
    rate = site.argument(function.rate)
    name = rate.value.strip().decode("latin-1") if rate is not None else ""
    if not name.isidentifier() or site.method is None:
        return False
    values = [
        node.value
        for node in ast.walk(site.method)
        if isinstance(node, ast.Assign)
        and any(isinstance(target, ast.Name) and target.id == name for target in node.targets)
    ]
    return bool(values) and all(_is_tied_ifexp(value) for value in values)


def _rate_assigned_tied_in_code(site: CallSite, function: AttentionFunction, method: Method) -> bool:
    """:func:`_rate_assigned_tied`, read from the method's code: every assignment of the
    rate's name there is ``p if self.training else 0.0`` (or its mirror), plainly written."""
    rate = site.argument(function.rate)
    name = rate.value.strip() if rate is not None else b""
    values = method.assigned_values(name) if _NAME.fullmatch(name) else None
    return bool(values) and all(_TIED_VALUE.fullmatch(value) for value in values)  # type: ignore[union-attr]


def _is_tied_ifexp(value: ast.expr) -> bool:
    if not isinstance(value, ast.IfExp):
        return False
    test = value.test
    if _is_training_flag(test):
        return _is_literal_zero(value.orelse)
    negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
    return negated and _is_training_flag(test.operand) and _is_literal_zero(value.body)  # type: ignore[attr-defined]


def _is_training_flag(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "training") or (
        isinstance(node, ast.Name) and node.id == "training"
    )


def _is_literal_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == 0


def _reads_mode(rate: ArgumentText) -> bool:
    """``p if self.training else 0.0`` (or its mirror), by its text."""
    return _TIED_RATE.fullmatch(rate.value) is not None
