"""Watch a live model's forward passes for dropout that silently does the wrong thing.

Eager mode only. A ``TorchFunctionMode`` sees every functional dropout call (torch's, and
this package's), forward hooks keep the stack of the model's modules that are running, and
each problem is reported once per source line. Leaving the ``with`` block removes the hooks.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Callable

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.hooks import RemovableHandle

from dropout_lint.analysis.channel_dropout import CHANNEL_DROPOUT
from dropout_lint.analysis.torch_api import DROPOUT_FUNCTIONS

from . import functional
from .checks import shape_message

__all__ = ["AuditReport", "DropoutAuditError", "Finding", "audit", "audit_forward"]

ACTIVE_IN_EVAL = "active-in-eval"
WRONG_RANK = "wrong-rank"


@dataclass(frozen=True)
class Finding:
    """One problem at one call site, seen while the model ran."""

    kind: str
    # Qualified name of the innermost running module ("" for the model itself); None when the
    # call ran outside the model.
    module: str | None
    message: str
    filename: str
    lineno: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}: {self.kind}: {self.message}"


class DropoutAuditError(RuntimeError):
    """Raised by a strict audit at its first finding, or by :func:`audit_forward`."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("\n".join(str(finding) for finding in findings))
        self.findings = findings


@dataclass
class AuditReport:
    """What an :func:`audit` saw; filled while the ``with`` block runs."""

    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class _Watched:
    """How to read a dropout function's arguments: where ``training`` and ``p`` go."""

    name: str
    mode_keyword: str
    mode_position: int | None
    mode_default: bool | None
    # For torch's channel dropout: the layer it stands for, whose rank is checked.
    channel_layer: str | None = None


def _resolve(qualified_name: str) -> Callable[..., Any] | None:
    """The torch object for a qualified name; None when this torch version lacks it."""
    target: Any = torch
    for part in qualified_name.split(".")[1:]:
        target = getattr(target, part, None)
    return target


def _watched_functions() -> dict[Callable[..., Any], _Watched]:
    watched: dict[Callable[..., Any], _Watched] = {}
    for name, spec in DROPOUT_FUNCTIONS.items():
        target = _resolve(name)
        if target is None:
            continue
        layer = spec.module_class if name.startswith("torch.nn.functional.") else None
        watched[target] = _Watched(
            spec.spelled,
            spec.mode_keyword,
            spec.mode_position,
            spec.mode_default,
            layer if layer in CHANNEL_DROPOUT else None,
        )
    for ours in (functional.dropout1d, functional.dropout2d, functional.dropout3d):
        watched[ours] = _Watched(
            f"dropout_lint.runtime.{ours.__name__}", "training", None, None
        )
    return watched


def _argument(
    args: tuple, kwargs: dict, name: str, position: int | None, default: Any
) -> Any:
    if name in kwargs:
        return kwargs[name]
    if position is not None and len(args) > position:
        return args[position]
    return default


_SKIPPED_DIRS = (
    os.path.dirname(torch.__file__) + os.sep,
    os.path.dirname(__file__) + os.sep,
)


def _call_site() -> tuple[str, int]:
    """The first frame outside torch and this package: the line that asked for dropout."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_SKIPPED_DIRS):
        frame = frame.f_back
    if frame is None:
        return "<unknown>", 0
    return frame.f_code.co_filename, frame.f_lineno


def _describe(name: str | None, modules_root: nn.Module) -> str:
    if name is None:
        return "outside the model"
    return f"'{name}'" if name else f"the model ({type(modules_root).__name__})"


class _DropoutWatch(TorchFunctionMode):
    """Inspects each watched dropout call, then runs it unchanged."""

    def __init__(self, auditor: audit) -> None:
        super().__init__()
        self.auditor = auditor

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Any,
        args: tuple = (),
        kwargs: dict | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        watched = self.auditor.watched.get(func)
        if watched is not None:
            self.auditor.inspect(watched, args, kwargs)
        return func(*args, **kwargs)


class audit:
    """Context manager: ``with audit(model) as report: model(x)``, then read ``report.findings``.

    Reports functional dropout that is active while its enclosing module is in eval mode, and
    torch's channel dropout getting a rank it misreads. ``strict=True`` raises
    :class:`DropoutAuditError` at the first finding. The model is left exactly as it was.
    """

    def __init__(self, model: nn.Module, *, strict: bool = False) -> None:
        self.model = model
        self.strict = strict
        self.report = AuditReport()
        self.watched = _watched_functions()
        self._names = {id(module): name for name, module in model.named_modules()}
        self._running: list[nn.Module] = []
        self._handles: list[RemovableHandle] = []
        self._seen: set[tuple[str, str | None, str, int]] = set()
        self._mode = _DropoutWatch(self)

    def __enter__(self) -> AuditReport:
        for module in self.model.modules():
            self._handles.append(module.register_forward_pre_hook(self._enter_module))
            self._handles.append(
                module.register_forward_hook(self._leave_module, always_call=True)
            )
        self._mode.__enter__()
        return self.report

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._mode.__exit__(exc_type, exc, traceback)
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._running.clear()

    def _enter_module(self, module: nn.Module, args: Any) -> None:
        self._running.append(module)

    def _leave_module(self, module: nn.Module, args: Any, output: Any) -> None:
        if self._running and self._running[-1] is module:
            self._running.pop()

    def inspect(self, watched: _Watched, args: tuple, kwargs: dict) -> None:
        """Record what is wrong with one dropout call, once per site."""
        module = self._running[-1] if self._running else None
        name = None if module is None else self._names.get(id(module))
        if watched.channel_layer is not None and args:
            spec = CHANNEL_DROPOUT[watched.channel_layer]
            shape = tuple(args[0].shape)
            if len(shape) != spec.batched_rank:
                self._record(
                    WRONG_RANK, name, lambda: shape_message(spec, shape, False)
                )
        training = _argument(
            args,
            kwargs,
            watched.mode_keyword,
            watched.mode_position,
            watched.mode_default,
        )
        p = _argument(args, kwargs, "p", 1, 0.5)
        if module is not None and not module.training and training is True and p > 0:
            where = _describe(name, self.model)
            self._record(
                ACTIVE_IN_EVAL,
                name,
                lambda: (
                    f"{watched.name}(p={p}) drops values while {where} is in eval mode; "
                    f"pass training=self.training (or use the nn.Dropout module)"
                ),
            )

    def _record(self, kind: str, name: str | None, message: Callable[[], str]) -> None:
        """Add a finding unless this site had one. A dropout layer is one site wherever it
        is called from; a functional call is one site per source line."""
        filename, lineno = _call_site()
        module = self._running[-1] if self._running else None
        if isinstance(module, nn.modules.dropout._DropoutNd):
            key: tuple[str, str | None, str, int] = (kind, name, "", 0)
        else:
            key = (kind, name, filename, lineno)
        if key in self._seen:
            return
        self._seen.add(key)
        finding = Finding(kind, name, message(), filename, lineno)
        self.report.findings.append(finding)
        if self.strict:
            raise DropoutAuditError([finding])


def audit_forward(model: nn.Module, *args: Any, **kwargs: Any) -> Any:
    """Run ``model(*args, **kwargs)`` under :func:`audit`; raise if anything was found.

    Made for tests: the error lists every finding. Returns the model's output.
    """
    with audit(model) as report:
        output = model(*args, **kwargs)
    if report.findings:
        raise DropoutAuditError(report.findings)
    return output
