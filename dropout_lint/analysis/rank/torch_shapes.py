"""What torch's layers, functions and tensor methods do to the rank of a tensor.

Layers are looked up by class name (after ``torch_api.torch_nn_class`` has checked that
the name is torch's), functions and methods by name. Each answer is exact or ``None``;
the two documented assumptions are that conv and recurrent layers get batched input
when their input is unknown, and that ``squeeze(dim)`` removes that dim (else the call
would do nothing).

A tensor is known to be a batch (``Tensor.batch``) when a layer that only takes
batches made it (``BatchNorm2d``), when a conv or pooling layer got its batched rank,
and through operations that keep dim 0 where it is (``flatten(1)``, ``view(x.size(0),
-1)``, ``permute(0, ...)``, elementwise ops, ``Linear``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Protocol, Sequence

import libcst as cst

from ..call_arguments import Parameter, argument, bound_arg
from .values import Packed, Repeated, Tensor, TupleValue, Value, tensor_rank

ValueOf = Callable[[cst.BaseExpression], Value]


class Transfer(Protocol):
    """A layer's effect on rank. ``origin`` describes the layer, for ranks it sets."""

    def apply(self, value: Value, origin: str) -> Value: ...


@dataclass(frozen=True)
class KeepRank:
    def apply(self, value: Value, origin: str) -> Value:
        return value if isinstance(value, Tensor) else None


@dataclass(frozen=True)
class FixedRank:
    """Layers that only accept one rank of batch (``BatchNorm2d``: 4-D) return that rank."""

    rank: int

    def apply(self, value: Value, origin: str) -> Value:
        return Tensor(self.rank, origin, batch=origin)


@dataclass(frozen=True)
class Spatial:
    """Conv layers over ``dims`` spatial dims: (N, C, *spatial), or unbatched (C, *spatial)."""

    dims: int

    def apply(self, value: Value, origin: str) -> Value:
        if not isinstance(value, Tensor):
            return Tensor(self.dims + 2, origin, batch=origin)
        return _batched_at(value, self.dims + 2, origin)


@dataclass(frozen=True)
class SpatialKeepRank:
    """Pooling over ``dims`` spatial dims: the rank is kept, and input of the batched
    rank (N, C, *spatial) is a batch."""

    dims: int

    def apply(self, value: Value, origin: str) -> Value:
        return _batched_at(value, self.dims + 2, origin) if isinstance(value, Tensor) else None


def _batched_at(value: Tensor, batched_rank: int, origin: str) -> Tensor:
    if value.rank != batched_rank or value.batch is not None:
        return value
    return value.with_batch(origin)


@dataclass(frozen=True)
class AddDims:
    """``Embedding`` adds one dim; ``Unflatten`` adds ``len(sizes) - 1``."""

    count: int

    def apply(self, value: Value, origin: str) -> Value:
        rank = tensor_rank(value)
        return Tensor(rank + self.count, origin) if rank is not None else None


@dataclass(frozen=True)
class FlattenDims:
    start: int
    end: int

    def apply(self, value: Value, origin: str) -> Value:
        rank = flattened_rank(tensor_rank(value), self.start, self.end)
        if rank is None:
            return None
        return Tensor(rank, origin, batch=_batch_kept(value, self.start))


def _batch_kept(source: Value, first_changed_dim: Optional[int]) -> Optional[str]:
    """The source's batch evidence, when an operation leaves dim 0 where it is."""
    if not isinstance(source, Tensor) or first_changed_dim is None or first_changed_dim < 1:
        return None
    return source.batch


@dataclass(frozen=True)
class Recurrent:
    """``LSTM`` returns ``(out, (h, c))``, ``GRU``/``RNN`` ``(out, h)``; batched unless 2-D.

    A ``PackedSequence`` in gives one out, whose data is (steps, hidden). Of unknown input,
    the output is taken as a 3-D tensor, marked ``unless_packed``."""

    has_cell_state: bool

    def apply(self, value: Value, origin: str) -> Value:
        rank = tensor_rank(value)
        if isinstance(value, Packed):
            output: Value = Packed(Tensor(2, origin))
            hidden = Tensor(3, origin)
        elif rank is not None and rank not in (2, 3):
            return None
        else:
            output = Tensor(rank or 3, origin, unless_packed=rank is None)
            hidden = Tensor(rank or 3, origin)
        state = TupleValue((hidden, hidden)) if self.has_cell_state else hidden
        return TupleValue((output, state))


