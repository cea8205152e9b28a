"""The gate is conservative: when it says a rule cannot fire, the rule, run on the parsed
file without any gate, finds nothing. Checked on every fixture, example and rule example,
and on generated calls; and it does turn away the files that cannot fire."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dropout_lint.engine.diagnostics import Diagnostic
from dropout_lint.engine.lint import LintOptions, check_module, parse
from dropout_lint.engine.rule import Rule
from dropout_lint.prefilter.byte_scan import ByteScan
from dropout_lint.prefilter.call_sites import CallSites
from dropout_lint.prefilter.stages import byte_stage
from dropout_lint.rules import ALL_RULES, RULES_BY_CODE

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    path
    for folder in ("fixtures", "examples")
    for path in (ROOT / folder).rglob("*.py")
    if not path.name.endswith(".fixed.py")
)
RULE_EXAMPLES = [
    (rule.code, index, example.code)
    for rule in ALL_RULES
    for index, example in enumerate((*rule.valid, *rule.invalid))
]


def gate_says_may_fire(rule: type[Rule], data: bytes) -> bool:
    return bool(rule.trigger.search(data)) and rule.may_fire(ByteScan(data))


def findings_without_gate(rule: type[Rule], data: bytes) -> list[tuple[int, str]]:
    """What the rule reports on the parsed file, every gate bypassed."""
    module = parse(data, "<gate test>")
    assert not isinstance(module, Diagnostic), module.message
    found = check_module(module, "<gate test>", [rule], LintOptions(rules=[rule]))
    return [(d.line, d.code) for d in found]


def assert_conservative(data: bytes) -> None:
    for rule in ALL_RULES:
        if not gate_says_may_fire(rule, data):
            assert findings_without_gate(rule, data) == [], rule.code


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_gate_is_conservative_on_fixtures_and_examples(path: Path) -> None:
    assert_conservative(path.read_bytes())


@pytest.mark.parametrize("code, index, source", RULE_EXAMPLES, ids=lambda v: str(v)[:12])
def test_gate_is_conservative_on_rule_examples(code: str, index: int, source: str) -> None:
    assert_conservative(source.encode())


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if r.invalid], ids=lambda r: r.code)
def test_gate_lets_every_invalid_example_through(rule: type[Rule]) -> None:
    for example in rule.invalid:
        assert gate_says_may_fire(rule, example.code.encode())


WELL_WRITTEN = b"""
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim, drop=0.1):
        super().__init__()
        self.dropout = nn.Dropout(drop)
        self.drop_path = nn.AlphaDropout(drop) if drop else nn.Identity()

    def forward(self, x):
        # A comment with F.dropout in it, (not a call).
        x = self.dropout(x)
        x = F.dropout(x, p=self.p, training=self.training)
        x = F.dropout(
            x,
            self.p,  # the rate
            self.training,
        )
        return nn.functional.dropout(x, p=0.1, training=self.training, inplace=False)

    def train(self, mode=True):
        super().train(mode)
        self.dropout.train(mode)
