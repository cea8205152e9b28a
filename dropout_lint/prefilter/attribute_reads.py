"""What a rule looks for when it looks for an attribute read used as a mode, stated once.

DRP002 looks for ``self.train`` used as a truth value or handed to a call as the mode.
From one :class:`AttributeReads` statement come the rule's three prefilters: the
``trigger`` regular expression (the attribute's name, not called on the spot),
``may_fire`` on the byte scan (the tokens around each read in code) and ``sites`` on
CPython's tree (each read's parent). The rule's libcst visitor reads the same statement
when it confirms a read and builds its finding, as call rules do with
:class:`~dropout_lint.prefilter.call_sites.CallSites`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Callable, Generic, Optional, TypeVar

from ..analysis.instance_parameter import ast_instance_parameter_of
from .byte_scan import ByteScan, NameAttributeRead
from .code_blocks import CodeBlocks
from .syntax_scan import SyntaxScan

T = TypeVar("T")

# The keywords a truth value follows: the tests of statements and conditional expressions,
# and the operands of `and`, `or` and `not`.
TEST_KEYWORDS = frozenset(("if", "elif", "while", "assert", "and", "or", "not"))
# What may open a call's argument (or a parenthesised expression): the byte scan cannot
# tell a call's `(` from a parenthesised test's.
_ARGUMENT_OPENERS = frozenset(("(", ","))
# What may follow a truth value that is an operand.
_OPERAND_FOLLOWERS = frozenset(("and", "or"))


@dataclass(frozen=True)
class AttributeReads(Generic[T]):
    """Reads of ``<instance>.<attribute>`` in a method, where ``<instance>`` is the method's
    instance parameter and no class in the hierarchy (in this file) stores an attribute of
    that name, used as a mode: as a truth value (see :data:`TEST_KEYWORDS`), as a keyword
    argument named one of ``keywords``, or as a positional argument of a call whose callee
    ``lookup`` knows (the visitor confirms it is the mode's position).
    """

    attribute: str
    keywords: tuple[str, ...]
    lookup: Callable[[str], Optional[T]]

    def trigger_pattern(self) -> bytes:
        """The attribute's name, not called on the spot: a call's ``(`` follows on the same
        line (a line break there may end the statement: ``assert self.train`` then ``(x)``)."""
        return re.escape(self.attribute.encode()) + rb"\b(?![ \t\f]*\()"

    def may_fire(self, scan: ByteScan) -> bool:
        """Whether the tokens around some read in code allow a use as a mode (after a test's
        keyword, ``(``, ``,`` or a keyword's ``=``, or before ``and``/``or``), in a method
        (:mod:`.code_blocks`) of the instance its first parameter names, in a class that does
        not assign the attribute (``self.train = train``, as datasets do). Those last checks
        need the file's blocks, read only for the few files a use is left in."""
        reads = scan.name_attribute_reads(self.attribute)
        if reads is None:
            return True
        uses = [read for read in reads if self._may_be_use(read)]
        if not uses:
            return False
        blocks = scan.blocks
        if blocks is None:
            return True
        assigning: dict[int, bool] = {}  # each class read once, for all its reads
        return any(self._may_be_instance_read(blocks, read, assigning) for read in uses)

    def _may_be_instance_read(
        self, blocks: CodeBlocks, read: NameAttributeRead, assigning: dict[int, bool]
    ) -> bool:
        """What :meth:`sites` asks of a read, as far as the bytes tell: never wrongly False."""
        if blocks.in_function_header(read.start):
            return True
        method = blocks.method_at(read.start)
        if method is None:
            return False
        instance = method.first_parameter()
        if instance is not None and instance != read.receiver:
            return False  # a static or class method has no instance at all
        if method.class_start not in assigning:
            assigning[method.class_start] = method.class_assigns(self.attribute.encode())
        return not assigning[method.class_start]

    def _may_be_use(self, read: NameAttributeRead) -> bool:
        keyword, previous = read.before
        return (
            previous in TEST_KEYWORDS
            or previous in _ARGUMENT_OPENERS
            or (previous == "=" and keyword in self.keywords)
            or read.after in _OPERAND_FOLLOWERS
        )

    def sites(self, scan: SyntaxScan) -> list[ast.AST]:
        """The same reads in CPython's tree: of the method's own instance, used as a mode,
        in a class that stores no attribute of that name; a positional argument of any call
        ``lookup`` may know counts as its mode."""
        stores: dict[ast.ClassDef, bool] = {}  # each class walked once, for all its reads
        return [
            node
            for node in scan.nodes()
            if isinstance(node, ast.Attribute)
            and node.attr == self.attribute
            and isinstance(node.value, ast.Name)
            and self._is_use(node, scan)
            and self._is_instance_read(node, scan, stores)
        ]

    def is_keyword(self, keyword: Optional[str]) -> bool:
        """Whether a keyword argument of that name takes a mode."""
        return keyword in self.keywords

    def _is_instance_read(self, node: ast.Attribute, scan: SyntaxScan, stores: dict[ast.ClassDef, bool]) -> bool:
        method = scan.method_of(node)
        if method is None or ast_instance_parameter_of(method) != node.value.id:  # type: ignore[attr-defined]
            return False
        owner = scan.parent(method)
        for classdef in scan.classes_in_hierarchy(owner):  # type: ignore[arg-type]
            if classdef not in stores:
                stores[classdef] = self._stores(classdef)
            if stores[classdef]:
                return False
        return True

    def _is_use(self, node: ast.Attribute, scan: SyntaxScan) -> bool:
        parent = scan.parent(node)
        if isinstance(parent, ast.keyword):
            return self.is_keyword(parent.arg)
        if isinstance(parent, ast.Call):
            return node in parent.args and any(
                self.lookup(name) for name in scan.possible_names(parent.func)
            )
        return (
            isinstance(parent, (ast.If, ast.IfExp, ast.While, ast.Assert)) and parent.test is node
        ) or isinstance(parent, ast.BoolOp) or (
            isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)
        )

    def _stores(self, classdef: ast.ClassDef) -> bool:
        """Whether the class assigns ``<x>.<attribute>`` or ``<attribute>`` anywhere in its
        body, or defines a property of that name."""
        for node in ast.walk(classdef):
            if isinstance(node, ast.Assign) and any(map(self._is_target, node.targets)):
                return True
            if isinstance(node, ast.AnnAssign) and self._is_target(node.target):
                return True
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.name == self.attribute
                and any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)
            ):
                return True
        return False

    def _is_target(self, target: ast.expr) -> bool:
        if isinstance(target, ast.Attribute):
            return target.attr == self.attribute
        return isinstance(target, ast.Name) and target.id == self.attribute