@dataclass(frozen=True)
class AttentionOutput:
    """``MultiheadAttention`` returns ``(output shaped like the query, weights)``."""

    def apply(self, value: Value, origin: str) -> Value:
        return TupleValue((value if isinstance(value, Tensor) else None, None))


def literal_int(node: Optional[cst.BaseExpression]) -> Optional[int]:
    """``3`` or ``-1`` written in the source, else None."""
    if isinstance(node, cst.Integer):
        return int(node.value, 0)
    if (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, cst.Integer)
    ):
        return -int(node.expression.value, 0)
    return None


def literal_bool(node: Optional[cst.BaseExpression]) -> Optional[bool]:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def _sequence_length(node: Optional[cst.BaseExpression]) -> Optional[int]:
    """The length of a tuple or list literal without ``*``, else None."""
    if isinstance(node, (cst.Tuple, cst.List)) and not any(
        isinstance(element, cst.StarredElement) for element in node.elements
    ):
        return len(node.elements)
    return None


def _value(arg: Optional[cst.Arg]) -> Optional[cst.BaseExpression]:
    return arg.value if arg is not None else None


def flattened_rank(rank: Optional[int], start: int, end: int) -> Optional[int]:
    """The rank after ``flatten(start, end)``; exact without the input rank when end is -1."""
    if rank is None:
        return start + 1 if end == -1 and start >= 0 else None
    if rank == 0:
        return 1
    start, end = start % rank if start < 0 else start, end % rank if end < 0 else end
    return rank - (end - start) if 0 <= start <= end < rank else None


def size_count(args: Sequence[cst.Arg]) -> Optional[int]:
    """How many sizes ``view(8, -1)`` / ``view((8, -1))`` / ``randn(8, 16)`` are given."""
    if any(arg.star for arg in args):
        return None
    positional = [arg.value for arg in args if arg.keyword is None]
    if len(positional) == 1:
        only = positional[0]
        return 1 if literal_int(only) is not None else _sequence_length(only)
    return len(positional) or None