"""


def test_well_written_module_is_never_parsed() -> None:
    assert byte_stage(WELL_WRITTEN, ALL_RULES) == []


@pytest.mark.parametrize(
    "line, code",
    [
        ("x = F.dropout(x, 0.5)", "DRP001"),
        ("x = F.dropout(x, f\"{a['b']}\")", "DRP001"),  # unreadable: may fire, the rule decides
        ("x = F.dropout(x, 0.1)  # training=self.training", "DRP001"),
        ("x = nn.functional.dropout(x, training=True)", "DRP003"),
        ("x = nn.Dropout(0.2)(x)", "DRP020"),
        ("x = (nn.Dropout(0.2))(x)", "DRP020"),
        ("x = x if self.train else -x", "DRP002"),
        ("assert self.train\n        (x)", "DRP002"),
    ],
)
def test_gate_lets_candidates_through(line: str, code: str) -> None:
    source = WELL_WRITTEN.replace(b"        return nn", f"        {line}\n        return nn".encode())
    assert gate_says_may_fire(RULES_BY_CODE[code], source)


# Generated calls: callees spelled every way the scan must follow, arguments every way
# they can bind, comments and strings where the scan could be fooled.
IMPORT_LINES = [
        "import torch.nn.functional as F\n",
        "from torch.nn import functional as F\n",
        "import torch\n",
        "import torch.nn as nn\n",
        "from torch.nn.functional import dropout as drop, alpha_dropout\n",
        "from torch.nn.functional import (\n    dropout,  # the (function\n    dropout2d as d2,\n)\n",
        "from torch.nn import Dropout as D, Dropout2d\n",
        "from torch import dropout as \\\n    tdrop\n",
        "import chainer.functions as F\n",
        "torch = __import__('torch')\n",
]
FUNCTION_SPELLINGS = [
        "F.dropout", "F.alpha_dropout", "F.dropout2d", "F.feature_alpha_dropout", "drop",
        "dropout", "d2", "tdrop", "alpha_dropout", "torch.dropout", "torch.feature_dropout_",
        "torch.nn.functional.dropout", "nn.functional.dropout", "(F.dropout)", "F .dropout",
        "F.\\\n            dropout", "(F  # c\n            .dropout)", "self.dropout", "x.dropout",
        "F.dropout.__call__", "getattr(F, 'dropout')",
]
MODULE_SPELLINGS = [
    "nn.Dropout", "D", "Dropout2d", "torch.nn.Dropout", "nn.AlphaDropout", "(nn.Dropout)",
    "nn.modules.dropout.Dropout", "self.Dropout", "(nn  # c\n            .Dropout)",
]
IMPORTS = st.sampled_from(IMPORT_LINES)
FUNCTIONS = st.sampled_from(FUNCTION_SPELLINGS)
MODULES = st.sampled_from(MODULE_SPELLINGS)
POSITIONAL = st.sampled_from(
    ["x", "0.5", "self.training", "True", "False", "self.train", "(x, y)", "f(x, training=True)",
     "'(a, b'", "x  # , training=True\n            ", "lambda a=1: a", "cfg['p']",
     "f\"{x['a']}\"", "*args", "[1,\n 2]", '"""a\n) ("""', "b'\\''", "y == z", "t := x"]
)
KEYWORDS = st.sampled_from(
    ["p=0.1", "training=self.training", "training=True", "training=False", "train=True",
     "train=self.training", "training=self.is_training", "training=(self.training)",
     "training = not self.training", "training=flag", "inplace=True", "training=None",
     "training=self.cfg.training", "training=True  # self.training\n            ", "**kw"]
)
MODE_USES = st.sampled_from(
    ["if self.train:\n            x = -x", "x = x if self . train else -x", "self.train()",
     "self.train(False)", "assert self.train\n        (x)", "y = (self.\n            train)",
     "self.train_loader = 1", "return F.dropout(x, 0.5, self.train)"]
)


def net(imports: str, statements: list[str]) -> bytes:
    body = "\n        ".join(statements)
    return (
        f"{imports}import torch.nn as nn\n\n\nclass Net(nn.Module):\n"
        f"    def forward(self, x):\n        {body}\n        return x\n"
    ).encode()


@pytest.mark.parametrize("callee", FUNCTION_SPELLINGS + MODULE_SPELLINGS)
def test_gate_is_conservative_on_every_callee_spelling(callee: str) -> None:
    """Each spelling, with every import that may bind its name (chainer's F aside)."""
    imports = "".join(line for line in IMPORT_LINES if "chainer" not in line)
    calls = ["x, 0.5", "x, 0.5, training=True", "x, training=self.training", "0.1)(x"]
    assert_conservative(net(imports, [f"y = {callee}({arguments})" for arguments in calls]))


@st.composite
def calls(draw: st.DrawFn) -> str:
    positional = draw(st.lists(POSITIONAL, max_size=4))
    keywords = draw(st.lists(KEYWORDS, max_size=3))
    arguments = ", ".join([*positional, *keywords]) + (", " if draw(st.booleans()) else "")
    if draw(st.booleans()):
        return f"{draw(FUNCTIONS)}({arguments})"
    called = f"({', '.join(positional[:1])})" if draw(st.booleans()) else ""
    return f"{draw(MODULES)}({arguments}){called}"


@st.composite
def modules(draw: st.DrawFn) -> bytes:
    statements = draw(
        st.lists(st.one_of(calls().map(lambda c: f"y = {c}"), MODE_USES), min_size=1, max_size=4)
    )
    return net("".join(draw(st.lists(IMPORTS, min_size=1, max_size=4, unique=True))), statements)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(modules())
def test_gate_is_conservative_on_generated_calls(source: bytes) -> None:
    assume(not isinstance(parse(source, "<generated>"), Diagnostic))
    assert_conservative(source)


# A rule that looks for calls triggers on exactly the files that spell one of its callees'
# names: the trigger searches the text the names share, then reads on and back from it.
CALL_RULES = [
    rule for rule in ALL_RULES if rule.looks_for and all(isinstance(s, CallSites) for s in rule.looks_for)
]


@pytest.mark.parametrize("rule", CALL_RULES, ids=lambda rule: rule.code)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_call_rules_trigger_matches_the_texts_that_spell_a_callee(rule: type[Rule], data: st.DataObject) -> None:
    names = sorted({name for statement in rule.looks_for for name in statement.trigger_words()})
    pieces = [name[start:end] for name in names for start in range(len(name)) for end in (start + 3, len(name))]
    text = "".join(data.draw(st.lists(st.sampled_from([*names, *pieces, " ", "_", "x"]), max_size=8)))
    assert bool(rule.trigger.search(text.encode())) is any(name in text for name in names)


# DRP002 needs `<name>.train` in code, used as a test or as a call's argument: the gate
# reads the tokens around each such read, so docs, comments and `a.b.train` do not count.
TRAIN_MODULE = """import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        {statement}
        return x
"""


@pytest.mark.parametrize(
    "statement",
    [
        '"""Each call to [`~Trainer.train`] starts anew."""',
        "if hasattr(self.optimizer, 'train') and callable(self.optimizer.train):\n            pass",
        "# if self.train:",
        "y = 'if self.train else'",
        "self.train()\n        self.model.train(False)",
        "super().train(True)",
        "self.train = True",
        "y = self.train",
        "y = F.dropout(x, p=self.train)",
        "y = [self.train]",
        "y = x[0].train if x else x",
        "'''\n        if self.train:\n        '''",
        "y = r'\\\\' + 'if self.train else'  # and self.train",
    ],
)
def test_drp002_gate_turns_away_reads_that_cannot_be_a_mode(statement: str) -> None:
    source = TRAIN_MODULE.format(statement=statement).encode()
    assert not gate_says_may_fire(RULES_BY_CODE["DRP002"], source)


@pytest.mark.parametrize(
    "statement",
    [
        "if self.train:\n            x = -x",
        "while (self).train:\n            break",
        "assert self . train",
        "y = x if not self.\\\n            train else -x",
        "y = self.train and x",
        "y = F.dropout(x, 0.5, training=self.train)",
        "y = torch.dropout(x, 0.5, self.train)",
        "y = f'{1 if self.train else 0}'",
        "y = (self  # c\n            .train) or x",
        "y = '#' if self.train else x",
        "y = 'a' 'b' if self.train else x",
        # Python 3.12 lets a replacement field hold its f-string's own quote, so the
        # literal cannot be found by its quotes: a read may follow it.
        "y = f\"{'\"'}\" if self.train else x  # '",
    ],
)
def test_drp002_gate_lets_modes_through(statement: str) -> None:
    source = TRAIN_MODULE.format(statement=statement).encode()
    assert gate_says_may_fire(RULES_BY_CODE["DRP002"], source)


def test_drp002_gate_passes_what_it_cannot_tokenize() -> None:
    unterminated = TRAIN_MODULE.format(statement="y = (self.train, '''").encode()
    assert gate_says_may_fire(RULES_BY_CODE["DRP002"], unterminated)


# DRP002 also needs the read in a method, of the instance its first parameter names, in a
# class that does not assign the attribute itself (datasets store `self.train = train`).
TRAIN_IN_CLASS = """import torch
import torch.nn as nn


class Net(nn.Module):
    {member}

    {decorator}def forward({parameter}, x):
        return x if {receiver}.train else -x
"""


def train_in_class(member: str = "pass", decorator: str = "", parameter: str = "self", receiver: str = "self") -> bytes:
    return TRAIN_IN_CLASS.format(member=member, decorator=decorator, parameter=parameter, receiver=receiver).encode()


@pytest.mark.parametrize(
    "source",
    [
        train_in_class("def __init__(self, train):\n        super().__init__()\n        self.train = train"),
        train_in_class("train = False"),
        train_in_class("def __init__(self):\n        def f(m):\n            m.train = 1"),
        train_in_class(decorator="@staticmethod\n    ", parameter="y"),
        train_in_class(parameter="me"),
        b"import torch\n\n\ndef forward(self, x):\n    return x if self.train else -x\n",
    ],
    ids=["stored", "class-attribute", "stored-in-nested-function", "static-method", "other-instance", "function"],
)
def test_drp002_gate_turns_away_reads_that_are_not_the_modules_mode(source: bytes) -> None:
    assert not gate_says_may_fire(RULES_BY_CODE["DRP002"], source)


@pytest.mark.parametrize(
    "source",
    [
        train_in_class("def __init__(self):\n        self.train == 1"),
        train_in_class("def __init__(self):\n        f(train=1)"),
        train_in_class("def __init__(self):\n        self.train_loader = 1"),
        train_in_class(decorator="@torch.no_grad()\n    "),
        train_in_class(parameter="me", receiver="me"),
    ],
    ids=["compared", "keyword", "longer-name", "decorated", "instance-named-me"],
)
def test_drp002_gate_lets_through_reads_of_the_modules_mode(source: bytes) -> None:
    rule = RULES_BY_CODE["DRP002"]
    assert findings_without_gate(rule, source) != []
    assert gate_says_may_fire(rule, source)


TRAIN_RECEIVERS = st.sampled_from(
    ["self", "me", "(self)", "((self))", "self.model", "x[0]", "f(self)", "super()", "Trainer"]
)
TRAIN_DOTS = st.sampled_from([".", " . ", ".\\\n            ", "  # c\n            ."])
TRAIN_USES = st.sampled_from(
    ["if {}:\n            x = -x", "while {}:\n            break", "assert {}", "assert {}\n        (x)",
     "y = x if {} else -x", "y = {} if x else -x", "y = not {}", "y = {} and x", "y = x or {}",
     "y = F.dropout(x, 0.5, {})", "y = F.dropout(x, 0.5, training={})", "y = f(x, train={})",
     "y = torch.dropout(x, 0.5, {})", "y = F.dropout(x, {}, True)", "y = f(p={})", "y = f(*{})",
     "y = {}", "{} = True", "y = [{}]", "y = {}()", "y = {}(x)", "y = {}[0]", "y = {}.x",
     "y = lambda: {}", "y = {} == x", "y = f'{{{}}}'", "y = f'{{1 if {} else 0}}'", "# if {}:",
     "y = 'if {}:'", '"""if {}:"""', "return {}", "y = [x for x in x if {}]"]
)


@st.composite
def train_reads(draw: st.DrawFn) -> str:
    receiver, dot, use = draw(TRAIN_RECEIVERS), draw(TRAIN_DOTS), draw(TRAIN_USES)
    expression = f"{receiver}{dot}train"
    if "\n" in dot and "#" in dot:
        expression = f"({expression})"  # a comment may only break the line in brackets
    return use.format(expression)


# What may come before a read's method in its class: assignments of `train` that make
# `self.train` what the class stored (the gate reads the first three from the bytes),
# and others that do not.
TRAIN_CLASS_LINES = st.sampled_from(
    ["", "train = False", "def __init__(self, train):\n        self.train = train",
     "def __init__(self):\n        def f(m):\n            m.train = 1",
     "def __init__(self):\n        self.train: bool = True",
     "def __init__(self):\n        x = self.train = 1", "def __init__(self):\n        self.train += 1",
     "def __init__(self):\n        self.train == 1", "def __init__(self):\n        f(train=1)",
     "class Inner:\n        train = 1", "@property\n    def train(self):\n        return 1"]
)
TRAIN_DECORATORS = st.sampled_from(["", "@staticmethod\n    ", "@classmethod\n    ", "@torch.no_grad()\n    "])


@st.composite
def train_modules(draw: st.DrawFn) -> bytes:
    """A module reading ``train`` in a method, a nested function or a free function."""
    statements = "\n        ".join(draw(st.lists(train_reads(), min_size=1, max_size=3)))
    parameter = draw(st.sampled_from(["self", "me", "x, self", "*args"]))
    function = f"def forward({parameter}, y):\n        {statements}\n        return y"
    placement = draw(st.sampled_from(["method", "nested", "free"]))
    if placement == "nested":
        inner = function.replace("\n", "\n    ")
        function = f"def forward(self, x):\n        {inner}\n        return forward"
    head = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
    if placement == "free":
        return (head + function.replace("\n    ", "\n") + "\n").encode()
    own = draw(TRAIN_CLASS_LINES)
    return (
        f"{head}class Net(nn.Module):\n    {own or 'pass'}\n\n    {draw(TRAIN_DECORATORS)}{function}\n"
    ).encode()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(train_modules())
def test_drp002_gate_is_conservative_on_generated_reads(source: bytes) -> None:
    assume(not isinstance(parse(source, "<generated>"), Diagnostic))
    rule = RULES_BY_CODE["DRP002"]
    if not gate_says_may_fire(rule, source):
        assert findings_without_gate(rule, source) == []


# A call the arguments allow must then be code, in a file that writes torch in code, and,
# for the rules that look in methods only, that has a class.
@pytest.mark.parametrize(
    "source, code",
    [
        # chainer's F.dropout: nothing binds a torch name ("pytorch" is another word)
        ("import chainer.functions as F  # as in pytorch: torch\nimport espnet.nets.pytorch_backend\n\n\n"
         "class Net:\n    def forward(self, x):\n        return F.dropout(x)\n", "DRP001"),
        # a docstring's argument list, read as a call of `dropout`
        ('import torch\n\n\nclass Block(torch.nn.Module):\n    """A block.\n\n    Args:\n'
         "        hidden (int): its width.\n        dropout (float): the rate.\n"
         '    """\n', "DRP001"),
        ("import torch.nn.functional as F\n\n\nclass Net:\n    def forward(self, x):\n"
         "        return x  # not F.dropout(x, 0.5)\n", "DRP001"),
        ("import torch.nn.functional as F\n\n\nclass Net:\n    def forward(self, x):\n"
         "        return log('F.dropout(x, 0.5)', f'{x}')\n", "DRP001"),
        # free functions only: no class, so no method
        ("from torch.nn.functional import dropout, scaled_dot_product_attention as sdpa\n\n\n"
         "def head(x, p):\n    return dropout(x, p=p)\n\n\n"
         "def attend(q, k, v, p):\n    return sdpa(q, k, v, dropout_p=p)\n", "DRP001"),
        ("from torch.nn.functional import scaled_dot_product_attention as sdpa\n\n\n"
         "def attend(q, k, v, p):\n    return sdpa(q, k, v, dropout_p=p)  # class\n", "DRP004"),
    ],
)
def test_call_gate_stops_calls_outside_code_torch_or_classes(source: str, code: str) -> None:
    data = source.encode()
    rule = RULES_BY_CODE[code]
    assert rule.trigger.search(data)  # the bytes spell a call's name
    assert not gate_says_may_fire(rule, data)
    assert byte_stage(data, [rule]) == []
    assert findings_without_gate(rule, data) == []


@pytest.mark.parametrize(
    "source, code",
    [
        ("import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n"
         '    """dropout (float): the rate."""\n\n    def forward(self, x):\n'
         "        return F.dropout(x, 0.5)  # dropout (float)\n", "DRP001"),
        ("import torch.nn as nn\nfrom torch.nn.functional import dropout as d\n\n\n"
         "class Net(nn.Module):\n    def forward(self, x):\n        return (d)(x, 0.5)\n", "DRP001"),
        ("\ufeffimport torch\nclass Net(torch.nn.Module):\n    def forward(self, x):\n"
         "        return torch.dropout(x, 0.5, True) + torch.nn.functional.dropout(x)\n", "DRP001"),
        ("import torch\n\f\nclass Net(torch.nn.Module):\n    def forward(self, x):\n"
         "        return torch.nn.functional.dropout(\n            x, 0.5)\n", "DRP001"),
        ("import torch\r\rclass Net(torch.nn.Module):\r    def forward(self, x):\r"
         "        return torch.nn.functional.dropout(x)\r", "DRP001"),
        ("import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Attention(nn.Module):\n"
         "    def forward(self, q, k, v):\n"
         "        return F.scaled_dot_product_attention(q, k, v, dropout_p=self.p)\n", "DRP004"),
    ],
)
def test_call_gate_lets_calls_in_code_through(source: str, code: str) -> None:
    data = source.encode()
    rule = RULES_BY_CODE[code]
    assert gate_says_may_fire(rule, data)
    assert [found for _, found in findings_without_gate(rule, data)] == [code]


def test_call_gate_reads_torch_in_an_f_strings_field_as_code() -> None:
    """(libcst resolves no unbound `torch` there, but the gate does not rely on it.)"""
    data = (
        b"import lightning.pytorch as pl\n\n\nclass Net(pl.LightningModule):\n"
        b"    def forward(self, x):\n        return f'{torch.nn.functional.dropout(x, 0.5)}'\n"
    )
    assert gate_says_may_fire(RULES_BY_CODE["DRP001"], data)


# Rules that look in methods only read the file's blocks: a call in a function, at module
# level or in a class body is in no method; DRP004 reads its rate's assignments there.
ATTENTION_MODULE = """import torch.nn as nn
import torch.nn.functional as F
from torch.nn.functional import dropout


class Attention(nn.Module):
{body}
"""


@pytest.mark.parametrize(
    "body, code",
    [
        ("    pass\n\n\ndef head(x, p):\n    return dropout(x, p=p)\n", "DRP001"),
        ("    y = dropout(z, 0.5)\n", "DRP001"),
        ("    pass\n\n\nif True:\n    class Other:\n        pass\n    dropout(z, 0.5)\n", "DRP001"),
        ("    if True:\n        def forward(self, x):\n            return dropout(x, 0.5)\n", "DRP001"),
        ("    pass\n\n\ndef attend(q, k, v, p):\n    return F.scaled_dot_product_attention(\n"
         "        q, k, v, dropout_p=p)\n", "DRP004"),
        ("    def forward(self, q, k, v):\n        dropout_p = self.p if self.training else 0.0\n"
         "        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)\n", "DRP004"),
        ("    def forward(self, q, k, v):\n        if self.training:\n"
         "            dropout_p = self.p if self.training else 0.\n        else:\n"
         "            dropout_p = 0.0 if not self.training else self.p\n"
         "        return F.scaled_dot_product_attention(q, k, v, None, dropout_p)\n", "DRP004"),
    ],
)
def test_method_gate_stops_calls_outside_methods_and_tied_rates(body: str, code: str) -> None:
    data = ATTENTION_MODULE.format(body=body).encode()
    rule = RULES_BY_CODE[code]
    assert rule.trigger.search(data)
    assert not gate_says_may_fire(rule, data)
    assert findings_without_gate(rule, data) == []


@pytest.mark.parametrize(
    "body, code",
    [
        ("    def forward(self, x):\n        return dropout(x, 0.5)\n", "DRP001"),
        ("    async def forward(self, x):\n        return dropout(x, 0.5)\n", "DRP001"),
        ("    def forward(self, x):\n        def inner(y):\n            return dropout(y, 0.5)\n"
         "        return inner(x)\n", "DRP001"),
        ("    def forward(self, x):\n        class Local:\n            pass\n"
         "        return dropout(x, 0.5)\n", "DRP001"),
        ("    def forward(self, x): return dropout(x, 0.5)\n", "DRP001"),
        ("    def forward(self, x):\n        return (\n    dropout(x, 0.5))\n", "DRP001"),
        ("    def forward(self, x):\n        y = [\nx]\n        return dropout(x, 0.5)\n", "DRP001"),
        ("    def forward(self, x):\n        y = x + \\\n1\n        return dropout(x, 0.5)\n", "DRP001"),
        ("\tdef forward(self, x):\n\t\treturn dropout(x, 0.5)\n", "DRP001"),
        ("    def forward(self, q, k, v):\n        return F.scaled_dot_product_attention(\n"
         "            q, k, v, dropout_p=self.p)\n", "DRP004"),
        # the rate is also assigned otherwise: kept for the syntax stage to judge
        ("    def forward(self, q, k, v):\n        dropout_p = self.p if self.training else 0.0\n"
         "        dropout_p = self.p\n"
         "        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)\n", "DRP004"),
        ("    def forward(self, q, k, v):\n        dropout_p = self.p\n"
         "        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)\n\n"
         "    def other(self):\n        dropout_p = self.p if self.training else 0.0\n", "DRP004"),
        ("    def forward(self, q, k, v):\n        dropout_p = self.p if self.training else 0.0\n"
         "        x = dropout_p = self.p\n"
         "        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)\n", "DRP004"),
        ("    def forward(self, q, k, v):\n        dropout_p = self.p if self.training else 0.0\n"
         "        (dropout_p) = self.p\n"
         "        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)\n", "DRP004"),
        ("    def forward(self, q, k, v):\n        dropout_p = self.p if self.training else 0.0\n"
         "        if q is None: dropout_p = self.p\n"
         "        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)\n", "DRP004"),
        ("    def forward(self, q, k, v):\n        dropout_p = self.p if self.training else 0.0; "
         "dropout_p = self.p\n"
         "        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)\n", "DRP004"),
        ("    def forward(self, q, k, v):\n        dropout_p = self.p if self.training else 0.0\n"
         "        dropout_p = \\\n            self.p\n"
         "        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)\n", "DRP004"),
        ("    def forward(self, q, k, v):\n        dropout_p = a if self.b else self.p if self.training else 0.0\n"
         "        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)\n", "DRP004"),
    ],
)
def test_method_gate_lets_calls_in_methods_through(body: str, code: str) -> None:
    data = ATTENTION_MODULE.format(body=body).encode()
    rule = RULES_BY_CODE[code]
    assert gate_says_may_fire(rule, data)
    assert [found for _, found in findings_without_gate(rule, data)] == [code]


# Where a call is, as the blocks read it: in a method or not, however the lines around it
# are indented, bracketed and continued; with the assignments DRP004 reads of its rate.
PLACEMENTS = st.sampled_from(
    [
        "class Net(nn.Module):\n    def forward(self, x):\n        {s}\n        return x\n",
        "class Net(nn.Module):\n    def forward(self, x):\n        def inner(y):\n            {s}\n"
        "        return x\n",
        "class Net(nn.Module):\n    @decorate(\n        1)\n    def forward(self, x):\n        {s}\n",
        "class Net(nn.Module):\n    def forward(self, x, y=[\n1]):\n        {s}\n",
        "class Net(nn.Module):\n    async def forward(self, x): {s}\n",
        "class Net(nn.Module):\n    if True:\n        def forward(self, x):\n            {s}\n",
        "class Net(nn.Module):\n    y = 1\n    {s}\n",
        "def forward(self, x):\n    {s}\n",
        "def build():\n    class Net(nn.Module):\n        def forward(self, x):\n            {s}\n"
        "    return Net\n",
        "class Outer(nn.Module):\n    def forward(self, x):\n        class Net:\n            {s}\n",
        "class Net(nn.Module):\n\tdef forward(self, x):\n\t\t{s}\n",
        "class Net(nn.Module):\n    def forward(self, x):\n        z = (1,\n2)\n        {s}\n",
        "class Net(nn.Module):\n    def forward(self, x):\n        z = 1 + \\\n2\n        {s}\n",
        "class Net(nn.Module):\n    def forward(self, x):\n        '''\nclass A:\n'''\n        {s}\n",
        "class Net(nn.Module):\n    def forward(self, x):\n        pass\n# class A:\n        {s}\n",
        "{s}\n",
    ]
)
RATE_ASSIGNMENTS = st.sampled_from(
    ["", "dropout_p = self.p if self.training else 0.0", "dropout_p = 0.0 if not self.training else p",
     "dropout_p = self.p", "dropout_p = self.p if self.training else 0.0; dropout_p = 1",
     "x = dropout_p = self.p", "(dropout_p) = self.p", "dropout_p: float = self.p",
     "dropout_p += 1", "if x: dropout_p = self.p", "dropout_p = \\\n            self.p",
     "dropout_p, y = self.p, 1", "dropout_p = (self.p\n            )", "f(dropout_p=1)"]
)
ATTENTION_CALLS = st.sampled_from(
    ["F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)",
     "F.scaled_dot_product_attention(q, k, v, None, dropout_p)",
     "F.scaled_dot_product_attention(q, k, v, dropout_p=self.p)"]
)


@st.composite
def placed_modules(draw: st.DrawFn) -> bytes:
    call = draw(st.one_of(calls(), ATTENTION_CALLS))
    rate = draw(RATE_ASSIGNMENTS)
    statements = f"{rate}\n{{indent}}y = {call}" if rate else f"y = {call}"
    template = draw(PLACEMENTS)
    line = next(line for line in template.splitlines() if "{s}" in line)
    indent = line[: len(line) - len(line.lstrip())]
    body = template.replace("{s}", statements.replace("{indent}", indent))
    imports = "".join(draw(st.lists(IMPORTS, min_size=1, max_size=3, unique=True)))
    return f"{imports}import torch.nn as nn\nimport torch.nn.functional as F\n\n\n{body}".encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(placed_modules())
def test_gate_is_conservative_on_generated_placements(source: bytes) -> None:
    assume(not isinstance(parse(source, "<generated>"), Diagnostic))
    assert_conservative(source)


@pytest.mark.parametrize(
    "rate",
    [
        "a if b else self.p if self.training else 0.0",  # tied to `b`, not to the mode
        "lambda: self.p if self.training else 0.0",
        "self.p if self.training else 0.0 if x else 1.0",
    ],
)
def test_drp004_gate_reads_a_rate_tied_only_when_its_test_is_the_mode(rate: str) -> None:
    data = ATTENTION_MODULE.format(
        body=f"    def forward(self, q, k, v):\n        return F.scaled_dot_product_attention(q, k, v, dropout_p={rate})\n"
    ).encode()
    rule = RULES_BY_CODE["DRP004"]
    found = findings_without_gate(rule, data)
    assert gate_says_may_fire(rule, data) or found == []
    if rate.startswith("a if b"):
        assert [code for _, code in found] == ["DRP004"]
