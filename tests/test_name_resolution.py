"""NameResolver gives the answers of libcst's ScopeProvider, on tricky code, on every file of
fixtures/ and examples/, and on generated modules."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from libcst.helpers import get_full_name_for_node
from libcst.metadata import GlobalScope, MetadataWrapper, ScopeProvider

from dropout_lint.analysis.name_resolution import NameResolver
from dropout_lint.analysis.node_search import walk

ROOT = Path(__file__).resolve().parent.parent

# The nodes whose qualified names libcst can give (a read, or a node with a dotted name).
_ASKED = (
    cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.FunctionDef, cst.ClassDef,
    cst.Decorator, cst.SimpleString, cst.ConcatenatedString,
)  # fmt: skip
_STATEMENTS = (cst.SimpleStatementLine, cst.BaseCompoundStatement)


def _libcst_answers(module: cst.Module) -> dict:
    scopes = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)
    names = sorted({node.value for node in scopes if isinstance(node, cst.Name)})

    def qualified(node: cst.CSTNode) -> list[str]:
        scope = scopes.get(node)
        return sorted({q.name for q in scope.get_qualified_names_for(node)}) if scope is not None else []

    def bindings(statement: cst.CSTNode) -> dict:
        scope = scopes[statement]
        return {
            name: sorted((id(getattr(b, "node", None)), isinstance(b.scope, GlobalScope)) for b in scope[name])
            for name in names
        }

    return _answers(module, names, qualified, bindings)


def _our_answers(module: cst.Module) -> dict:
    resolver = NameResolver(module)
    names = sorted(resolver.names())

    def bindings(statement: cst.CSTNode) -> dict:
        scope = resolver.scope_of(statement)
        assert scope is not None
        return {name: sorted((id(b.node), b.scope.is_module) for b in scope.lookup(name)) for name in names}

    return _answers(module, names, lambda node: sorted(resolver.qualified_names(node)), bindings)


def _answers(module: cst.Module, names: list[str], qualified, bindings) -> dict:
    """What the callers ask, keyed by where each node is: the qualified names of every node
    that may have them, the identifiers seen, and the bindings of each of them that each
    statement sees."""
    nodes = list(walk(module))
    return {
        "names": names,
        "qualified": {
            (index, type(node).__name__, _label(node)): qualified(node)
            for index, node in enumerate(nodes)
            if isinstance(node, _ASKED)
        },
        "bindings": {
            (index, type(node).__name__): bindings(node)
            for index, node in enumerate(nodes)
            if isinstance(node, _STATEMENTS)
        },
    }


def _label(node: cst.CSTNode) -> str:
    """What the node says, for a reader of a failure: the dotted name it has, if any."""
    return get_full_name_for_node(node) or ""


def assert_same_answers(source: str) -> None:
    module = cst.parse_module(source)
    assert _our_answers(module) == _libcst_answers(module)


TRICKY = {
    "imports": """
import torch
import torch.nn as nn
import torch.nn.functional as F
import os.path, os
from . import sibling
from .. import parent as P
from .pkg.mod import thing as T, other
from foo import *
x = torch.nn.functional.dropout(F.dropout(nn.functional.dropout(1)))
y = os.path.join, sibling.a, P.b, T.c, other.d, star_name, torch.cuda.is_available()
""",
    "imports in try, except and if": """
try:
    import apex.normalization.fused as fused
    from torch.nn import functional as G
except ImportError:
    import torch.nn as fused
    import chainer.functions as G
if fused:
    import torch.nn.functional as H
else:
    from mxnet import nd as H
fused.Dropout(G.dropout(H.dropout(1)))
""",
    "flow-insensitive across scopes, ordered within one": """
import torch.nn.functional as F
def use():
    return F.dropout(late_global), earlier
late_global = 1
def shadow():
    a = F.dropout(1)
    F = 3
    return F, a
def read_before_bind():
    print(late)
    late = 2
x = x + 1
torch = torch
aug = 0
aug += aug
""",
    "parameters, defaults, annotations, decorators, bases": """
import torch.nn as nn
import torch.nn.functional as F
def decorate(f): return f
@decorate
def f(a: nn.Module, b=F.dropout, *args: int, c: "nn.Linear" = nn, **kw) -> F.relu:
    return a, b, args, c, kw, F
