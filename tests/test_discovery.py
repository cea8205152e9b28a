"""File discovery: walking, excludes, .gitignore semantics, symlinks and unreadable paths."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dropout_lint.workspace.discovery import (
    DiscoveryProblem,
    GitignoreFile,
    SourceKind,
    SourcePath,
    iter_source_files,
)
from dropout_lint.workspace.path_patterns import glob_to_regex
from dropout_lint.workspace.settings import Settings


def make_tree(root: Path, *relative_files: str) -> None:
    for relative in relative_files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")


def found(root: Path, settings: Settings | None = None) -> list[str]:
    """The relative paths discovered by walking ``root``."""
    settings = settings or Settings(root=root)
    results = list(iter_source_files([str(root)], settings))
    assert all(isinstance(result, SourcePath) for result in results), results
    return [Path(result.path).relative_to(root).as_posix() for result in results]


def test_walks_python_stub_and_notebook_files_in_sorted_order(tmp_path: Path) -> None:
    make_tree(tmp_path, "b.py", "a/z.py", "a/m.pyi", "a/n.ipynb", "README.md", "a/data.json")
    results = list(iter_source_files([str(tmp_path)], Settings(root=tmp_path)))
    assert [
        (Path(r.path).relative_to(tmp_path).as_posix(), r.kind, r.explicit) for r in results
    ] == [
        ("a/m.pyi", SourceKind.STUB, False),
        ("a/n.ipynb", SourceKind.NOTEBOOK, False),
        ("a/z.py", SourceKind.PYTHON, False),
        ("b.py", SourceKind.PYTHON, False),
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("src", os.path.join("src", "pkg", "a.py")),
        ("./src/", os.path.join("src", "pkg", "a.py")),
        (".", os.path.join("src", "pkg", "a.py")),
    ],
)
def test_walked_paths_are_relative_as_the_user_gave_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    make_tree(tmp_path, "src/pkg/a.py")
    monkeypatch.chdir(tmp_path)
    results = list(iter_source_files([given], Settings(root=tmp_path)))
    assert results == [SourcePath(expected, SourceKind.PYTHON, explicit=False)]


def test_default_excludes_are_skipped_at_any_depth(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        "keep.py",
        ".venv/lib/x.py",
        "pkg/__pycache__/x.py",
        "pkg/build/x.py",
        "pkg/foo.egg-info/x.py",
        "node_modules/x.py",
        "pkg/builder/keep.py",
    )
    assert found(tmp_path) == ["keep.py", "pkg/builder/keep.py"]


def test_exclude_replaces_defaults_and_extend_exclude_adds(tmp_path: Path) -> None:
    make_tree(tmp_path, "build/a.py", "gen/b.py", "src/gen_c.py", "src/fixtures/d.py", "e.py")
    settings = Settings(root=tmp_path, exclude=("gen",), extend_exclude=("src/fixtures", "*_c.py"))
    assert found(tmp_path, settings) == ["build/a.py", "e.py"]


def test_exclude_patterns_are_relative_to_root_not_to_the_walked_path(tmp_path: Path) -> None:
    make_tree(tmp_path, "src/gen/a.py", "gen/b.py")
    settings = Settings(root=tmp_path, exclude=("src/gen",))
    results = list(iter_source_files([str(tmp_path / "src")], settings))
    assert results == []


def test_excludes_match_paths_outside_the_root_and_the_root_itself(tmp_path: Path) -> None:
    # Walked from the root's parent: the root's relative path is ".", its siblings' absolute.
    make_tree(tmp_path, "root/a.py", "root/gen/b.py", "other/gen/c.py", "other/d.py")
    settings = Settings(root=tmp_path / "root", exclude=("**/other/gen", "gen/b.py"))
    assert found(tmp_path, settings) == ["other/d.py", "root/a.py"]
    settings = Settings(root=tmp_path / "root", exclude=(".",))
    assert found(tmp_path, settings) == ["other/d.py", "other/gen/c.py"]


def test_explicit_files_are_checked_even_when_excluded(tmp_path: Path) -> None:
    make_tree(tmp_path, "build/a.py", "notes.txt")
    settings = Settings(root=tmp_path)
    given = [str(tmp_path / "build/a.py"), str(tmp_path / "notes.txt")]
    assert list(iter_source_files(given, settings)) == [
        SourcePath(given[0], SourceKind.PYTHON, explicit=True),
        SourcePath(given[1], SourceKind.PYTHON, explicit=True),
    ]


def test_explicit_excluded_directory_is_walked(tmp_path: Path) -> None:
    make_tree(tmp_path, "build/a.py", "build/dist/b.py")
    results = list(iter_source_files([str(tmp_path / "build")], Settings(root=tmp_path)))
    assert [Path(r.path).name for r in results] == ["a.py"]


def test_stdin_is_yielded_as_such(tmp_path: Path) -> None:
    assert list(iter_source_files(["-"], Settings(root=tmp_path))) == [
        SourcePath("-", SourceKind.STDIN, explicit=True)
    ]


def test_missing_path_is_a_problem_and_the_walk_goes_on(tmp_path: Path) -> None:
    make_tree(tmp_path, "a.py")
    missing = str(tmp_path / "nope.py")
    results = list(iter_source_files([missing, str(tmp_path / "a.py")], Settings(root=tmp_path)))
    assert results == [
        DiscoveryProblem(missing, "no such file or directory"),
        SourcePath(str(tmp_path / "a.py"), SourceKind.PYTHON, explicit=True),
    ]


def test_each_file_is_yielded_once_across_overlapping_paths(tmp_path: Path) -> None:
    make_tree(tmp_path, "pkg/a.py", "b.py")
    given = [str(tmp_path), str(tmp_path / "pkg"), str(tmp_path / "pkg/a.py")]
    results = list(iter_source_files(given, Settings(root=tmp_path)))
    assert [Path(r.path).relative_to(tmp_path).as_posix() for r in results] == ["b.py", "pkg/a.py"]


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_symlink_loop_back_to_an_ancestor_is_a_problem(tmp_path: Path) -> None:
    make_tree(tmp_path, "pkg/a.py")
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path, target_is_directory=True)
    results = list(iter_source_files([str(tmp_path)], Settings(root=tmp_path)))
    assert results == [
        SourcePath(str(tmp_path / "pkg" / "a.py"), SourceKind.PYTHON, explicit=False),
        DiscoveryProblem(
            str(tmp_path / "pkg" / "loop"), "symlink loop: points back to a directory above it"
        ),
    ]


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_self_referencing_and_broken_symlinks(tmp_path: Path) -> None:
    (tmp_path / "self").symlink_to(tmp_path / "self")
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    results = list(iter_source_files([str(tmp_path)], Settings(root=tmp_path)))
    assert results == [
        DiscoveryProblem(str(tmp_path / "gone.py"), "broken symlink: no such file or directory"),
        DiscoveryProblem(str(tmp_path / "self"), "symlink loop"),
    ]


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_symlinked_directory_is_walked_once(tmp_path: Path) -> None:
    make_tree(tmp_path, "real/a.py")
    (tmp_path / "zlink").symlink_to(tmp_path / "real", target_is_directory=True)
    assert found(tmp_path) == ["real/a.py"]


@pytest.mark.skipif(
    os.name == "nt" or (hasattr(os, "geteuid") and os.geteuid() == 0),
    reason="permissions do not apply to root or on Windows",
)
def test_unlistable_directory_is_a_problem(tmp_path: Path) -> None:
    make_tree(tmp_path, "locked/a.py", "open.py")
    (tmp_path / "locked").chmod(0)
    try:
        results = list(iter_source_files([str(tmp_path)], Settings(root=tmp_path)))
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert results == [
        DiscoveryProblem(str(tmp_path / "locked"), "cannot list directory: permission denied"),
        SourcePath(str(tmp_path / "open.py"), SourceKind.PYTHON, explicit=False),
    ]


def test_unlistable_directory_via_monkeypatched_scandir(tmp_path: Path, monkeypatch) -> None:
    """Also covers root, for whom chmod cannot make a directory unreadable."""
    make_tree(tmp_path, "locked/a.py", "open.py")
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    results = list(iter_source_files([str(tmp_path)], Settings(root=tmp_path)))
    assert results == [
        DiscoveryProblem(str(tmp_path / "locked"), "cannot list directory: permission denied"),
        SourcePath(str(tmp_path / "open.py"), SourceKind.PYTHON, explicit=False),
    ]


# .gitignore files in the walk


def test_gitignore_in_walked_directories(tmp_path: Path) -> None:
    make_tree(tmp_path, "a.py", "gen/b.py", "pkg/c.py", "pkg/d_pb2.py", "pkg/sub/e_pb2.py")
    (tmp_path / ".gitignore").write_text("gen/\n", encoding="utf-8")
    (tmp_path / "pkg" / ".gitignore").write_text("*_pb2.py\n", encoding="utf-8")
    assert found(tmp_path) == ["a.py", "pkg/c.py"]


def test_deeper_gitignore_can_reinclude(tmp_path: Path) -> None:
    make_tree(tmp_path, "pkg/a_pb2.py", "pkg/keep_pb2.py")
    (tmp_path / ".gitignore").write_text("*_pb2.py\n", encoding="utf-8")
    (tmp_path / "pkg" / ".gitignore").write_text("!keep_pb2.py\n", encoding="utf-8")
    assert found(tmp_path) == ["pkg/keep_pb2.py"]


def test_gitignores_above_the_walked_root_up_to_the_git_root(tmp_path: Path) -> None:
    make_tree(tmp_path, "repo/src/a.py", "repo/src/gen/b.py", "repo/src/c_pb2.py")
    (tmp_path / ".gitignore").write_text("a.py\n", encoding="utf-8")  # outside the repo
    (tmp_path / "repo" / ".git").mkdir()
    (tmp_path / "repo" / ".gitignore").write_text("/src/gen/\n*_pb2.py\n", encoding="utf-8")
    results = list(iter_source_files([str(tmp_path / "repo" / "src")], Settings(root=tmp_path)))
    assert [Path(r.path).name for r in results] == ["a.py"]


def test_gitignore_is_not_read_when_disabled(tmp_path: Path) -> None:
    make_tree(tmp_path, "a.py", "gen/b.py")
    (tmp_path / ".gitignore").write_text("gen/\n", encoding="utf-8")
    assert found(tmp_path, Settings(root=tmp_path, respect_gitignore=False)) == ["a.py", "gen/b.py"]


# gitignore semantics on their own


def ignored(gitignore_text: str, relative: str, is_dir: bool = False) -> bool | None:
    base = os.path.abspath("repo")
    return GitignoreFile(base, gitignore_text).verdict(os.path.join(base, relative), is_dir)


@pytest.mark.parametrize(
    ("text", "relative", "is_dir", "verdict"),
    [
        ("foo.py", "foo.py", False, True),
        ("foo.py", "a/b/foo.py", False, True),
        ("foo.py", "bar.py", False, None),
        ("# foo.py", "# foo.py", False, None),
        ("\\#foo.py", "#foo.py", False, True),
        ("\\!foo.py", "!foo.py", False, True),
        ("   \n\n", "foo.py", False, None),
        ("foo.py   ", "foo.py", False, True),
        ("foo\\ ", "foo ", False, True),
        ("/foo.py", "foo.py", False, True),
        ("/foo.py", "a/foo.py", False, None),
        ("a/foo.py", "a/foo.py", False, True),
        ("a/foo.py", "x/a/foo.py", False, None),
        ("build/", "build", True, True),
        ("build/", "build", False, None),
        ("build/", "src/build", True, True),
        ("**/gen", "gen", True, True),
        ("**/gen", "a/b/gen", True, True),
        ("a/**/b", "a/b", True, True),
        ("a/**/b", "a/x/y/b", True, True),
        ("a/**", "a/x/y.py", False, True),
        ("a/**", "a", True, None),
        ("*.py", "a/b.py", False, True),
        ("a/*.py", "a/b/c.py", False, None),
        ("?.py", "ab.py", False, None),
        ("[abc].py", "b.py", False, True),
        ("*.py\n!keep.py", "keep.py", False, False),
        ("!keep.py\n*.py", "keep.py", False, True),
    ],
)
def test_gitignore_semantics(text: str, relative: str, is_dir: bool, verdict: bool | None) -> None:
    assert ignored(text, relative, is_dir) is verdict


@pytest.mark.parametrize(
    ("text", "relative", "verdict"),
    [
        ("[z-a].py", "b.py", None),  # a range that runs backwards holds nothing, as in git
        ("[z-a0-9].py", "5.py", True),
        ("[a-].py", "-.py", True),
        ("[!a-c].py", "d.py", True),
        ("[!a-c].py", "b.py", None),
        ("[a\\-c].py", "-.py", True),
        ("[a\\-c].py", "b.py", None),
        ("a[/]b", "a/b", None),  # brackets never match a slash
    ],
)
def test_bracket_expressions(text: str, relative: str, verdict: bool | None) -> None:
    assert ignored(text, relative) is verdict


_GLOB_PIECES = st.lists(
    st.one_of(
        st.sampled_from(("a", "z", "0", "-", "!", "^", "\\", "[", "]", "*", "**/", "?", "/", ".")),
        st.builds(
            "[{}{}-{}]".format,
            st.sampled_from(("", "!", "^")),
            st.sampled_from("az09-\\/.[]"),
            st.sampled_from("az09-\\/.[]"),
        ),
    ),
    max_size=8,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_GLOB_PIECES)
def test_every_glob_gives_a_valid_expression(glob: str) -> None:
    """A bad glob in a ``.gitignore`` or the settings (``[z-a]``) once stopped the run with a
    traceback; ``re`` warns of character sets it may read differently one day."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        re.compile(glob_to_regex(glob))


