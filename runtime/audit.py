"""Watch a live model's forward passes for dropout that silently does the wrong thing.

Eager mode only. A ``TorchFunctionMode`` sees every functional dropout and batch norm call
(torch's, and this package's), forward hooks keep the stack of the model's modules that are
running, and each problem is reported once per site. A forward that ran in eval mode with
grad enabled gets an autograd hook on its output, which reports if a backward pass reaches
it. Leaving the ``with`` block removes the hooks.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from types import CodeType, FrameType, FunctionType, TracebackType
from typing import Any, Callable, Iterator, Optional

import torch
from torch import nn
from torch.nn.modules.module import (
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from torch.overrides import TorchFunctionMode
from torch.utils.hooks import RemovableHandle

from dropout_lint.analysis.call_arguments import Parameter, bound_value
from dropout_lint.analysis.torch_api import DROPOUT_FUNCTIONS, RATE

from . import functional
from .checks import CHANNEL_DROPOUT, shape_message

__all__ = ["AuditReport", "DropoutAuditError", "Finding", "audit", "audit_forward"]

ACTIVE_IN_EVAL = "active-in-eval"
WRONG_RANK = "wrong-rank"
TRAINED_IN_EVAL = "trained-in-eval"


@dataclass(frozen=True)
class Finding:
    """One problem at one call site, seen while the model ran."""

    kind: str
    # Qualified name of the innermost running module (the class name for the model itself);
    # None when the call ran outside the model.
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
    """How to read a watched function's arguments: where ``training`` and ``p`` go."""

    name: str
    mode: Parameter
    mode_default: bool | None
    # For torch's channel dropout: the layer it stands for, whose rank is checked.
    channel_layer: str | None = None
    # Batch norm has no ``p``; with ``training=False`` it uses the running statistics.
    batch_norm: bool = False


# torch.nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, ...)
_BATCH_NORM = _Watched("F.batch_norm", Parameter("training", 5), False, batch_norm=True)


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
            spec.mode,
            spec.mode_default,
            layer if layer in CHANNEL_DROPOUT else None,
        )
    for ours in (functional.dropout1d, functional.dropout2d, functional.dropout3d):
        watched[ours] = _Watched(
            f"dropout_lint.runtime.{ours.__name__}", Parameter("training", None), None
        )
    watched[torch.nn.functional.batch_norm] = _BATCH_NORM
    return watched


_SKIPPED_DIRS = (
    os.path.dirname(torch.__file__) + os.sep,
    os.path.dirname(__file__) + os.sep,
)


def _user_frame() -> Optional[FrameType]:
    """The first frame outside torch and this package: the user's line that asked for it."""
    frame: Optional[FrameType] = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_SKIPPED_DIRS):
        frame = frame.f_back
    return frame


def _call_site() -> tuple[str, int]:
    frame = _user_frame()
    if frame is None:
        return "<unknown>", 0
    return frame.f_code.co_filename, frame.f_lineno


# Calls a function; its code is given the file, line and name of the user's frame.
_FORWARDING_CODE: CodeType = next(
    constant
    for constant in compile(
        "def call(func, args, kwargs): return func(*args, **kwargs)", "<audit>", "exec"
    ).co_consts
    if isinstance(constant, CodeType)
)


