"""The name a method's instance goes by (``self``): asked by rules, fixes and rank inference.

A method has an instance, and with it the module's ``training`` mode, only when it is neither
a static method nor a class method; then the instance is its first positional parameter.
``cls.training`` in a class method is the class attribute (or an ``AttributeError``), never
the mode, so nothing may be rewritten to use it. The rule is written once, in
:func:`instance_parameter`; the two functions after it read its inputs from libcst's tree and
from CPython's.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Iterable, Optional, Sequence, Union

if TYPE_CHECKING:  # imported where libcst's tree is read: the syntax stage must not import it
    import libcst as cst

# Decorators that take the instance away: the method is called without one.
WITHOUT_INSTANCE = frozenset({"staticmethod", "classmethod"})


def instance_parameter(decorators: Iterable[Optional[str]], positional: Sequence[str]) -> Optional[str]:
    """The instance parameter of a method with these decorators (their last names) and
    positional parameters; None for static and class methods and for ``def f(*args)``."""
    if any(name in WITHOUT_INSTANCE for name in decorators):
        return None
    return positional[0] if positional else None


def instance_parameter_of(function: cst.FunctionDef) -> Optional[str]:
    """:func:`instance_parameter` of a method in libcst's tree."""
    params = function.params
    return instance_parameter(
        (_last_name(d.decorator) for d in function.decorators),
        [param.name.value for param in (*params.posonly_params, *params.params)],
    )


def ast_instance_parameter_of(function: Union[ast.FunctionDef, ast.AsyncFunctionDef]) -> Optional[str]:
    """:func:`instance_parameter` of a method in CPython's tree."""
    args = function.args
    return instance_parameter(
        (_ast_last_name(d) for d in function.decorator_list),
        [arg.arg for arg in (*args.posonlyargs, *args.args)],
    )


def _last_name(decorator: cst.BaseExpression) -> Optional[str]:
    """``staticmethod`` for ``@staticmethod``, ``@builtins.staticmethod`` or ``@x.staticmethod()``."""
    import libcst as cst

    if isinstance(decorator, cst.Call):
        decorator = decorator.func
    if isinstance(decorator, cst.Name):
        return decorator.value
    if isinstance(decorator, cst.Attribute):
        return decorator.attr.value
    return None


def _ast_last_name(decorator: ast.expr) -> Optional[str]:
    if isinstance(decorator, ast.Call):
        decorator = decorator.func
    if isinstance(decorator, ast.Name):
        return decorator.id
    if isinstance(decorator, ast.Attribute):
        return decorator.attr
    return None
