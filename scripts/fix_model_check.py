"""Check that ``dropout-lint --fix`` keeps real timm models' behaviour bit for bit.

    python scripts/fix_model_check.py [--timm DIR] [--stripped DIR]

Inputs (a manual check, like scripts/fix_roundtrip.py; nothing here is a project dependency):

    pip install torchvision pyyaml huggingface_hub safetensors   # timm's own dependencies
    pip download --no-deps timm==1.0.31 -d dl && unzip dl/timm-1.0.31-*.whl -d src/timm
    # the bug dropout-lint fixes: drop ``training=self.training`` from every file that passes it
    for f in $(grep -rlE "training=self\\.training" src/timm --include=*.py); do
      d=stripped/${f#src/}; mkdir -p $(dirname $d)
      sed -E 's/, *training *= *self\\.training//; s/training *= *self\\.training *, *//' $f > $d
    done

``--timm`` is the folder holding the ``timm`` package (default /tmp/realcode/src/timm), and
``--stripped`` the one holding its stripped files (default /tmp/realcode/stripped/timm).

The package is copied twice to a scratch folder: ORIGINAL as published, and FIXED with the
stripped files put in place and then ``dropout-lint --fix`` run over them. For every changed
file, one small model of its module (fewest parameters among ``timm.list_models(module=...)``)
is built with the same seed in a subprocess per copy; FIXED loads ORIGINAL's state dict with
``strict=True``, and both run the same input in eval mode and, reseeded, in train mode. The
outputs must be bit-identical (``torch.equal``). "dropout ran" says whether two train passes
with different seeds differ, i.e. whether the check exercised a dropout at all. Prints a table;
exits 1 on any mismatch or failed strict load. (Negative control: with ``--diff`` in place of
``--fix``, leaving the stripped code buggy, every model's "eval equal" is False.)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

DROP_RATE = 0.2
INPUT_SIZES = (64, 128, 224)
BUILD_SEED, INPUT_SEED, TRAIN_SEED, OTHER_TRAIN_SEED = 0, 1, 2, 3
_keep_alive: list[Any] = []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timm", type=Path, default=Path("/tmp/realcode/src/timm"))
    parser.add_argument("--stripped", type=Path, default=Path("/tmp/realcode/stripped/timm"))
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child[0], Path(args.child[1]))
        return 0
    with tempfile.TemporaryDirectory(prefix="fix_model_check-") as scratch:
        return check(args.timm, args.stripped, Path(scratch))


def check(timm_root: Path, stripped_root: Path, scratch: Path) -> int:
    """Build both copies, run both children, print the table; 1 on any mismatch."""
    stripped = sorted(p.relative_to(stripped_root) for p in stripped_root.rglob("*.py"))
    for variant in ("original", "fixed"):
        shutil.copytree(timm_root / "timm", scratch / variant / "timm",
                        ignore=shutil.ignore_patterns("__pycache__"))
    for relative in stripped:
        shutil.copyfile(stripped_root / relative, scratch / "fixed" / relative)
    fix = subprocess.run(
        [sys.executable, "-m", "dropout_lint", "--isolated", "--no-cache", "--fix",
         *(str(scratch / "fixed" / relative) for relative in stripped)],
        check=False, capture_output=True, text=True,
    )
    print(fix.stdout.strip() or fix.stderr.strip())
    if fix.returncode not in (0, 1):
        print(fix.stderr, file=sys.stderr)
        return 1
    modules = {relative.stem: relative for relative in stripped if relative.parent == Path("timm/models")}
    (scratch / "modules.json").write_text(json.dumps(sorted(modules)))
    for variant in ("original", "fixed"):
        subprocess.run(
            [sys.executable, __file__, "--child", variant, str(scratch)],
            env={**_clean_env(), "PYTHONPATH": str(scratch / variant)}, cwd=scratch, check=True,
        )
    return report(scratch, modules, timm_root)


def report(scratch: Path, modules: dict[str, Path], timm_root: Path) -> int:
    import torch

    plan = json.loads((scratch / "plan.json").read_text())
    original = torch.load(scratch / "original.pt")
    fixed = torch.load(scratch / "fixed.pt")
    rows = [("model", "file", "fix", "eval equal", "train equal", "state dict strict", "dropout ran")]
    failed = False
    for module, relative in sorted(modules.items()):
        entry = plan[module]
        if "skip" in entry:
            rows.append((module, str(relative), "", "skipped", entry["skip"], "", ""))
            continue
        name, theirs, ours = entry["model"], original[entry["model"]], fixed[entry["model"]]
        restored = (scratch / "fixed" / relative).read_bytes() == (timm_root / relative).read_bytes()
        eval_equal = torch.equal(theirs["eval"], ours["eval"])
        train_equal = torch.equal(theirs["train"], ours["train"])
        strict = ours["strict"]
        failed |= not (eval_equal and train_equal and strict == "ok")
        rows.append((name, str(relative), "restored" if restored else "rewritten",
                     str(eval_equal), str(train_equal), strict, str(theirs["dropout_ran"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    checked = sum(1 for module in modules if "skip" not in plan[module])
    print(f"{checked} models checked: {'MISMATCH' if failed else 'all bit-identical'}")
    return 1 if failed else 0


def _clean_env() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def run_child(variant: str, workdir: Path) -> None:
    """Run every planned model in this copy; ORIGINAL also makes the plan and the state dicts."""
    import torch

    timm = _import_timm()
    assert Path(timm.__file__).is_relative_to(workdir / variant), timm.__file__
    plan_file = workdir / "plan.json"
    if variant == "original":
        modules = json.loads((workdir / "modules.json").read_text())
        plan_file.write_text(json.dumps({module: plan_model(timm, module) for module in modules}))
    plan = json.loads(plan_file.read_text())
    results: dict[str, dict[str, Any]] = {}
    for entry in plan.values():
        if "skip" in entry:
            continue
        name = entry["model"]
        torch.manual_seed(BUILD_SEED)
        model = build(timm, name, entry["kwargs"])
        state_file = workdir / f"state-{name}.pt"
        result: dict[str, Any] = {}
        if variant == "original":
            torch.save(model.state_dict(), state_file)
        else:
            try:
                model.load_state_dict(torch.load(state_file), strict=True)
                result["strict"] = "ok"
            except RuntimeError as error:
                result["strict"] = " ".join(str(error).split())[:80]
        size = entry["size"]
        x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(INPUT_SEED))
        with torch.no_grad():
            model.eval()
            result["eval"] = model(x)
            model.train()
            torch.manual_seed(TRAIN_SEED)
            result["train"] = model(x)
            torch.manual_seed(OTHER_TRAIN_SEED)
            result["dropout_ran"] = not torch.equal(result["train"], model(x))
        results[name] = result
    torch.save(results, workdir / f"{variant}.pt")


def plan_model(timm: Any, module: str) -> dict[str, Any]:
    """The module's model with fewest parameters, the kwargs it accepts and an input size it runs."""
    import torch

    candidates = []
    for name in timm.list_models(module=module):
        try:
            with torch.device("meta"):
                model = timm.create_model(name, pretrained=False, num_classes=10)
        except Exception:  # noqa: BLE001,S112 - a model that cannot be built is not this check's business
            continue
        candidates.append((sum(p.numel() for p in model.parameters()), name))
    if not candidates:
        return {"skip": "no model of the module builds"}
    name = min(candidates)[1]
    # proj_drop_rate: densenet's and rdnet's dropout after each block; drop only what is rejected
    kwargs = {"proj_drop_rate": DROP_RATE, "drop_path_rate": 0.0}
    while True:
        try:
            model = build(timm, name, kwargs)
            break
        except TypeError as error:
            rejected = [key for key in kwargs if f"argument '{key}'" in str(error)]
            if not rejected:
                return {"skip": f"{name}: {error}"}
            del kwargs[rejected[0]]
    model.eval()
    errors = []
    for size in INPUT_SIZES:
        try:
            with torch.no_grad():
                model(torch.zeros(2, 3, size, size))
            return {"model": name, "kwargs": kwargs, "size": size}
        except Exception as error:  # noqa: BLE001 - any failure means: try the next size
            errors.append(f"{size}: {type(error).__name__}")
    return {"skip": f"{name} runs no input size ({', '.join(errors)})"}


def build(timm: Any, name: str, kwargs: dict[str, float]) -> Any:
    """The model with dropout on (``drop_rate``) and untrained weights."""
    return timm.create_model(name, pretrained=False, num_classes=10, drop_rate=DROP_RATE, **kwargs)


def _import_timm() -> Any:
    """Import timm, first working around a torchvision whose C extension does not load.

    The PyPI torchvision wheel is built for CUDA torch; on CPU torch its ``_C`` fails to load
    and ``import torchvision`` then fails on ``register_fake("torchvision::nms")``. Defining the
    two operator schemas it registers fakes for lets the pure-Python part (all timm needs) import.
    """
    import torch

    try:
        import torchvision  # noqa: F401
    except RuntimeError as error:
        if "torchvision::" not in str(error):
            raise
        for name in [name for name in sys.modules if name.split(".")[0] == "torchvision"]:
            del sys.modules[name]
        library = torch.library.Library("torchvision", "DEF")
        library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
        _keep_alive.append(library)
    import timm

    return timm


if __name__ == "__main__":
    sys.exit(main())