class _UserLineCalls:
    """Run torch functions from a frame that stands for the user's line.

    A warning from C++ is attributed to the running Python frame, and torch's Python
    warnings with ``stacklevel=2`` to their caller: under the audit, both would be the mode's
    ``__torch_function__``. Called through a one-line function whose code names the user's
    file and line and whose globals are the user's module, they point where they would
    without the audit, and the user's warning filters and once-per-line registry apply.
    """

    def __init__(self) -> None:
        self._callers: dict[tuple[CodeType, int], Callable[..., Any]] = {}

    def __call__(self, func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        frame = _user_frame()
        if frame is None:
            return func(*args, **kwargs)
        key = (frame.f_code, frame.f_lineno)
        caller = self._callers.get(key)
        if caller is None:
            code = _FORWARDING_CODE.replace(
                co_filename=frame.f_code.co_filename,
                co_firstlineno=frame.f_lineno,
                co_name=frame.f_code.co_name,
            )
            caller = self._callers[key] = FunctionType(code, frame.f_globals)
        return caller(func, args, kwargs)


def _describe(module: nn.Module | None, name: str | None, root: nn.Module | None) -> str:
    if module is None:
        return "outside the model"
    return f"the model ({name})" if module is root else f"'{name}'"


def _output_tensors(output: Any) -> Iterator[torch.Tensor]:
    """The tensors in a forward's output: a tensor, or tuples, lists and dicts of them."""
    if isinstance(output, torch.Tensor):
        yield output
    elif isinstance(output, (tuple, list)):
        for item in output:
            yield from _output_tensors(item)
    elif isinstance(output, dict):
        for item in output.values():
            yield from _output_tensors(item)


@dataclass
class _EvalForward:
    """What ran in eval mode during one outermost forward with grad enabled: the modules
    whose dropout did nothing and whose batch norm used running statistics."""

    dropout: list[str] = field(default_factory=list)
    batch_norm: list[str] = field(default_factory=list)

    def note(self, watched: _Watched, where: str) -> None:
        found = self.batch_norm if watched.batch_norm else self.dropout
        if where not in found:
            found.append(where)

    def __bool__(self) -> bool:
        return bool(self.dropout or self.batch_norm)

    def describe(self) -> str:
        parts = []
        for what, wheres in (("dropout", self.dropout), ("batch norm", self.batch_norm)):
            if wheres:
                shown = ", ".join(wheres[:3]) + (", ..." if len(wheres) > 3 else "")
                parts.append(f"{what} in {shown}")
        return " and ".join(parts)


class _DropoutWatch(TorchFunctionMode):
    """Inspects each watched call, then runs every call unchanged, from the user's line."""

    def __init__(self, auditor: audit) -> None:
        super().__init__()
        self.auditor = auditor
        self.calls = _UserLineCalls()

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
        return self.calls(func, args, kwargs)


class audit:
    """Context manager: ``with audit(model) as report: model(x)``, then read ``report.findings``.

    Reports functional dropout that is active while its enclosing module is in eval mode,
    torch's channel dropout getting a rank it misreads, and a backward pass through a forward
    that ran in eval mode (dropout off, batch norm on running statistics). ``strict=True``
    raises :class:`DropoutAuditError` at the first finding. The model is left exactly as it was.

    ``audit()`` without a model watches every module's forward, through torch's global module
    hooks; names are then qualified in the outermost module running.
    """

    def __init__(self, model: nn.Module | None = None, *, strict: bool = False) -> None:
        self.model = model
        self.strict = strict
        self.report = AuditReport()
        self.watched = _watched_functions()
        # Qualified names by module id, made on first use: for the model, or (without one)
        # for the outermost module of the forward running.
        self._names: dict[int, str] = {}
        self._running: list[nn.Module] = []
        self._handles: list[RemovableHandle] = []
        self._seen: set[tuple[str, str | None, str, int]] = set()
        self._mode = _DropoutWatch(self)
        self._in_eval = _EvalForward()
        self._active = False

    def __enter__(self) -> AuditReport:
        if self.model is None:
            self._handles.append(register_module_forward_pre_hook(self._enter_module))
            self._handles.append(
                register_module_forward_hook(self._leave_module, always_call=True)
            )
        else:
            for module in self.model.modules():
                self._handles.append(module.register_forward_pre_hook(self._enter_module))
                self._handles.append(
                    module.register_forward_hook(self._leave_module, always_call=True)
                )
        self._mode.__enter__()
        self._active = True
        return self.report

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._active = False
        self._mode.__exit__(exc_type, exc, traceback)
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._running.clear()

    def _root(self) -> nn.Module | None:
        """The module names are qualified in: the model, or the outermost module running."""
        if self.model is not None:
            return self.model
        return self._running[0] if self._running else None

    def _name(self, module: nn.Module) -> str | None:
        """The module's qualified name in the root (the class name for the root itself);
        None when it is not in the audited model."""
        root = self._root()
        if not self._names and root is not None:
            self._names = {id(inner): name for name, inner in root.named_modules()}
            self._names[id(root)] = type(root).__name__
        return self._names.get(id(module))

    def _enter_module(self, module: nn.Module, args: Any) -> None:
        if not self._running:
            self._in_eval = _EvalForward()
            if self.model is None:
                self._names = {}
        self._running.append(module)

    def _leave_module(self, module: nn.Module, args: Any, output: Any) -> None:
        if self._running and self._running[-1] is module:
            if len(self._running) == 1 and self._in_eval and not module.training:
                self._watch_backward(module, output)
            self._running.pop()

    def _watch_backward(self, module: nn.Module, output: Any) -> None:
        """Report ``trained-in-eval`` if a backward pass reaches this eval-mode forward.

        Only reached with grad enabled (else nothing was noted) and only while the site has
        no finding yet; the hook itself reads no tensor data.
        """
        name = self._name(module)
        filename, lineno = _call_site()
        key = (TRAINED_IN_EVAL, name, filename, lineno)
        if key in self._seen:
            return
        outputs = [tensor for tensor in _output_tensors(output) if tensor.requires_grad]
        if not outputs:
            return
        where = _describe(module, name, self._root())
        lost = self._in_eval.describe()

        def on_backward(grad: torch.Tensor) -> None:
            if self._active:
                self._add(
                    key,
                    (filename, lineno),
                    lambda: (
                        f"backward pass through a forward of {where} that ran in eval mode "
                        f"({lost} ran as at inference); call model.train() before the "
                        "training step, or run this forward under torch.no_grad()"
                    ),
                )

        for tensor in outputs:
            tensor.register_hook(on_backward)

    def inspect(self, watched: _Watched, args: tuple, kwargs: dict) -> None:
        """Record what is wrong with one watched call, once per site."""
        module = self._running[-1] if self._running else None
        name = None if module is None else self._name(module)
        if watched.channel_layer is not None and args:
            spec = CHANNEL_DROPOUT[watched.channel_layer]
            shape = tuple(args[0].shape)
            if len(shape) != spec.batched_rank:
                self._record(
                    WRONG_RANK, name, lambda: shape_message(spec, shape, False)
                )
        training = bound_value(args, kwargs, watched.mode, watched.mode_default)
        if module is None:
            return
        p = None if watched.batch_norm else bound_value(args, kwargs, RATE, 0.5)
        if training is False and (p is None or p > 0) and torch.is_grad_enabled():
            self._in_eval.note(watched, _describe(module, name, self._root()))
        if p is not None and p > 0 and not module.training and training is True:
            self._record(
                ACTIVE_IN_EVAL,
                name,
                lambda: (
                    f"{watched.name}(p={p}) drops values while "
                    f"{_describe(module, name, self._root())} is in eval mode; "
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
        self._add(key, (filename, lineno), message)

    def _add(
        self,
        key: tuple[str, str | None, str, int],
        site: tuple[str, int],
        message: Callable[[], str],
    ) -> None:
        if key in self._seen:
            return
        self._seen.add(key)
        finding = Finding(key[0], key[1], message(), *site)
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
