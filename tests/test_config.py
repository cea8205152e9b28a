"""Settings loading and ruff-style rule selection, against small fake rules."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import pytest

from dropout_lint.engine.lint import DEFAULT_MAX_FILE_SIZE
from dropout_lint.engine.rule import Rule
from dropout_lint.workspace.config_error import ConfigError
from dropout_lint.workspace.config_files import find_config_file, load_settings
from dropout_lint.workspace.path_patterns import PathPattern, PathPatterns
from dropout_lint.workspace.settings import DEFAULT_EXCLUDE, Settings


def fake_rule(code: str, default_enabled: bool = True) -> type[Rule]:
    attributes = {
        "code": code,
        "name": f"fake-{code.lower()}",
        "summary": f"Fake rule {code}",
        "explanation": f"What {code} does.",
        "trigger": re.compile("dropout"),
        "default_enabled": default_enabled,
    }
    return type(f"Fake{code}", (Rule,), attributes)


FAKE_RULES = (
    fake_rule("DRP001"),
    fake_rule("DRP002"),
    fake_rule("DRP003", default_enabled=False),
    fake_rule("DRP010"),
    fake_rule("DRP020"),
)


def codes(rules) -> list[str]:
    return [rule.code for rule in rules]


def write_pyproject(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "pyproject.toml"
    path.write_text(body, encoding="utf-8")
    return path


def selected(tmp_path: Path, table: str = "", **overrides) -> list[str]:
    config = write_pyproject(tmp_path, "[tool.dropout-lint]\n" + table)
    return codes(load_settings(config, overrides).rules_for("a.py", FAKE_RULES))


# find_config_file


def test_find_config_file_skips_pyprojects_without_the_table(tmp_path: Path) -> None:
    outer = write_pyproject(tmp_path, "[tool.dropout-lint]\nignore = ['DRP002']\n")
    write_pyproject(tmp_path / "pkg", "[project]\nname = 'pkg'\n")
    start = tmp_path / "pkg" / "src"
    start.mkdir()
    assert find_config_file(start) == outer


def test_find_config_file_takes_the_nearest_with_the_table(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.dropout-lint]\n")
    inner = write_pyproject(tmp_path / "pkg", "[tool.dropout-lint]\nselect = ['DRP0']\n")
    assert find_config_file(tmp_path / "pkg") == inner


def test_find_config_file_returns_none_without_any_table(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.ruff]\n")
    assert find_config_file(tmp_path) is None


def test_find_config_file_reports_broken_toml(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "[tool.dropout-lint\n")
    with pytest.raises(ConfigError, match="pyproject.toml"):
        find_config_file(tmp_path)


# load_settings


def test_defaults_without_a_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, {})
    assert settings.root == tmp_path
    assert settings.exclude == DEFAULT_EXCLUDE
    assert settings.extend_exclude == ()
    assert settings.fix_style == "module"
    assert settings.max_file_size == DEFAULT_MAX_FILE_SIZE == 4 * 1024 * 1024
    assert settings.respect_gitignore is True
    assert codes(settings.rules_for("a.py", FAKE_RULES)) == ["DRP001", "DRP002", "DRP010", "DRP020"]


def test_kebab_case_keys_are_read(tmp_path: Path) -> None:
    config = write_pyproject(
        tmp_path,
        """