# Layer classes of torch.nn, by what they do to the rank of their input.
_KEEP_RANK_LAYERS = frozenset(
    """
    Identity Linear LazyLinear Bilinear Dropout Dropout1d Dropout2d Dropout3d AlphaDropout
    FeatureAlphaDropout ReLU ReLU6 GELU SiLU Mish Tanh Sigmoid LeakyReLU ELU SELU CELU PReLU
    RReLU Hardswish Hardsigmoid Hardtanh Hardshrink Softshrink Softplus Softsign Tanhshrink
    Threshold GLU LogSigmoid Softmax LogSoftmax Softmin Softmax2d LayerNorm GroupNorm RMSNorm
    LocalResponseNorm CrossMapLRN2d InstanceNorm1d InstanceNorm2d
    InstanceNorm3d LazyInstanceNorm1d LazyInstanceNorm2d LazyInstanceNorm3d SyncBatchNorm
    ZeroPad1d ZeroPad2d
    ZeroPad3d ConstantPad1d ConstantPad2d ConstantPad3d ReflectionPad1d ReflectionPad2d
    ReflectionPad3d ReplicationPad1d ReplicationPad2d ReplicationPad3d CircularPad1d
    CircularPad2d CircularPad3d Upsample UpsamplingNearest2d UpsamplingBilinear2d
    PixelShuffle PixelUnshuffle ChannelShuffle TransformerEncoder TransformerEncoderLayer
    TransformerDecoder TransformerDecoderLayer
    """.split()
)
_FIXED_RANK_LAYERS = {
    "BatchNorm2d": 4,
    "LazyBatchNorm2d": 4,
    "BatchNorm3d": 5,
    "LazyBatchNorm3d": 5,
    "EmbeddingBag": 2,
}
_SPATIAL_LAYERS = {
    f"{prefix}{kind}{dims}d": dims
    for prefix in ("", "Lazy")
    for kind in ("Conv", "ConvTranspose")
    for dims in (1, 2, 3)
}
# Rank-keeping layers whose input of rank dims + 2 is a batch; BatchNorm1d takes only
# batches, (N, C) or (N, C, L), so both its ranks count.
_SPATIAL_KEEP_RANK_LAYERS = {
    **{
        f"{kind}{dims}d": dims
        for kind in ("MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "LPPool")
        for dims in (1, 2, 3)
    },
    "FractionalMaxPool2d": 2,
    "FractionalMaxPool3d": 3,
}
_BATCH_ONLY_LAYERS = frozenset({"BatchNorm1d", "LazyBatchNorm1d"})


@dataclass(frozen=True)
class BatchOnly:
    """Rank-keeping layers that only take batches: their output is one."""

    def apply(self, value: Value, origin: str) -> Value:
        if not isinstance(value, Tensor):
            return None
        return value if value.batch is not None else value.with_batch(origin)


def layer_transfer(class_name: str, call: cst.Call) -> Optional[Transfer]:
    """The effect of the torch.nn layer ``class_name`` built by ``call``, if known."""
    if class_name in _KEEP_RANK_LAYERS:
        return KeepRank()
    if class_name in _FIXED_RANK_LAYERS:
        return FixedRank(_FIXED_RANK_LAYERS[class_name])
    if class_name in _SPATIAL_LAYERS:
        return Spatial(_SPATIAL_LAYERS[class_name])
    if class_name in _SPATIAL_KEEP_RANK_LAYERS:
        return SpatialKeepRank(_SPATIAL_KEEP_RANK_LAYERS[class_name])
    if class_name in _BATCH_ONLY_LAYERS:
        return BatchOnly()
    if class_name in ("LSTM", "GRU", "RNN"):
        return Recurrent(has_cell_state=class_name == "LSTM")
    if class_name == "MultiheadAttention":
        return AttentionOutput()
    if class_name == "Embedding":
        return AddDims(1)
    if class_name == "Flatten":
        start = argument(call, Parameter("start_dim", 0))
        end = argument(call, Parameter("end_dim", 1))
        start_dim = literal_int(_value(start)) if start is not None else 1
        end_dim = literal_int(_value(end)) if end is not None else -1
        if start_dim is None or end_dim is None:
            return None
        return FlattenDims(start_dim, end_dim)
    if class_name == "Unflatten":
        sizes = _sequence_length(_value(argument(call, Parameter("unflattened_size", 1))))
        return AddDims(sizes - 1) if sizes is not None else None
    return None


# Functions and tensor methods that keep the rank of their input (or first argument).
_KEEP_RANK_OPERATIONS = frozenset(
    """
    relu relu_ relu6 gelu silu mish elu selu celu leaky_relu leaky_relu_ hardswish hardsigmoid
    hardtanh hardtanh_ sigmoid sigmoid_ tanh tanh_ softmax log_softmax softmin softplus
    softsign logsigmoid glu prelu rrelu threshold normalize layer_norm group_norm batch_norm
    instance_norm rms_norm local_response_norm dropout dropout_ dropout1d dropout2d dropout3d
    alpha_dropout feature_alpha_dropout pad interpolate upsample linear max_pool1d max_pool2d
    max_pool3d avg_pool1d avg_pool2d avg_pool3d adaptive_avg_pool1d adaptive_avg_pool2d
    adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d lp_pool1d
    lp_pool2d lp_pool3d exp log abs sqrt rsqrt neg square sin cos erf sign floor ceil round
    clamp clamp_ clip nan_to_num roll flip contiguous clone detach detach_ float half double
    bfloat16 int long bool to type_as cuda cpu requires_grad_ zero_ fill_ uniform_
    normal_ exp_ cumsum cumprod tril triu transpose swapaxes swapdims movedim t masked_fill
    masked_fill_ pixel_shuffle pixel_unshuffle channel_shuffle zeros_like ones_like
    randn_like rand_like empty_like full_like
    """.split()
)
# Rank-keeping operations that may move dim 0: a batch only while both dims are past it.
_DIM_MOVING_OPERATIONS = frozenset("transpose swapaxes swapdims movedim t".split())
# Elementwise binary operations: the result broadcasts, so its rank is the larger one.
_BROADCAST_OPERATIONS = frozenset(
    "add add_ sub sub_ mul mul_ div div_ pow pow_ maximum minimum true_divide".split()
)
_REDUCTIONS = frozenset(
    "mean sum amax amin std var prod nansum nanmean logsumexp argmax argmin all any".split()
)
_SIZED_CONSTRUCTORS = frozenset("randn rand zeros ones empty".split())
# Functions that build a tensor from nothing: their rank is "from", not "after", them.
CONSTRUCTORS = _SIZED_CONSTRUCTORS | frozenset(
    "full arange linspace logspace eye tensor as_tensor".split()
)
_SPATIAL_FUNCTIONS = {
    f"{kind}{dims}d": dims for kind in ("conv", "conv_transpose") for dims in (1, 2, 3)
}


def broadcast(first: Value, second: Value, second_node: cst.BaseExpression) -> Value:
    """Elementwise arithmetic: the larger rank, or the tensor's own with a number."""
    if isinstance(second_node, (cst.Integer, cst.Float)) or literal_int(second_node) is not None:
        return first if isinstance(first, Tensor) else None
    if isinstance(first, Tensor) and isinstance(second, Tensor):
        return first if first.rank >= second.rank else second
    return None


def _reduction(rank: Optional[int], name: str, args: Sequence[cst.Arg], origin: str) -> Value:
    dim = argument_value(args, "dim", 0)
    if dim is None:
        if any(arg.keyword is None or arg.keyword.value == "keepdim" for arg in args):
            return None
        return Tensor(0, origin)
    keepdim_arg = argument_value(args, "keepdim", 1)
    keepdim = literal_bool(keepdim_arg) if keepdim_arg is not None else False
    removed = 1 if literal_int(dim) is not None else _sequence_length(dim)
    if rank is None or keepdim is None or removed is None:
        return None
    if keepdim:
        return Tensor(rank, origin)
    return Tensor(rank - removed, origin) if rank >= removed else None


def _batch_first(
    name: str, source: Value, args: Sequence[cst.Arg], value_of: ValueOf
) -> Optional[str]:
    """The batch evidence ``x.view(x.size(0), -1)`` and ``x.permute(0, 2, 1)`` keep: dim 0
    stays first (its size read from a batch, or the dim itself)."""
    positional = [arg.value for arg in args if arg.keyword is None]
    if not positional:
        return None
    first = positional[0]
    if isinstance(first, (cst.Tuple, cst.List)) and len(positional) == 1 and first.elements:
        first = first.elements[0].value
    if name == "permute":
        return _batch_kept(source, 1) if literal_int(first) == 0 else None
    if name not in ("view", "reshape"):
        return None
    sized = _size_of_dim_zero(first)
    value = value_of(sized) if sized is not None else None
    return value.batch if isinstance(value, Tensor) else None


def _size_of_dim_zero(node: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """``x`` in ``x.size(0)``, ``x.shape[0]`` or ``x.size()[0]``."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        is_size = node.func.attr.value == "size" and len(node.args) == 1
        return node.func.value if is_size and literal_int(node.args[0].value) == 0 else None
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        index = node.slice[0].slice
        if not (isinstance(index, cst.Index) and literal_int(index.value) == 0):
            return None
        target = node.value
        if isinstance(target, cst.Attribute) and target.attr.value == "shape":
            return target.value
        if isinstance(target, cst.Call) and isinstance(target.func, cst.Attribute):
            is_size = target.func.attr.value == "size" and not target.args
            return target.func.value if is_size else None
    return None


def argument_value(
    args: Sequence[cst.Arg], keyword: str, position: int
) -> Optional[cst.BaseExpression]:
    """The expression given for a parameter, by keyword or position; None when absent."""
    arg = bound_arg(args, Parameter(keyword, position))
    return arg.value if arg is not None else None


def operation(
    name: str, source: Value, args: Sequence[cst.Arg], value_of: ValueOf, origin: str
) -> Value:
    """The result of the function or method ``name`` on ``source`` with ``args`` (the rest).

    ``origin`` describes the call, for ranks it sets; ranks it keeps keep their origin.
    """
    if any(arg.star for arg in args):
        return None
    rank = tensor_rank(source)
    if name in _DIM_MOVING_OPERATIONS and isinstance(source, Tensor):
        dims = (argument_value(args, "dim0", 0), argument_value(args, "dim1", 1))
        keeps_batch = all((literal_int(dim) or 0) > 0 for dim in dims)
        return source if keeps_batch else source.with_batch(None)
    if name in _KEEP_RANK_OPERATIONS:
        return source if isinstance(source, Tensor) else None
    if name in _BROADCAST_OPERATIONS:
        other = argument_value(args, "other", 0)
        return broadcast(source, value_of(other), other) if other is not None else None
    if name in ("view", "reshape", "expand", "repeat", "permute"):
        count = size_count(args)
        if count is None:
            return None
        return Tensor(count, origin, batch=_batch_first(name, source, args, value_of))
    if name in ("view_as", "reshape_as", "expand_as"):
        other = argument_value(args, "other", 0)
        target = value_of(other) if other is not None else None
        return Tensor(target.rank, origin) if isinstance(target, Tensor) else None
    if name == "flatten":
        start, end = argument_value(args, "start_dim", 0), argument_value(args, "end_dim", 1)
        start_dim = literal_int(start) if start is not None else 0
        end_dim = literal_int(end) if end is not None else -1
        if start_dim is None or end_dim is None:
            return None
        flat = flattened_rank(rank, start_dim, end_dim)
        if flat is None:
            return None
        return Tensor(flat, origin, batch=_batch_kept(source, start_dim))
    if name == "unflatten":
        sizes = _sequence_length(argument_value(args, "sizes", 1))
        return Tensor(rank + sizes - 1, origin) if rank is not None and sizes else None
    if name == "unsqueeze":
        dim = literal_int(argument_value(args, "dim", 0))
        if rank is None:
            return None
        return Tensor(rank + 1, origin, batch=_batch_kept(source, dim))
    if name == "squeeze":
        dim = argument_value(args, "dim", 0)
        removed = 1 if literal_int(dim) is not None else _sequence_length(dim)
        if rank is None or removed is None or rank < removed:
            return None
        return Tensor(rank - removed, origin, batch=_batch_kept(source, literal_int(dim)))
    if name in _REDUCTIONS:
        return _reduction(rank, name, args, origin)
    if name in ("max", "min"):
        dim = argument_value(args, "dim", 0)
        if dim is None and not args:
            return Tensor(0, origin)
        if literal_int(dim) is None or rank is None or rank == 0:
            return None
        if literal_bool(argument_value(args, "keepdim", 1)) is True:
            return TupleValue((Tensor(rank, origin), Tensor(rank, origin)))
        return TupleValue((Tensor(rank - 1, origin), Tensor(rank - 1, origin)))
    if name in ("chunk", "split", "tensor_split"):
        return Repeated(source) if isinstance(source, Tensor) else None
    if name == "unbind":
        return Repeated(Tensor(rank - 1, origin)) if rank else None
    return None


def _joined_rank(items: Value) -> Optional[int]:
    """The rank shared by the tensors of a list (torch requires it); None if unknown."""
    if isinstance(items, Repeated):
        return tensor_rank(items.item)
    if not isinstance(items, TupleValue):
        return None
    ranks = {item.rank for item in items.items if isinstance(item, Tensor)}
    return ranks.pop() if len(ranks) == 1 else None


def _nesting_depth(node: cst.BaseExpression) -> Optional[int]:
    """``[[1, 2], [3, 4]]`` is 2 deep; None when ragged or not literal."""
    if isinstance(node, (cst.Integer, cst.Float)) or literal_int(node) is not None:
        return 0
    if not isinstance(node, (cst.List, cst.Tuple)) or not node.elements:
        return None
    depths = {
        _nesting_depth(e.value) if isinstance(e, cst.Element) else None for e in node.elements
    }
    depth = depths.pop() if len(depths) == 1 else None
    return depth + 1 if depth is not None else None


def torch_function(
    name: str, args: Sequence[cst.Arg], value_of: ValueOf, origin: str
) -> Value:
    """The result of ``torch.<name>`` or ``torch.nn.functional.<name>`` called with ``args``."""
    if any(arg.star for arg in args):
        return None
    if name in _SIZED_CONSTRUCTORS:
        count = size_count([arg for arg in args if arg.keyword is None])
        return Tensor(count, origin) if count is not None else None
    if name == "full":
        count = _sequence_length(argument_value(args, "size", 0))
        return Tensor(count, origin) if count is not None else None
    if name in ("arange", "linspace", "logspace"):
        return Tensor(1, origin)
    if name == "eye":
        return Tensor(2, origin)
    if name in ("tensor", "as_tensor"):
        data = argument_value(args, "data", 0)
        depth = _nesting_depth(data) if data is not None else None
        return Tensor(depth, origin) if depth is not None else None
    if name in ("cat", "concat", "concatenate", "stack"):
        tensors = argument_value(args, "tensors", 0)
        rank = _joined_rank(value_of(tensors)) if tensors is not None else None
        if rank is None:
            return None
        return Tensor(rank + 1, origin) if name == "stack" else Tensor(rank, origin)
    source_node = argument_value(args, "input", 0)
    if source_node is None:
        return None
    source = value_of(source_node)
    rest = [arg for arg in args if arg.value is not source_node]
    if name in _SPATIAL_FUNCTIONS:
        return Spatial(_SPATIAL_FUNCTIONS[name]).apply(source, origin)
    if name in ("embedding", "one_hot"):
        return AddDims(1).apply(source, origin)
    if name == "permute":
        count = _sequence_length(argument_value(rest, "dims", 0))
        return Tensor(count, origin) if count is not None else None
    if name == "reshape":
        count = _sequence_length(argument_value(rest, "shape", 0))
        return Tensor(count, origin) if count is not None else None
    return operation(name, source, rest, value_of, origin)



def packed_sequence_function(
    name: str, args: Sequence[cst.Arg], value_of: ValueOf, called: str
) -> Value:
    """``torch.nn.utils.rnn``: packing a padded batch (``(T, B, *)`` or ``(B, T, *)``) or a
    list of ``(T_i, *)`` sequences gives data of rank ``len(*) + 1``; padding it back
    gives one rank more. ``called`` names the call, for the ranks it sets."""
    if any(arg.star for arg in args):
        return None
    if name == "pack_padded_sequence":
        source = argument_value(args, "input", 0)
        rank = tensor_rank(value_of(source)) if source is not None else None
        data = Tensor(rank - 1, f"in the `.data` of {called}") if rank and rank >= 2 else None
        return Packed(data)
    if name == "pack_sequence":
        sequences = argument_value(args, "sequences", 0)
        rank = _joined_rank(value_of(sequences)) if sequences is not None else None
        return Packed(Tensor(rank, f"in the `.data` of {called}") if rank else None)
    if name == "pad_packed_sequence":
        sequence = argument_value(args, "sequence", 0)
        packed = value_of(sequence) if sequence is not None else None
        padded: Value = None
        if isinstance(packed, Packed) and isinstance(packed.data, Tensor):
            padded = Tensor(packed.data.rank + 1, f"after {called}")
        elif isinstance(packed, Tensor) and packed.unless_packed:
            padded = Tensor(3, f"after {called}")  # a recurrent layer's packed output, padded
        return TupleValue((padded, Tensor(1, f"after {called}")))
    return None
