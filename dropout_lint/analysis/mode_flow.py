"""Where a training loop leaves a model in eval mode, read from CPython's tree.

A *training step* is a call of ``.backward(...)`` or of ``.step(...)`` on an optimizer or a
grad scaler. A *mode change* is ``m.eval()``, ``m.train()``, ``m.train(flag)``. A call of a
function or method of the same file is either when the function is: each function is
summarised ("takes a training step", "leaves argument ``model`` in eval mode", "sets
``self.model`` to train") and summaries compose until nothing changes.

The mode is *lost* at an eval change inside a loop that takes a training step when that
loop, on its way back to the next step, cannot restore it. Every judgement errs towards
silence: a ``train()`` call anywhere in the loop (conditional or not, with any argument
but a literal ``False``, on the module, a parent or a child of it, a name assigned from it,
or anything that cannot be named) counts as restoring it; so does leaving the loop after
it (``break``, ``return``, ``raise``), and so does an ``if`` that may hold only in the
last iteration (``if epoch == num_epochs - 1:``). Changes made before the loop's first training step (a frozen
``backbone.eval()`` at the top of each iteration) and of averaged or target copies (EMA,
SWA, teachers) are never reported.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Optional, Union

from ..engine.source_text import first_line, line_starts
from ..prefilter.byte_scan import ByteScan
from .mode_summaries import (
    FunctionSummary,
    ImportedSummary,
    ProjectModeSummaries,
    imported_names,
    top_level_function_spans,
)

Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]
# What a call resolves to: a function of the file, or one of another file.
Callee = Union[Function, ImportedSummary]
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
# Nodes with no call, assignment or loop in them.
_LEAVES = (
    ast.Name, ast.Constant, ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop
)
# The last name of a receiver whose `.step(...)` is a training step.
_OPTIMIZER = re.compile(r"optim|^opt$|scaler", re.IGNORECASE)
# Words in a receiver's name that mark a copy nobody trains by backward.
_NEVER_TRAINED = frozenset({"ema", "swa", "averaged", "teacher", "target", "frozen"})
# A receiver that cannot be named: a train() on it may restore anything.
ANYTHING = "*"
# The calls a summary rests on: a mode change or a training step.
_MODE_OR_STEP = re.compile(rb"\.[ \t]*(?:eval|train|backward|step)\b")
# Whitespace and backslashes: what may stand between an attribute's dot and its name,
# with comments (`_DottedWords`).
_GAP = re.compile(r"[\s\\]*")
_LINE_BREAK = re.compile(r"[\r\n]")


class _DottedWords:
    """Finds a dot, then whitespace, backslashes and comments, then one of ``words`` (a
    regular expression of names), as Python may write an attribute: the answer of
    ``re.search(r"\\.(?:\\s|\\\\|#[^\\r\\n]*(?![^\\r\\n]))*(?:" + words + ")", ...)``, in
    linear time.

    That expression tries every dot, and a comment after a dot runs to the end of its line
    (and on over lines that are only comments): a line or a block of comments holding dots
    followed by `#` (`#.#.#...`, `# a. # b`) took time growing with the square of its size,
    hours for a file of a few megabytes. Here each comment is read once: the dots inside it
    can reach a name on its line or its end, whose way on is the same for all of them.
    """

    def __init__(self, words: str) -> None:
        self._word = re.compile(words)
        # A dot's run of whitespace and backslashes ends at its name, or at a comment.
        self._name_or_comment = re.compile(r"\.[\s\\]*(?:(?:" + words + r")|(?P<comment>#))")
        self._name_on_line = re.compile(r"\.[\s\\]*(?:" + words + ")")

    def search(self, text: str, start: int = 0, end: Optional[int] = None) -> bool:
        """Whether ``text[start:end]`` holds such an attribute."""
        end = len(text) if end is None else end
        while found := self._name_or_comment.search(text, start, end):
            if found.group("comment") is None:
                return True
            comment = found.end() - 1
            while True:
                line_break = _LINE_BREAK.search(text, comment, end)
                line_end = end if line_break is None else line_break.start()
                if self._name_on_line.search(text, comment, line_end):
                    return True
                start = _GAP.match(text, line_end, end).end()  # type: ignore[union-attr]
                if self._word.match(text, start, end):
                    return True
                if not text.startswith("#", start, end):
                    break
                comment = start
        return False


# What finds names in text: `search(text, start, end)`.
_Finder = Union["re.Pattern[str]", _DottedWords]
# `.eval` or `.train`, as Python may write them.
_MODE_CHANGE_TEXT = _DottedWords(r"(?:eval|train)\b")
# A mode change or a training step, as Python may write them.
_MODE_OR_STEP_TEXT = _DottedWords(r"(?:eval|train|backward|step)\b")
# In code (comments blanked, strings quoted out: `ByteScan.code`), a call that may change a
# mode to eval as `direct_mode_change` reads it: `.eval()` with no argument, or `.train(`
# with a literal `False` before any `)` (its one argument, maybe in parentheses or `mode=`).
_EVAL_CHANGE_CODE = re.compile(
    rb"\.[\s\\]*(?:eval[\s\\]*\([\s\\]*\)|train[\s\\]*\([^)]*False)"
)
# In code, a call that may be a training step as `is_training_step` reads it: `.backward(`,
# or `.step(` on a name that `_OPTIMIZER` takes (or in parentheses: `(optimizer).step()`).
_STEP_CODE = re.compile(
    rb"\.[\s\\]*backward[\s\\]*\("
    rb"|(?:\)|(?i:\b\w*(?:optim|scaler)\w*|\bopt\b))[\s\\]*\.[\s\\]*step[\s\\]*\("
)


@dataclass(frozen=True)
class ModeChange:
    """A call that changes the mode of ``receiver`` (dotted, as written; ``ANYTHING`` when
    it cannot be named), directly or through ``helper``, whose line ``line`` (of the file
    ``helper_path``, when another file's) does it."""

    call: ast.Call
    receiver: str
    to_train: bool
    helper: Optional[str] = None
    line: int = 0
    helper_path: Optional[str] = None


@dataclass(frozen=True)
class LostMode:
    """An eval change after which the loop takes ``step`` again with no train() between."""

    change: ModeChange
    step: ast.Call


def dotted_name(node: ast.expr) -> Optional[str]:
    """``self.model`` for that expression; None for anything but names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def is_training_step(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "backward":
        return True
    receiver = dotted_name(func.value)
    return func.attr == "step" and receiver is not None and bool(
        _OPTIMIZER.search(receiver.rsplit(".", 1)[-1])
    )


def direct_mode_change(call: ast.Call) -> Optional[ModeChange]:
    """``m.eval()``, ``m.train()``, ``m.train(False)``, ``m.train(mode=flag)``."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in ("eval", "train"):
        return None
    receiver = dotted_name(func.value) or ANYTHING
    if func.attr == "eval":
        if call.args or call.keywords:
            return None
        return ModeChange(call, receiver, False, line=call.lineno)
    arguments = [*call.args, *(k.value for k in call.keywords if k.arg == "mode")]
    if len(arguments) != len(call.args) + len(call.keywords) or len(arguments) > 1:
        return None
    to_train = not (
        arguments and isinstance(arguments[0], ast.Constant) and arguments[0].value is False
    )
    return ModeChange(call, receiver, to_train, line=call.lineno)


def may_change_mode(text: str) -> bool:
    """Whether the source may hold a mode change (:func:`direct_mode_change`): False only
    when it writes no ``.eval`` or ``.train``, in code, strings or comments."""
    return _MODE_CHANGE_TEXT.search(text)


def may_lose_mode(text: str, summaries: ProjectModeSummaries) -> bool:
    """Whether a loop of the source may lose a mode, by its code (strings and comments
    aside): it must hold a change to eval, or the name of another file's function that makes
    one, and a training step, or the name of another file's function that takes one (the
    file's own functions make them only by such calls). True when the code cannot be told
    apart from strings, or has names in other letters (Python reads `ｅｖａｌ` as `eval`)."""
    code = ByteScan(text.encode("utf-8", "surrogatepass")).code
    if (
        code is None
        or not code.text.isascii()
        or any(_MODE_OR_STEP_TEXT.search(literal.decode("latin-1")) for literal in code.f_strings)
    ):
        return True
    return bool(
        _EVAL_CHANGE_CODE.search(code.text) or any(name in text for name in summaries.evaluating_names)
    ) and bool(_STEP_CODE.search(code.text) or any(name in text for name in summaries.stepping_names))


def related(first: str, second: str) -> bool:
    """Whether changing the mode of one changes the other's: the same, a parent or a child."""
    if ANYTHING in (first, second):
        return True
    shorter, longer = sorted((first, second), key=len)
    return longer == shorter or longer.startswith(shorter + ".")


# A function's effect on what it is given: (parameter, dotted suffix) -> (to_train, line).
Effects = dict[tuple[str, str], tuple[bool, int]]


@dataclass
class _Scope:
    """A function body (or the module's), walked without entering nested scopes."""

    node: Union[ast.Module, Function]
    method_of: Optional[ast.ClassDef]
    calls: list[tuple[ast.Call, tuple[ast.stmt, ...]]]
    # Names assigned from expressions naming others (`dp_model = DataParallel(model)`), by
    # the representative of their group: the mode of one may be the mode of another.
    aliases: dict[str, str]

    @cached_property
    def parents(self) -> dict[ast.AST, ast.AST]:
        """Each node's parent, not entering nested functions, classes or lambdas: asked only
        where a mode may be lost, which few scopes have."""
        parents: dict[ast.AST, ast.AST] = {}
        pending: list[ast.AST] = [self.node]
        while pending:
            current = pending.pop()
            if current is not self.node and isinstance(current, _SCOPES):
                continue
            for child in ast.iter_child_nodes(current):
                parents[child] = current
                pending.append(child)
        return parents

    def related(self, first: str, second: str) -> bool:
        """``related``, or rooted in names that may stand for the same module."""
        if related(first, second):
            return True
        first_root, second_root = first.split(".", 1)[0], second.split(".", 1)[0]
        return _group(self.aliases, first_root) == _group(self.aliases, second_root) and (
            first_root in self.aliases or second_root in self.aliases
        )


class ModeFlow:
    """One file's mode changes: its functions' summaries, and where loops lose the mode.

    ``project`` holds the summaries of the project's other files, which calls of functions
    imported at module level (``path`` is the file's, for relative imports) resolve to.
    ``text``, the source of ``tree``, lets the scopes whose text cannot matter go unwalked
    (see :func:`_scopes_that_matter`): their summaries are empty, and nothing is lost in
    them."""

    def __init__(
        self,
        tree: ast.Module,
        path: str = "<string>",
        project: Optional[ProjectModeSummaries] = None,
        text: Optional[str] = None,
    ) -> None:
        self._project = project
        self._imports = imported_names(tree, path) if project else {}
        self._functions: dict[str, list[Function]] = {}
        self._classes: dict[str, list[ast.ClassDef]] = {}
        # Every function, with the class it is a method of and the node it is defined in,
        # in the order found.
        found: list[tuple[Function, Optional[ast.ClassDef], ast.AST]] = []
        pending: list[tuple[ast.AST, Optional[ast.ClassDef]]] = [(tree, None)]
        while pending:
            node, owner = pending.pop()
            for child in _statements_in(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found.append((child, owner, node))
                    if node is tree:
                        self._functions.setdefault(child.name, []).append(child)
                    pending.append((child, None))
                elif isinstance(child, ast.ClassDef):
                    self._classes.setdefault(child.name, []).append(child)
                    pending.append((child, child))
                else:
                    pending.append((child, owner))
        matter = None
        if text is not None:
            defined_in = [(function, parent) for function, _, parent in found]
            matter = _scopes_that_matter(text, tree, defined_in, self._imported_call_names())
        self.scopes = [_walk_scope(tree, None)] if matter is None or tree in matter else []
        self._scope_of: dict[Function, _Scope] = {}
        for function, owner, _ in found:
            if matter is None or function in matter:
                scope = _walk_scope(function, owner)
                self.scopes.append(scope)
                self._scope_of[function] = scope
        # What each call resolves to: the summaries do not change it.
        self._resolved = {
            call: self._resolve(call, scope) for scope in self.scopes for call, _ in scope.calls
        }
        self.summaries: dict[Function, Effects] = {function: {} for function in self._scope_of}
        # The functions that take a training step, themselves or through others.
        self.stepping: set[Function] = set()
        self._summarise(rounds=len(found) + 1)  # as many as when every function is walked

    def _summarise(self, rounds: int) -> None:
        """Derive every summary from the last round's, until none changes (or ``rounds``
        have passed). Only the callers of those that changed (in order too: effects are read
        in order) can change: the others are as they were."""
        callers: dict[Callee, set[Function]] = {}
        for function, scope in self._scope_of.items():
            for call, _ in scope.calls:
                resolved = self._resolved[call]
                if resolved is not None:
                    callers.setdefault(resolved[0], set()).add(function)
        again = list(self._scope_of)
        for _ in range(rounds):
            summaries, stepping = dict(self.summaries), set(self.stepping)
            for function in again:
                scope = self._scope_of[function]
                summaries[function] = self._effects(scope)
                if any(self._is_step(call) for call, _ in scope.calls):
                    stepping.add(function)
                else:
                    stepping.discard(function)
            if stepping == self.stepping and all(
                summaries[function] == self.summaries[function] for function in again
            ):
                break
            changed = {
                function
                for function in again
                if list(summaries[function].items()) != list(self.summaries[function].items())
                or (function in stepping) != (function in self.stepping)
            }
            self.summaries, self.stepping = summaries, stepping
            waiting = {caller for callee in changed for caller in callers.get(callee, ())}
            again = [function for function in self._scope_of if function in waiting]

    def lost_modes(self) -> list[LostMode]:
        """Every place in the file where a training loop loses a model's train mode."""
        return [lost for scope in self.scopes for lost in self._lost_in(scope)]

    def exported_summaries(self) -> tuple[FunctionSummary, ...]:
        """The summaries of the file's top-level functions (those defined once) that change
        a mode of what they are given or take a training step, for other files to use."""
        return tuple(
            FunctionSummary(
                function.name,
                tuple(argument.arg for argument in _parameters(function)),
                function in self.stepping,
                tuple(
                    (parameter, suffix, to_train, line)
                    for (parameter, suffix), (to_train, line) in self.summaries[function].items()
                ),
            )
            for function in self.summarised_functions()
            if self._functions.get(function.name) == [function]
        )

    def summarised_functions(self) -> list[Function]:
        """The functions that change a mode of what they are given or take a training
        step: the summaries the findings rest on."""
        return [
            function
            for function, effects in self.summaries.items()
            if effects or function in self.stepping
        ]

    def _is_step(self, call: ast.Call) -> bool:
        """A training step, or a call of a function of the file that takes one."""
        if is_training_step(call):
            return True
        resolved = self._resolved[call]
        if resolved is None:
            return False
        callee = resolved[0]
        if isinstance(callee, ImportedSummary):
            return callee.summary.stepping
        return callee in self.stepping

    def _lost_in(self, scope: _Scope) -> Iterator[LostMode]:
        steps = [(call, loops) for call, loops in scope.calls if self._is_step(call)]
        changes = [(change, loops) for change, loops in self._changes(scope)]
        for change, loops in changes:
            if change.to_train or change.receiver == ANYTHING or _never_trained(change.receiver):
                continue
            loop = next(
                (loop for loop in reversed(loops) if any(loop in inside for _, inside in steps)),
                None,
            )
            if loop is None:
                continue
            before = [
                call
                for call, inside in steps
                if loop in inside and _position(call) < _position(change.call)
            ]
            restored = any(
                other.to_train and loop in inside and scope.related(other.receiver, change.receiver)
                for other, inside in changes
            )
            if (
                before
                and not restored
                and not _leaves_loop_after(change.call, loop, scope)
                and not _in_last_iteration(change.call, _outermost_stepping(loops, steps), scope)
            ):
                yield LostMode(change, max(before, key=_position))

    def _changes(self, scope: _Scope) -> Iterator[tuple[ModeChange, tuple[ast.stmt, ...]]]:
        for call, loops in scope.calls:
            direct = direct_mode_change(call)
            if direct is not None:
                yield direct, loops
                continue
            for change in self._helper_changes(call):
                yield change, loops

    def _effects(self, scope: _Scope) -> Effects:
        """What the function does to the modes of its parameters, as it leaves them."""
        function = scope.node
        assert not isinstance(function, ast.Module)
        parameters = {argument.arg for argument in _parameters(function)}
        changes = [change for change, _ in self._changes(scope)]
        effects: Effects = {}
        for change in changes:
            root, _, rest = change.receiver.partition(".")
            if root not in parameters:
                continue
            key = (root, f".{rest}" if rest else "")
            if change.to_train:
                effects[key] = (True, change.line)
            elif not any(
                other.to_train and scope.related(other.receiver, change.receiver)
                for other in changes
            ):
                effects.setdefault(key, (False, change.line))
        return effects

    def _helper_changes(self, call: ast.Call) -> Iterator[ModeChange]:
        """The mode changes a call of one of the file's functions or methods makes."""
        resolved = self._resolved[call]
        if resolved is None:
            return
        callee, bound = resolved
        if isinstance(callee, ImportedSummary):
            name, path = callee.summary.name, callee.path
            effects = [(p, s, train, line) for p, s, train, line in callee.summary.effects]
        else:
            name, path = callee.name, None
            known = self.summaries.get(callee, {})  # none: a function whose text cannot matter
            effects = [(p, s, train, line) for (p, s), (train, line) in known.items()]
        for parameter, suffix, to_train, line in effects:
            if parameter not in bound:
                continue
            given = bound[parameter]
            receiver = ANYTHING if given is None else given + suffix
            yield ModeChange(call, receiver, to_train, name, line, path)

    def _resolve(
        self, call: ast.Call, scope: _Scope
    ) -> Optional[tuple[Callee, dict[str, Optional[str]]]]:
        """The function called, and the dotted argument bound to each of its parameters
        (None where the argument cannot be named). Only ``f(...)`` for the file's one
        top-level ``f``, ``self.m(...)`` in a method, for its class's ``m``, and ``f(...)``
        or ``module.f(...)`` for a function imported from another file of the project."""
        func = call.func
        if any(isinstance(arg, ast.Starred) for arg in call.args) or any(
            keyword.arg is None for keyword in call.keywords
        ):
            return None
        instance: Optional[str] = None
        local = isinstance(func, ast.Name) and func.id in self._functions
        imported = None if local else self._imported(func)
        if imported is not None:
            return imported, _bound(call, list(imported.summary.parameters), None)
        if isinstance(func, ast.Name):
            candidates = self._functions.get(func.id, [])
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and scope.method_of is not None
            and not isinstance(scope.node, ast.Module)
            and _parameters(scope.node)
            and func.value.id == _parameters(scope.node)[0].arg
        ):
            instance = func.value.id
            candidates = self._methods(scope.method_of, func.attr)
        else:
            return None
        if len(candidates) != 1:
            return None
        helper = candidates[0]
        parameters = [argument.arg for argument in _parameters(helper)]
        if instance is not None and not parameters:
            return None
        return helper, _bound(call, parameters, instance)

    def _imported_call_names(self) -> set[str]:
        """The names a call that :meth:`_imported` resolves ends with: a summarised function's
        (``utils.evaluate(...)``), or the local name of an import of one (``ev(...)``, after
        ``from utils import evaluate as ev``)."""
        if not self._imports or self._project is None:
            return set()
        known = self._project.function_names()
        return {*known, *(local for local, name in self._imports.items() if name.split(".")[-1] in known)}

    def _imported(self, func: ast.expr) -> Optional[ImportedSummary]:
        """What a call of ``func`` resolves to when it names an imported function."""
        name = dotted_name(func)
        if name is None:
            return None
        root, dot, rest = name.partition(".")
        if root not in self._imports or self._project is None:
            return None
        return self._project.find(self._imports[root] + dot + rest)

    def _methods(self, owner: ast.ClassDef, name: str) -> list[Function]:
        """The methods called ``name`` of the class, or of the nearest base defining one."""
        seen: set[str] = set()
        pending = [owner]
        while pending:
            current = pending.pop(0)
            found = [
                statement
                for statement in current.body
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
                and statement.name == name
            ]
            if found:
                return found[-1:]
            for base in current.bases:
                if isinstance(base, ast.Name) and base.id not in seen:
                    seen.add(base.id)
                    pending.extend(self._classes.get(base.id, []))
        return []


def file_mode_summaries(source: bytes) -> tuple[FunctionSummary, ...]:
    """The summaries other files may use of this file's top-level functions (none for a
    file that does not parse, or has no mode change or training step).

    Most files are model files, whose mode changes are in methods: one whose top-level
    functions' text (read with strings blanked, :func:`~.mode_summaries.top_level_function_spans`)
    holds no mode change or step is not parsed.
    """
    if _MODE_OR_STEP.search(source) is None:
        return ()
    code = ByteScan(source).code
    if code is not None and not any(
        _MODE_OR_STEP.search(source, span.start, span.stop) for span in top_level_function_spans(code.text)
    ):
        return ()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    # Only top-level functions are exported: classes (most of a model file) are left out,
    # and a file none of whose functions holds a mode change or a step exports nothing.
    functions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    lines = source.splitlines(keepends=True)
    if not any(
        _MODE_OR_STEP.search(b"".join(lines[function.lineno - 1 : function.end_lineno]))
        for function in functions
    ):
        return ()
    return ModeFlow(ast.Module(body=functions, type_ignores=[])).exported_summaries()


def _bound(call: ast.Call, parameters: list[str], instance: Optional[str]) -> dict[str, Optional[str]]:
    """The dotted argument (None where it cannot be named) bound to each parameter, by
    position and keyword; ``instance`` is bound to the first, for a method."""
    bound: dict[str, Optional[str]] = {}
    if instance is not None:
        bound[parameters[0]] = instance
        parameters = parameters[1:]
    for name, value in zip(parameters, call.args):
        bound[name] = dotted_name(value)
    for keyword in call.keywords:
        bound[keyword.arg] = dotted_name(keyword.value)  # type: ignore[index]
    return bound


def _parameters(function: Function) -> list[ast.arg]:
    arguments = function.args
    return [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]


def _statements_in(node: ast.AST) -> Iterator[ast.AST]:
    """The statements (and ``except`` and ``case`` clauses) directly in the node's blocks, in
    the order of ``ast.iter_child_nodes``: where a function or a class may be defined."""
    for field in ("body", "handlers", "orelse", "finalbody", "cases"):
        yield from getattr(node, field, ())


def _scopes_that_matter(
    text: str,
    tree: ast.Module,
    functions: Sequence[tuple[Function, ast.AST]],
    imported: Collection[str],
) -> set[ast.AST]:
    """The module and the functions (each with the node it is defined in) whose own calls
    may change a mode, take a training step or call a function that does, read from their
    lines of ``text`` (a superset): those that write a mode change or a step, a name of
    ``imported`` (the names a call of another file's summarised function may end with), the
    name of a top-level function that matters, or ``.name`` for a method that matters. Any
    other scope has an empty summary and loses no mode."""
    starts = line_starts(text)
    # Each scope's text: the module's statements but definitions; a function from its
    # first decorator (whose calls are the function's own, as `_walk_scope` reads them).
    units: list[tuple[ast.AST, list[tuple[int, int]]]] = [
        (
            tree,
            [
                (starts[statement.lineno - 1], starts[statement.end_lineno])  # type: ignore[index]
                for statement in tree.body
                if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            ],
        )
    ]
    for function, _ in functions:
        first = first_line(function)
        last: int = function.end_lineno  # type: ignore[assignment]
        units.append((function, [(starts[first - 1], starts[last])]))

    def written(pattern: _Finder, lines: list[tuple[int, int]]) -> bool:
        return any(pattern.search(text, start, end) for start, end in lines)

    def outside_ascii(lines: list[tuple[int, int]]) -> bool:
        """Python reads a name in other letters as ASCII: `ｅｖａｌ` is `eval`."""
        return not text.isascii() and any(not text[start:end].isascii() for start, end in lines)

    seeds = [_MODE_OR_STEP_TEXT, *([_names(imported)] if imported else [])]
    matter = {
        node
        for node, lines in units
        if any(written(seed, lines) for seed in seeds) or outside_ascii(lines)
    }
    # How a call names a function of the file: `f(...)` for the top-level `f`, `self.m(...)`
    # for a method `m`; each name is looked for once.
    callees = {
        False: {function: function.name for function, parent in functions if parent is tree},
        True: {
            function: function.name
            for function, parent in functions
            if isinstance(parent, ast.ClassDef)
        },
    }
    searched: dict[bool, set[str]] = {after_dot: set() for after_dot in callees}
    new = set(matter)
    while new:
        patterns = []
        for after_dot, names_of in callees.items():
            names = {names_of[node] for node in new if node in names_of} - searched[after_dot]
            searched[after_dot] |= names
            if names:
                patterns.append(_names(names, after_dot))
        new = {
            node
            for node, lines in units
            if node not in matter and any(written(pattern, lines) for pattern in patterns)
        }
        matter |= new
    return matter


def _names(names: Collection[str], after_dot: bool = False) -> _Finder:
    """Any of the names (after an attribute's dot, when ``after_dot``), as a whole name or the
    end of a longer one (a superset, which a regular expression finds faster)."""
    words = "(?:" + "|".join(map(re.escape, sorted(names))) + r")(?!\w)"
    return _DottedWords(words) if after_dot else re.compile(words)


def _walk_scope(node: Union[ast.Module, Function], method_of: Optional[ast.ClassDef]) -> _Scope:
    """Every call in the scope with its enclosing loops (outermost first), and the names
    assigned from others, not entering nested functions, classes or lambdas."""
    calls: list[tuple[ast.Call, tuple[ast.stmt, ...]]] = []
    aliases: dict[str, str] = {}
    pending: list[tuple[ast.AST, tuple[ast.stmt, ...]]] = [
        (child, ()) for child in ast.iter_child_nodes(node)
    ]
    while pending:
        current, loops = pending.pop()
        if isinstance(current, _SCOPES):
            continue
        if isinstance(current, ast.Call):
            calls.append((current, loops))
        elif isinstance(current, (ast.Assign, ast.AnnAssign)) and current.value is not None:
            targets = current.targets if isinstance(current, ast.Assign) else [current.target]
            named = [found.id for found in ast.walk(current.value) if isinstance(found, ast.Name)]
            for target in targets:
                for assigned in ast.walk(target):
                    if isinstance(assigned, ast.Name):
                        for name in named:
                            _join(aliases, assigned.id, name)
        inner = (*loops, current) if isinstance(current, _LOOPS) else loops
        # ast.iter_child_nodes, less its generators and the leaves, which hold no call.
        for field in current._fields:
            value = getattr(current, field, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and not isinstance(item, _LEAVES):
                        pending.append((item, inner))  # type: ignore[arg-type]
            elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
                pending.append((value, inner))  # type: ignore[arg-type]
    return _Scope(node, method_of, calls, aliases)


def _group(aliases: dict[str, str], name: str) -> str:
    while aliases.get(name, name) != name:
        name = aliases[name]
    return name


def _join(aliases: dict[str, str], first: str, second: str) -> None:
    first, second = _group(aliases, first), _group(aliases, second)
    aliases.setdefault(first, first)
    aliases.setdefault(second, second)
    aliases[first] = second


def _position(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


def _never_trained(receiver: str) -> bool:
    return any(word in _NEVER_TRAINED for word in re.split(r"[._]", receiver.lower()))


def _leaves_loop_after(call: ast.Call, loop: ast.stmt, scope: _Scope) -> bool:
    """Whether a ``break`` out of ``loop``, a ``return`` or a ``raise`` surely follows."""
    node: ast.AST = call
    while node is not loop:
        parent = scope.parents[node]
        if isinstance(node, ast.stmt):
            for block in _blocks(parent):
                if node in block:
                    after = block[block.index(node) + 1 :]
                    if any(_exits(statement, parent, loop, scope) for statement in after):
                        return True
        node = parent
    return False


def _outermost_stepping(
    loops: tuple[ast.stmt, ...], steps: list[tuple[ast.Call, tuple[ast.stmt, ...]]]
) -> ast.stmt:
    return next(loop for loop in loops if any(loop in inside for _, inside in steps))


def _in_last_iteration(call: ast.Call, loop: ast.stmt, scope: _Scope) -> bool:
    """Whether ``call`` is under an ``if`` that may hold only in the last iteration of
    ``loop`` (the outermost loop taking a step), after which no step follows:
    ``if epoch == num_epochs - 1:``, ``if step >= max_steps:``. A periodic test
    (``if (epoch + 1) % k == 0:``) or a first-iteration one (``== 0``) is not."""
    counters = _counters(loop)
    node: ast.AST = call
    while node is not loop:
        parent = scope.parents[node]
        if isinstance(parent, ast.If) and node in parent.body and _last_test(parent.test, counters):
            return True
        node = parent
    return False


def _counters(loop: ast.stmt) -> Optional[set[str]]:
    """The names a ``for`` loop binds; None for a ``while`` loop (any name may count)."""
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        return {node.id for node in ast.walk(loop.target) if isinstance(node, ast.Name)}
    return None


def _last_test(test: ast.expr, counters: Optional[set[str]]) -> bool:
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_last_test(value, counters) for value in test.values)
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    if not isinstance(test.ops[0], (ast.Eq, ast.GtE, ast.Gt)):
        return False
    sides = (test.left, test.comparators[0])
    if any(
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)
        for side in sides
        for node in ast.walk(side)
    ):
        return False
    if any(isinstance(side, ast.Constant) and side.value == 0 for side in sides):
        return False
    names = {node.id for side in sides for node in ast.walk(side) if isinstance(node, ast.Name)}
    return bool(names) if counters is None else bool(names & counters)


def _blocks(node: ast.AST) -> Iterator[list[ast.stmt]]:
    for field in ("body", "orelse", "finalbody"):
        block = getattr(node, field, None)
        if isinstance(block, list):
            yield block


def _exits(statement: ast.stmt, parent: ast.AST, loop: ast.stmt, scope: _Scope) -> bool:
    if isinstance(statement, (ast.Return, ast.Raise)):
        return True
    if not isinstance(statement, ast.Break):
        return False
    # The loop a break leaves is the nearest loop around it.
    node = parent
    while not isinstance(node, _LOOPS):
        node = scope.parents[node]
    return node is loop