class Net(nn.Module, metaclass=type):
    F = 4
    layer = nn.Dropout(0.1)
    def forward(self, x, p=F, q=layer):
        y = F.dropout(x)
        return y, layer, p, q, Net
""",
    "class scope hidden from methods": """
v = 0
class Outer:
    v = 1
    w = v
    class Inner:
        w = v
        def m(self):
            return v, w, Inner, Outer
    def n(self):
        u = v
        v = 2
        return u
""",
    "global and nonlocal": """
def outer():
    x = 1
    class C:
        x = 2
        def m(self):
            nonlocal x
            x = 3
            return x
    def f():
        global x, fresh
        x = 4
        fresh = 5
    return x, fresh
global everywhere
""",
    "comprehensions, lambdas, walrus": """
import os
items = [F for F in range(3)] + [x for x in x] + [y for x in items for y in x if y]
table = {k: v for k, v in os.environ.items() if (n := len(k))}
gen = list(z.real for z in items)
fn = lambda a, b=os: a.path + b.sep + (lambda: a)()
print(n, k, v, z)
""",
    "del, with, for, except, match": """
import torch
with open("x") as (fh, gh), torch.no_grad():
    fh.read()
for i, (j, *rest) in enumerate([]):
    i.j
else:
    rest
try:
    pass
except (ValueError, TypeError) as err:
    err.args
del fh, torch.x
del i
match fh:
    case torch.Tensor(p=q) as mm if q:
        mm.q
    case [1, *others]:
        others
    case {"a": aa, **kw}:
        aa, kw
""",
    "chains through calls, subscripts and other expressions": """
import torch.nn.functional as F
ff = (lambda: F)().dropout
gg = (F.dropout)(1)
hh = F.dropout(1).view(2).x
ii = ("a" + "b").join
jj = "abc".upper()
kk = F[0].dropout
ll = x[F.dropout].y
print(f"{F.dropout} {F}")
a = b = c = F
a.b.c.d = 1
""",
    "string annotations and typing": """
import torch.nn as nn
import typing
import typing as t
from typing import cast, TypeVar, NewType, Literal, List, Optional
from typing_extensions import Literal as L2
X = TypeVar("X", bound="nn.Module")
Y = NewType("Y", "nn.Linear")
z = cast("nn.Dropout", None)
w = t.cast(List["nn.ReLU"], None)
v: Literal["nn", "torch.x"] = "nn"
u: L2["q"] = "q"
def k(a: typing.List["nn.Module"], b: "List['nn.Tensor']", c: "bad syntax (", d: "") -> "Optional[nn.Module]":
    pass
typing.cast("nn.Module", 1)
x: "Literal['a']" = 1
y: "nn." "Module" = 2
""",
    "names spelled like typing's": """
class typing:
    cast = print
    x = cast("nn.Module")
def cast(x, y): ...
cast("nn", 1)
Literal = dict
a: Literal["nn"] = {}
""",
    "type parameters": """
import torch.nn as nn
type Alias[T: nn.Module] = list[T]
def gen[T, *Ts, **P](x: T) -> T:
    return x
class Box[T](Base[T]):
    def get(self) -> T: ...
