"""How a file spells ``torch.nn``'s classes, for the constructor a fix writes.

``nn.Dropout``, ``torch.nn.Dropout`` or ``Dropout``, as the file imports them; when nothing
fits, ``import torch.nn as nn`` (``from torch import nn`` where the file only imports from
torch) among the file's torch imports (the same import for every fix of the file).
"""

from __future__ import annotations

from typing import Iterator, Optional, Union

import libcst as cst

from ..analysis.torch_api import TORCH_NN_ALIAS
from ..engine.context import FileContext
from .class_facts import ClassFacts
from .portable_expressions import InitPortability

_TORCH_NN_CLASS = ("torch.nn.{}", "torch.nn.modules.{}", "torch.nn.modules.dropout.{}")


class TorchNnSpelling:
    """The spellings for one file; remembers the import its fixes add."""

    def __init__(self, context: FileContext, portability: InitPortability) -> None:
        self.context = context
        self.portability = portability
        self._added_import: Optional[tuple[int, cst.BaseStatement]] = None
        self._names: Optional[set[str]] = None

    def class_spelling(
        self, module_class: str, facts: ClassFacts
    ) -> Optional[tuple[cst.BaseExpression, Optional[tuple[int, cst.BaseStatement]]]]:
        """``nn.Dropout``, ``torch.nn.Dropout`` or ``Dropout``, as this file imports them.

        When nothing suitable is imported, ``import torch.nn as nn`` is added (once).
        """
        init_scope = self.portability.init_scope(facts)
        wanted = {pattern.format(module_class) for pattern in _TORCH_NN_CLASS}
        choices: list[tuple[int, cst.BaseExpression]] = []
        for bound, qualified in self._top_level_imports():
            if not self.portability.is_sole_global(bound, init_scope):
                continue
            if qualified in wanted:
                choices.append((0, cst.Name(bound)))
            elif qualified == "torch.nn":
                choices.append((1, cst.Attribute(cst.Name(bound), cst.Name(module_class))))
            elif qualified == "torch":
                choices.append(
                    (2, cst.Attribute(cst.Attribute(cst.Name(bound), cst.Name("nn")), cst.Name(module_class)))
                )
        if choices:
            return min(choices, key=lambda choice: choice[0])[1], None
        if self._name_in_use(TORCH_NN_ALIAS):
            return None
        spelled = cst.Attribute(cst.Name(TORCH_NN_ALIAS), cst.Name(module_class))
        if self._added_import is None:
            self._added_import = self._import_torch_nn()
        return (spelled, self._added_import) if self._added_import is not None else None

    def _top_level_imports(self) -> Iterator[tuple[str, str]]:
        """(bound name, qualified name) of each module-level import of the file."""
        for statement in self.context.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        dotted = _dotted(alias.name)
                        if alias.asname is not None:
                            yield _dotted(alias.asname.name), dotted
                        else:
                            yield dotted.split(".")[0], dotted.split(".")[0]
                elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    if small.module is None or small.relative:
                        continue
                    for alias in small.names:
                        name = _dotted(alias.name)
                        bound = _dotted(alias.asname.name) if alias.asname else name
                        yield bound, f"{_dotted(small.module)}.{name}"

    def _import_torch_nn(self) -> Optional[tuple[int, cst.BaseStatement]]:
        """``import torch.nn as nn``, or ``from torch import nn`` in a file that only imports
        from torch, placed among the file's torch imports as isort would; None in a file
        without module-level imports or with a star import."""
        body = self.context.module.body
        imports = [
            (index, small)
            for index, statement in enumerate(body)
            if isinstance(statement, cst.SimpleStatementLine)
            for small in statement.body
            if isinstance(small, (cst.Import, cst.ImportFrom))
        ]
        if not imports or any(
            isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar) for _, small in imports
        ):
            return None
        torch = [(index, small, _imported_module(small)) for index, small in imports]
        torch = [(index, small, module) for index, small, module in torch if module.split(".")[0] == "torch"]
        from_style = bool(torch) and all(isinstance(small, cst.ImportFrom) for _, small, _ in torch)
        kind, module, line = (
            (cst.ImportFrom, "torch", f"from torch import {TORCH_NN_ALIAS}\n")
            if from_style
            else (cst.Import, "torch.nn", f"import torch.nn as {TORCH_NN_ALIAS}\n")
        )
        same_kind = [(index, module_) for index, small, module_ in torch if isinstance(small, kind)]
        later = [index for index, module_ in same_kind if module_ > module]
        if later:
            position = later[0]
        else:
            position = max(index for index, *_ in (same_kind or torch or imports)) + 1
        return position, cst.parse_statement(line)

    def _name_in_use(self, name: str) -> bool:
        """Whether ``name`` appears anywhere in the file, so adding it could change a meaning."""
        if self._names is None:
            self._names = self.context.names.names()
        return name in self._names


def _imported_module(statement: Union[cst.Import, cst.ImportFrom]) -> str:
    """The module an import statement reads (its first, for ``import a, b``)."""
    if isinstance(statement, cst.Import):
        return _dotted(statement.names[0].name)
    return "." * len(statement.relative) + (_dotted(statement.module) if statement.module else "")


def _dotted(node: Union[cst.Name, cst.Attribute, cst.BaseExpression]) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""