# The walker beside git itself: the .py files it finds are those git does not ignore.
_TREE = (
    "a.py", "b.py", "c.py", "keep.py", "x1.py", "xz.py", "-.py",
    "src/a.py", "src/b.py", "src/gen/c.py", "gen/d.py", "lib/f.py", "lib/sub/e.py", "lib/sub/keep.py",
)
_PATTERNS = (
    "*.py", "a.py", "/a.py", "src/", "gen/", "gen", "**/gen", "lib/**", "src/*.py", "[a-c].py",
    "[z-a].py", "[!a-c].py", "x?.py", "keep.py", "src/a.py", "b.py", "sub", "lib/", "lib/sub/*",
    "/src/gen/", "[-a].py", "**/keep.py",
)
_GITIGNORE_LINES = st.lists(
    st.tuples(st.booleans(), st.sampled_from(_PATTERNS)).map(lambda line: "!" * line[0] + line[1]),
    min_size=1,
    max_size=6,
)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@settings(max_examples=60, deadline=None)
@given(_GITIGNORE_LINES)
def test_the_walker_ignores_what_git_ignores(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    root = tmp_path_factory.mktemp("repo")
    make_tree(root, *_TREE)
    (root / ".gitignore").write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "--others", "--exclude-standard"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    assert found(root) == sorted(path for path in listed if path.endswith(".py")), lines


def test_a_backwards_range_in_the_settings_excludes_nothing(tmp_path: Path) -> None:
    make_tree(tmp_path, "a.py", "b.py", "c.py")
    settings = Settings(root=tmp_path, extend_exclude=("[z-a].py", "[!a-b].py"))
    assert found(tmp_path, settings) == ["a.py", "b.py"]
