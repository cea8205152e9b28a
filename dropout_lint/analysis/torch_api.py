"""What dropout-lint knows about torch's dropout API, by qualified name.

Only names that resolve (through imports and aliases) to these count: a ``F.dropout``
from chainer or MXNet, or a local variable called ``dropout``, is never torch's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .call_arguments import Parameter

# The parameters every dropout function shares, where torch puts them.
INPUT = Parameter("input", 0)
RATE = Parameter("p", 1)
INPLACE = Parameter("inplace", 3)


@dataclass(frozen=True)
class DropoutFunction:
    """A functional dropout and where its mode argument goes."""

    qualified_name: str
    # ``training`` (``train`` in the ``torch.*`` forms), third after the input and the rate.
    mode: Parameter
    # The mode when the argument is left out; None when torch requires it.
    mode_default: Optional[bool]
    # The module that does the same job, for fixes (``None``: no module equivalent).
    module_class: Optional[str]
    inplace: bool = False

    @property
    def short_name(self) -> str:
        return self.qualified_name.rsplit(".", 1)[1]

    @property
    def spelled(self) -> str:
        """How users usually write it: ``F.dropout2d``, ``torch.dropout``."""
        if self.qualified_name.startswith("torch.nn.functional."):
            return f"F.{self.short_name}"
        return self.qualified_name


def _functional(name: str, module_class: str, default: bool) -> DropoutFunction:
    return DropoutFunction(
        f"torch.nn.functional.{name}", Parameter("training", 2), default, module_class
    )


def _aten(name: str, module_class: Optional[str], inplace: bool = False) -> DropoutFunction:
    return DropoutFunction(f"torch.{name}", Parameter("train", 2), None, module_class, inplace)


DROPOUT_FUNCTIONS: dict[str, DropoutFunction] = {
    function.qualified_name: function
    for function in (
        _functional("dropout", "Dropout", True),
        _functional("dropout1d", "Dropout1d", True),
        _functional("dropout2d", "Dropout2d", True),
        _functional("dropout3d", "Dropout3d", True),
        _functional("alpha_dropout", "AlphaDropout", False),
        _functional("feature_alpha_dropout", "FeatureAlphaDropout", False),
        _aten("dropout", "Dropout"),
        _aten("alpha_dropout", "AlphaDropout"),
        _aten("feature_dropout", None),
        _aten("feature_alpha_dropout", "FeatureAlphaDropout"),
        _aten("dropout_", "Dropout", inplace=True),
        _aten("alpha_dropout_", "AlphaDropout", inplace=True),
        _aten("feature_dropout_", None, inplace=True),
        _aten("feature_alpha_dropout_", "FeatureAlphaDropout", inplace=True),
    )
}

DROPOUT_MODULES = (
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "FeatureAlphaDropout",
)

# torch.nn.Dropout2d, or the same class reached through torch.nn.modules.dropout.
_DROPOUT_MODULE = re.compile(
    r"^torch\.nn\.(?:modules\.(?:dropout\.)?)?(?P<name>" + "|".join(DROPOUT_MODULES) + r")$"
)
# Any class of torch.nn (or its modules package) is an nn.Module, but for these.
_TORCH_NN_CLASS = re.compile(r"^torch\.nn\.(?:modules\.(?:\w+\.)?)?(?P<name>[A-Z]\w*)$")
_NOT_MODULES = frozenset(
    {"Parameter", "UninitializedParameter", "UninitializedBuffer", "Buffer"}
)
# The public attributes of an ``nn.ModuleDict``: keys it refuses (``add_module`` raises
# ``KeyError: attribute 'items' already exists``), with every name starting with ``_``.
MODULE_DICT_ATTRIBUTES = frozenset(
    """
    T_destination add_module apply bfloat16 buffers call_super_init children clear compile
    cpu cuda double dump_patches eval extra_repr float forward get_buffer get_extra_state
    get_parameter get_submodule half ipu items keys load_state_dict modules mtia
    named_buffers named_children named_modules named_parameters parameters pop
    register_backward_hook register_buffer register_forward_hook register_forward_pre_hook
    register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
    register_parameter register_state_dict_post_hook register_state_dict_pre_hook
    requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train
    training type update values xpu zero_grad
    """.split()
)
# The name a fix's `import torch.nn as nn` binds: added only where no statement uses it.
TORCH_NN_ALIAS = "nn"
# Modules with no parameters or buffers besides dropout: registering one keeps a state dict.
STATELESS_MODULES = frozenset({"Identity"})
# Module base classes from outside torch.nn, by qualified name.
OTHER_MODULE_BASES = frozenset(
    {
        "torch.jit.ScriptModule",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "lightning.pytorch.core.LightningModule",
        "lightning.pytorch.core.module.LightningModule",
        "pytorch_lightning.LightningModule",
        "pytorch_lightning.core.LightningModule",
        "pytorch_lightning.core.module.LightningModule",
        "transformers.PreTrainedModel",
        "transformers.modeling_utils.PreTrainedModel",
    }
)


def dropout_function(qualified_name: str) -> Optional[DropoutFunction]:
    return DROPOUT_FUNCTIONS.get(qualified_name)


def dropout_module(qualified_name: str) -> Optional[str]:
    """The class name (``Dropout2d``) if this names one of torch's dropout modules."""
    match = _DROPOUT_MODULE.match(qualified_name)
    return match.group("name") if match else None


def torch_nn_class(qualified_name: str) -> Optional[str]:
    """The class name (``Conv2d``) if this names a class of ``torch.nn``, else None."""
    match = _TORCH_NN_CLASS.match(qualified_name)
    return match.group("name") if match else None


def is_module_base(qualified_name: str) -> bool:
    """Whether a class deriving from this name is an ``nn.Module``."""
    if qualified_name in OTHER_MODULE_BASES:
        return True
    match = _TORCH_NN_CLASS.match(qualified_name)
    return bool(match) and match.group("name") not in _NOT_MODULES


@dataclass(frozen=True)
class AttentionFunction:
    """A fused attention function with a dropout rate, and how its mode is given: by a
    ``training`` argument (``mode``), or not at all (the rate must be 0 in eval)."""

    qualified_name: str
    rate: Parameter
    mode: Optional[Parameter] = None

    @property
    def short_name(self) -> str:
        return self.qualified_name.rsplit(".", 1)[1]

    @property
    def spelled(self) -> str:
        return f"F.{self.short_name}"


ATTENTION_FUNCTIONS: dict[str, AttentionFunction] = {
    function.qualified_name: function
    for function in (
        AttentionFunction(
            "torch.nn.functional.scaled_dot_product_attention", Parameter("dropout_p", 4)
        ),
        AttentionFunction(
            "torch.nn.functional.multi_head_attention_forward",
            Parameter("dropout_p", 10),
            Parameter("training", 13),
        ),
    )
}


def attention_function(qualified_name: str) -> Optional[AttentionFunction]:
    return ATTENTION_FUNCTIONS.get(qualified_name)