[tool.dropout-lint]
extend-exclude = ["gen"]
exclude = ["out"]
fix-style = "training-flag"
max-file-size = 1000
respect-gitignore = false
per-file-ignores = { "tests/*" = ["DRP001"] }
""",
    )
    settings = load_settings(config, {})
    assert settings.root == tmp_path
    assert settings.exclude == ("out",)
    assert settings.extend_exclude == ("gen",)
    assert settings.fix_style == "training-flag"
    assert settings.max_file_size == 1000
    assert settings.respect_gitignore is False
    assert dict(settings.per_file_ignores) == {"tests/*": ("DRP001",)}


def test_command_line_overrides_win_and_none_means_not_given(tmp_path: Path) -> None:
    config = write_pyproject(
        tmp_path, '[tool.dropout-lint]\nfix-style = "training-flag"\nmax-file-size = 10\n'
    )
    settings = load_settings(config, {"fix_style": "module", "max_file_size": None})
    assert settings.fix_style == "module"
    assert settings.max_file_size == 10


def test_command_line_extend_exclude_adds_to_the_file(tmp_path: Path) -> None:
    config = write_pyproject(tmp_path, '[tool.dropout-lint]\nextend-exclude = ["a"]\n')
    assert load_settings(config, {"extend_exclude": ["b"]}).extend_exclude == ("a", "b")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("selct = ['DRP']", r"unknown setting 'selct'"),
        ("extend_select = ['DRP']", r"unknown setting 'extend_select'"),
        ("select = 'DRP001'", r"'select' must be a list of strings, not str"),
        ("ignore = [1]", r"'ignore' must be a list of strings"),
        ("select = ['drp001']", r"'drp001' is not a rule code"),
        ("fix-style = 'inline'", r"'fix-style' must be one of 'module', 'training-flag'"),
        ("max-file-size = -1", r"'max-file-size' must be a positive integer"),
        ("max-file-size = true", r"'max-file-size' must be a positive integer"),
        ("respect-gitignore = 'yes'", r"'respect-gitignore' must be true or false"),
        ("per-file-ignores = ['x']", r"'per-file-ignores' must be a table"),
        ("per-file-ignores = { 'x' = 'DRP001' }", r"'per-file-ignores'\['x'\] must be a list"),
    ],
)
def test_bad_settings_name_the_file_and_key(tmp_path: Path, table: str, message: str) -> None:
    config = write_pyproject(tmp_path, f"[tool.dropout-lint]\n{table}\n")
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings(config, {})
    assert str(config) in str(raised.value)


def test_bad_override_names_the_command_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^command line: 'fix_style' must be one of"):
        load_settings(None, {"fix_style": "nope"})
    with pytest.raises(ConfigError, match=r"^command line: unknown setting 'colour'"):
        load_settings(None, {"colour": True})


# Rule selection


def test_select_replaces_the_defaults(tmp_path: Path) -> None:
    assert selected(tmp_path, select=["DRP01"]) == ["DRP010"]


def test_extend_select_adds_and_ignore_removes(tmp_path: Path) -> None:
    assert selected(tmp_path, select=["DRP01"], extend_select=["DRP02"]) == ["DRP010", "DRP020"]
    assert selected(tmp_path, ignore=["DRP00"]) == ["DRP010", "DRP020"]


def test_more_specific_selector_wins(tmp_path: Path) -> None:
    chosen = selected(tmp_path, select=["DRP"], ignore=["DRP0"], extend_select=["DRP001"])
    assert chosen == ["DRP001"]
    assert selected(tmp_path, select=["DRP00"], ignore=["DRP001"]) == ["DRP002"]


def test_ignore_wins_over_select_of_equal_specificity(tmp_path: Path) -> None:
    assert selected(tmp_path, select=["DRP001", "DRP002"], ignore=["DRP001"]) == ["DRP002"]


def test_off_by_default_rule_needs_its_full_code_or_all(tmp_path: Path) -> None:
    assert "DRP003" not in selected(tmp_path, select=["DRP"])
    assert "DRP003" not in selected(tmp_path, select=["DRP00"])
    assert selected(tmp_path, extend_select=["DRP003"]) == [
        "DRP001",
        "DRP002",
        "DRP003",
        "DRP010",
        "DRP020",
    ]
    assert "DRP003" in selected(tmp_path, select=["ALL"])


def test_command_line_select_resets_the_files_ignore(tmp_path: Path) -> None:
    chosen = selected(tmp_path, "ignore = ['DRP001']\n", select=["DRP001"])
    assert chosen == ["DRP001"]


def test_command_line_ignore_applies_on_top_of_the_files_selection(tmp_path: Path) -> None:
    chosen = selected(tmp_path, "select = ['DRP0']\nextend-select = ['DRP001']\n", ignore=["DRP0"])
    assert chosen == []


def test_unknown_selector_is_a_config_error(tmp_path: Path) -> None:
    settings = load_settings(None, {"select": ["XYZ9"]})
    with pytest.raises(ConfigError, match=r"command line: unknown rule selector 'XYZ9'"):
        settings.enabled_rules(FAKE_RULES)
    config = write_pyproject(
        tmp_path, "[tool.dropout-lint]\nper-file-ignores = {'a.py' = ['DRP7']}\n"
    )
    with pytest.raises(ConfigError, match=r"unknown rule selector 'DRP7'"):
        load_settings(config, {}).rules_for("b.py", FAKE_RULES)


# per-file-ignores


@pytest.fixture
def per_file_settings(tmp_path: Path) -> Settings:
    config = write_pyproject(
        tmp_path,
        """
