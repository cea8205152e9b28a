"""DRP030: a training loop that evaluates and never puts the model back in train mode."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..engine.rule import Invalid, Rule, Valid
from ..prefilter.byte_scan import held

if TYPE_CHECKING:
    import ast

    from ..analysis.mode_summaries import ProjectModeSummaries
    from ..prefilter.syntax_scan import SyntaxScan


class ModelLeftInEvalMode(Rule):
    code = "DRP030"
    name = "model-left-in-eval-mode"
    summary = "A training loop puts the model in eval mode and takes its next step without `train()`"
    explanation = """
## What it does
Checks loops that take a training step (`loss.backward()`, `optimizer.step()`,
`scaler.step(optimizer)`, `accelerator.backward(loss)`) for a call that leaves a model in
eval mode after a step — `model.eval()`, `model.train(False)`, or a function or method of
the project that does so to what it is given (`evaluate(model, loader)`, defined in the
same file or imported from another: `from utils import evaluate`) without restoring it —
when nothing in the loop calls `model.train()` (directly or through such a helper) before
the next step.

The rule errs towards silence. A `train()` anywhere in the loop counts, conditional or not,
on the model, a parent or a child of it, or a name assigned from it (`parallel =
DataParallel(model)`); so does a `break`, `return` or `raise` after the eval call, and an
`if` that may hold only in the last iteration (`if epoch == num_epochs - 1:`,
`if step >= max_steps:`; a periodic `if epoch % k == 0:` is reported). Not reported: eval
calls before the loop's first step (a frozen `backbone.eval()` at the top of each
iteration), averaged or target copies (names with `ema`, `swa`, `teacher`, `target`,
`frozen`), helpers that restore the mode they found, and framework-owned loops
(Lightning's `training_step`/`validation_step` are not loops of your code). Helpers, for
training steps and mode changes alike, are followed within the file (`f(...)` for the
file's top-level `f`, `self.m(...)` and `cls.m(...)` for the class's own `m`) and, for
top-level functions imported at module level, into the other files of the run (a helper's
own calls into a third file are not followed).

## Why is this bad?
`model.eval()` turns dropout off and makes batch norm use its running statistics. A loop
that validates with `model.eval()` (directly or in a helper) and never calls
`model.train()` again trains every epoch after the first with dropout off and frozen
batch statistics, while the optimizer keeps stepping. Nothing fails: the model just
generalises worse.

## Example
```python
def evaluate(model, loader):
    model.eval()
    with torch.no_grad():
        return sum(model(x).sum() for x in loader)

model.train()
for epoch in range(epochs):
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    evaluate(model, val_loader)
```

## Use instead
```python
for epoch in range(epochs):
    model.train()
    for x, y in loader:
        ...
    evaluate(model, val_loader)
```

## Fix safety
No automatic fix: where the loop should put the model back is for the author to say
(inserting `model.train()` at the top of the loop body is the usual answer).

## References
- [torch.nn.Module.eval](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval)
- [torch.nn.Module.train](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.train)
"""
    # A training step, as mode_flow.is_training_step reads it: `.backward(` or `.step(`.
    # The eval may be in a helper of another file, so the file need not hold `.eval(`;
    # a loop whose only steps are in helpers of other files is not checked. The blanks
    # are never given back (`*+`: a name cannot start with one), so each of a file's
    # many dots is given up at once.
    trigger = re.compile(held(rb"\.[ \t]*+(?:backward|step)\b"))

    valid = (
        Valid(
            """
def fit(model, loader, val_loader, optimizer, epochs):
    for epoch in range(epochs):
        model.train()
        for x in loader:
            model(x).sum().backward()
            optimizer.step()
        model.eval()
        evaluate(model, val_loader)
"""
        ),
        Valid(
            """
def fit(model, loader, optimizer):
    for step, x in enumerate(loader):
        model(x).sum().backward()
        optimizer.step()
        if step % 100 == 0:
            model.eval()
            validate(model)
            model.train()
"""
        ),
        Valid(
            """
def evaluate(model, loader):
    was_training = model.training
    model.eval()
    result = [model(x) for x in loader]
    model.train(was_training)
    return result

def fit(model, loader, optimizer):
    for epoch in range(3):
        for x in loader:
            model(x).sum().backward()
            optimizer.step()
        evaluate(model, loader)
"""
        ),
        Valid(
            """
def fit(model, backbone, head, ema_model, loader, optimizer):
    for x in loader:
        backbone.eval()  # frozen: its statistics stay fixed, before every step
        loss = head(backbone(x)).sum()
        loss.backward()
        optimizer.step()
        ema_model.eval()
        ema_model(x)
"""
        ),
        Valid(
            """
import lightning as L

class Model(L.LightningModule):
    def training_step(self, batch, batch_idx):
        loss = self(batch).sum()
        self.manual_backward(loss)
        self.optimizers().step()

    def on_validation_epoch_start(self):
        self.backbone.eval()
"""
        ),
        Valid(
            """
def fit(model, loader, optimizer):
    for x in loader:
        model(x).sum().backward()
        optimizer.step()
        if converged(model):
            model.eval()
            break
"""
        ),
        Valid(
            """
def fit(model, loader, optimizer, epochs):
    model.train()
    for epoch in range(epochs):
        for x in loader:
            model(x).sum().backward()
            optimizer.step()
    model.eval()
"""
        ),
        Valid(
            """
def fit(model, loader, val_loader, optimizer, num_epochs):
    model.train()
    for epoch in range(num_epochs):
        for x in loader:
            model(x).sum().backward()
            optimizer.step()
        if epoch == num_epochs - 1:  # the last epoch: no step follows
            model.eval()
            evaluate(model, val_loader)
"""
        ),
    )
    invalid = (
        Invalid(
            """
def fit(model, loader, val_loader, optimizer, epochs):
    model.train()
    for epoch in range(epochs):
        for x in loader:
            loss = model(x).sum()
            loss.backward()
            optimizer.step()
        model.eval()  # expect
        with torch.no_grad():
            for x in val_loader:
                model(x)
"""
        ),
        Invalid(
            """
def evaluate(model, loader):
    model.eval()
    return [model(x) for x in loader]

def fit(model, loader, optimizer, scaler):
    for step, x in enumerate(loader):
        scaler.scale(model(x).sum()).backward()
        scaler.step(optimizer)
        if step % 500 == 0:
            evaluate(model, loader)  # expect
"""
        ),
        Invalid(
            """
def fit(model, loader, val_loader, optimizer, num_epochs, k):
    model.train()
    for epoch in range(num_epochs):
        for x in loader:
            model(x).sum().backward()
            optimizer.step()
        if (epoch + 1) % k == 0:  # every k-th epoch, and training goes on
            model.eval()  # expect
            evaluate(model, val_loader)
"""
        ),
        Invalid(
            """
class Trainer:
    def validate(self):
        self.model.train(False)
        return self.model(self.batch)

    def fit(self, epochs):
        self.model.train()
        for epoch in range(epochs):
            self.accelerator.backward(self.model(self.batch).sum())
            self.optimizer.step()
            self.validate()  # expect
"""
        ),
    )

    @classmethod
    def may_fire_in_project(cls, text: str, mode_summaries: ProjectModeSummaries) -> bool:
        """A mode is lost only after a change to eval: one the file writes (in a function of
        its own too), or one made by a function of another file, whose name it then writes
        (in the call, or in the import that binds it). Most files with a ``.step()`` have
        neither, and are never parsed for this rule. Of the others, those whose changes or
        steps are all in strings and comments (or are calls to train, or no calls) are not
        parsed either."""
        from ..analysis.mode_flow import may_change_mode, may_lose_mode

        return (
            may_change_mode(text) or any(name in text for name in mode_summaries.evaluating_names)
        ) and may_lose_mode(text, mode_summaries)

    @classmethod
    def sites(cls, scan: SyntaxScan) -> list[ast.AST]:
        """The calls that lose the mode, and the functions whose summaries say so."""
        # The engine asks `may_fire_in_project` before parsing, but not for the server's
        # traced lint: asked again here, it spares that path the walk too. (The mode flow
        # is imported only for a file that passes the trigger, as flake8 imports this for
        # every process.)
        from ..analysis.mode_flow import ModeFlow
        from ..analysis.mode_summaries import ProjectModeSummaries

        if not cls.may_fire_in_project(scan.text, scan.mode_summaries or ProjectModeSummaries()):
            return []
        flow = ModeFlow(scan.tree, scan.path, scan.mode_summaries, scan.text)
        lost = flow.lost_modes()
        if not lost:
            return []
        return [*(found.change.call for found in lost), *flow.summarised_functions()]