""",
}


@pytest.mark.parametrize("source", TRICKY.values(), ids=TRICKY.keys())
def test_tricky_code(source: str) -> None:
    assert_same_answers(source)


@pytest.mark.parametrize(
    "path",
    sorted((*ROOT.glob("fixtures/**/*.py"), *ROOT.glob("examples/**/*.py"))),
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_repository_files(path: Path) -> None:
    assert_same_answers(path.read_text(encoding="utf-8"))


KNOWN = {
    "an alias": ("import torch.nn.functional as F", "F.dropout", {"torch.nn.functional.dropout"}),
    "a dotted import": ("import torch.nn", "torch.nn.Dropout", {"torch.nn.Dropout"}),
    "a relative import": ("from . import layers as L", "L.Drop", {".layers.Drop"}),
    "a parameter shadows in its function only": (
        "import torch.nn.functional as F\ndef f(F):\n    return F.dropout",
        "F.dropout",
        {"torch.nn.functional.dropout"},
    ),
    "a class's names are not its methods'": (
        "F = 1\nclass A:\n    import torch.nn.functional as F\n    def f(self):\n        return F",
        "A.f",
        {"A.f"},
    ),
    "both branches of a try": (
        "try:\n    import torch.nn.functional as F\nexcept ImportError:\n    import chainer.functions as F",
        "F.dropout",
        {"torch.nn.functional.dropout", "chainer.functions.dropout"},
    ),
    "a local": ("dropout = 1", "dropout", {"dropout"}),
    "a builtin": ("", "len", {"builtins.len"}),
}


@pytest.mark.parametrize("before, expression, expected", KNOWN.values(), ids=KNOWN.keys())
def test_known_answers(before: str, expression: str, expected: set[str]) -> None:
    """The qualified names of ``expression``, the last line after ``before``."""
    module = cst.parse_module(f"{before}\n{expression}\n")
    last = module.body[-1].body[0].value  # type: ignore[attr-defined]
    assert NameResolver(module).qualified_names(last) == expected


def test_reads_see_earlier_bindings_of_their_scope() -> None:
    module = cst.parse_module(
        "import torch.nn.functional as F\ndef f():\n    a = F.dropout\n    F = 1\n    return F\n"
    )
    resolver = NameResolver(module)
    imported, *uses = [node for node in walk(module) if isinstance(node, cst.Name) and node.value == "F"]
    assert resolver.scope_of(imported) is None  # an import's names are not analysed
    assert [resolver.qualified_names(node) for node in uses] == [
        {"torch.nn.functional"},  # read before the function binds F: the module's
        {"f.<locals>.F"},  # the binding itself
        {"f.<locals>.F"},
    ]


# Generated modules: statements over a few names, nested in functions, classes and
# comprehensions, so that bindings shadow, precede and follow each other.
_NAMES = st.sampled_from(["a", "b", "F", "nn", "torch", "typing", "cast", "List", "Literal"])


def _expressions() -> st.SearchStrategy[str]:
    leaves = st.one_of(
        _NAMES,
        st.builds("{}.{}.{}".format, _NAMES, _NAMES, _NAMES),
        st.sampled_from(['"nn.Module"', "1", '"a"']),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds("{}({})".format, inner, inner),
            st.builds("{}[{}]".format, _NAMES, inner),
            st.builds("{}({}).{}".format, inner, inner, _NAMES),
            st.builds("[{} for {} in {} if {}]".format, inner, _NAMES, inner, inner),
            st.builds("(lambda {}={}: {})".format, _NAMES, inner, inner),
            st.builds("({} := {})".format, _NAMES, inner),
        ),
        max_leaves=4,
    )


_IMPORTS = st.sampled_from([
    "import torch", "import torch.nn as nn", "import torch.nn.functional as F", "from torch import nn",
    "import typing", "from typing import cast, List, Literal", "from . import a", "from .b import F as a",
])  # fmt: skip


def _block(depth: int) -> st.SearchStrategy[list[str]]:
    expression = _expressions()
    simple = st.one_of(
        _IMPORTS,
        st.builds("{} = {}".format, _NAMES, expression),
        st.builds("{}: {} = {}".format, _NAMES, expression, expression),
        st.builds("{} += {}".format, _NAMES, expression),
        st.builds("del {}".format, _NAMES),
        st.builds("global {}".format, _NAMES),
        expression,
    )
    statement = st.builds(lambda line: [line], simple)
    if depth > 0:
        body = _block(depth - 1)
        statement = st.one_of(
            statement,
            st.builds(lambda name, param, default, lines: _compound(f"def {name}({param}={default}):", lines),
                      _NAMES, _NAMES, expression, body),
            st.builds(lambda name, base, lines: _compound(f"class {name}({base}):", lines),
                      _NAMES, expression, body),
            st.builds(lambda target, items, lines: _compound(f"for {target} in {items}:", lines),
                      _NAMES, expression, body),
            st.builds(lambda name, lines: _compound(f"def {name}():", ["nonlocal a", *lines]), _NAMES, body)
            .map(lambda lines: _compound("def outer():", ["a = 1", *lines])),
        )  # fmt: skip
    blocks = st.lists(statement, min_size=1, max_size=4)
    return blocks.map(lambda statements: [line for lines in statements for line in lines])


def _compound(header: str, body: list[str]) -> list[str]:
    return [header, *("    " + line for line in body)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_block(2))
def test_generated_modules(lines: list[str]) -> None:
    assert_same_answers("\n".join(lines) + "\n")