[tool.dropout-lint.per-file-ignores]
"test_*.py" = ["DRP001"]
"scripts/*.py" = ["DRP00"]
"legacy" = ["DRP020"]
"docs/**/conf.py" = ["DRP010"]
""",
    )
    return load_settings(config, {})


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("pkg/model.py", ["DRP001", "DRP002", "DRP010", "DRP020"]),
        ("test_model.py", ["DRP002", "DRP010", "DRP020"]),
        ("deep/in/tests/test_model.py", ["DRP002", "DRP010", "DRP020"]),
        ("scripts/train.py", ["DRP010", "DRP020"]),
        ("pkg/scripts/train.py", ["DRP001", "DRP002", "DRP010", "DRP020"]),
        ("pkg/legacy/old.py", ["DRP001", "DRP002", "DRP010"]),
        ("docs/conf.py", ["DRP001", "DRP002", "DRP020"]),
        ("docs/a/b/conf.py", ["DRP001", "DRP002", "DRP020"]),
    ],
)
def test_per_file_ignores_match_relative_to_root(
    per_file_settings: Settings, relative: str, expected: list[str]
) -> None:
    path = per_file_settings.root / relative
    assert codes(per_file_settings.rules_for(str(path), FAKE_RULES)) == expected


def test_per_file_ignores_use_root_not_cwd(
    per_file_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "scripts").mkdir()
    monkeypatch.chdir(tmp_path / "scripts")
    assert codes(per_file_settings.rules_for("train.py", FAKE_RULES)) == ["DRP010", "DRP020"]


def test_rules_for_is_memoized_per_matching_patterns(per_file_settings: Settings) -> None:
    root = per_file_settings.root
    first = per_file_settings.rules_for(str(root / "a/test_x.py"), FAKE_RULES)
    second = per_file_settings.rules_for(str(root / "b/test_y.py"), FAKE_RULES)
    assert first is second


def test_settings_survive_pickling_for_worker_processes(per_file_settings: Settings) -> None:
    per_file_settings.rules_for("x.py", FAKE_RULES)
    copy = pickle.loads(pickle.dumps(per_file_settings))
    assert copy == per_file_settings
    path = str(copy.root / "test_x.py")
    assert codes(copy.rules_for(path, FAKE_RULES)) == ["DRP002", "DRP010", "DRP020"]


# PathPattern


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.py", "a/b.py", True),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/sub/a.py", False),
        ("src/**/*.py", "src/sub/a.py", True),
        ("src/**/*.py", "src/a.py", True),
        ("src/**", "src/a/b", True),
        ("a?c", "x/abc", True),
        ("a?c", "x/a/c", False),
        ("[ab].py", "b.py", True),
        ("[!ab].py", "c.py", True),
        ("[!ab].py", "a.py", False),
        ("*.egg-info", "x/foo.egg-info", True),
        ("build", "build2", False),
    ],
)
def test_path_pattern(pattern: str, path: str, matches: bool) -> None:
    assert PathPattern(pattern).matches(path) is matches


@pytest.mark.parametrize(
    "relative",
    ["build", "pkg/build", "pkg/build/x.py", "a/b/test_x.py", "test_x.py", ".", "venv/lib",
     "src/gen/x_pb2.py", "docs/conf.py", "a/docs/conf.py", "/abs/outside/x.py"],
)
def test_patterns_matched_at_once_match_as_each_does(relative: str) -> None:
    globs = ["build", "test_*.py", "**/gen/*_pb2.py", "docs/conf.py", "venv/", "[ab]/docs/*"]
    patterns = [PathPattern(glob) for glob in globs]
    assert PathPatterns(patterns).match(relative) == any(p.matches(relative) for p in patterns)
    assert not PathPatterns([]).match(relative)


@pytest.mark.parametrize(
    "root, path, relative",
    [
        ("/work/p", "/work/p/a/b.py", "a/b.py"),
        ("/work/p", "/work/p", "."),
        ("/work/p", "/work/pkg/x.py", "/work/pkg/x.py"),  # a sibling sharing a prefix
        ("/work/p/", "/work/p/./a/../b.py", "b.py"),
        ("/", "/etc/x.py", "etc/x.py"),
    ],
)
def test_relative_path_is_relative_to_the_root_or_absolute(root: str, path: str, relative: str) -> None:
    assert Settings(root=Path(root)).relative_path(path) == relative


@pytest.mark.parametrize(
    "root, directory",
    [("/work/p", "/work/p"), ("/work/p", "/work/p/a"), ("/work/p", "/work/pkg"), ("/work/p", "/"),
     ("/work/p", "/work"), ("/", "/"), ("/", "/etc")],
)
def test_entry_prefix_starts_each_entrys_relative_path(root: str, directory: str) -> None:
    settings = Settings(root=Path(root))
    prefix = settings.entry_prefix(directory)
    for name in ("x.py", "p", "pkg"):
        relative = settings.relative_path(os.path.join(directory, name))
        if prefix is None:
            assert directory == os.path.dirname(root)  # where root itself is an entry
        else:
            assert prefix + name == relative
