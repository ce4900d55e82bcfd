"""The context rules' and the statistics' word lists are data files, read from the
pattern directory the tagger is given, and shipped in the wheel."""

from __future__ import annotations

import ast
import fnmatch
import shutil
import tomllib
from pathlib import Path

import pytest

from monitor.errors import TaggerError
from monitor.tagging.resources import (
    PATTERNS_DIR,
    load_context_words,
    load_resources,
    load_statistics_words,
)
from monitor.tagging.stats import extract_statistics

REPO = Path(__file__).resolve().parents[2]


def _copy_patterns(tmp_path: Path) -> Path:
    target = tmp_path / "patterns"
    shutil.copytree(PATTERNS_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_statistics_units_come_from_the_data_file(tmp_path: Path) -> None:
    text = "Police recorded 1,220 offences and fines of 5 million pounds."
    assert {s.value: s.unit for s in extract_statistics(text)} == {"1,220": "offences", "5 million": "GBP"}
    patterns = _copy_patterns(tmp_path)
    _edit(patterns / "statistics.toml", 'pounds = "GBP"', 'pounds = "XXX"')
    _edit(patterns / "statistics.toml", '"article", "articles",', '"recorded", "article", "articles",')
    words = load_statistics_words(patterns)
    assert {s.value: s.unit for s in extract_statistics(text, words=words)} == {"5 million": "XXX"}


def test_context_rules_read_their_words_from_the_pattern_directory(tmp_path: Path) -> None:
    from monitor.tagging import Tagger, load_tagger
    from monitor.tagging.pipeline import build_pipeline

    text = "The warning came on a Signal group chat."
    assert load_tagger().tag("", text).platforms == ()  # "a Signal" is the common noun
    patterns = _copy_patterns(tmp_path)
    _edit(patterns / "context.toml", '"a", "an", "traffic",', '"an", "traffic",')
    tagger = Tagger(build_pipeline(patterns_dir=str(patterns)))
    assert tagger.tag("", text).platforms == ("signal",)
    assert tagger.version != load_tagger().version  # a word-list edit is a new tagger version


def test_a_broken_word_list_names_its_file(tmp_path: Path) -> None:
    patterns = _copy_patterns(tmp_path)
    _edit(patterns / "statistics.toml", "skip = [", "skip = 3\nnot_skip = [")
    with pytest.raises(TaggerError, match="statistics.toml: skip"):
        load_resources(patterns)
    _edit(patterns / "context.toml", "[police]", "[no_police]")
    with pytest.raises(TaggerError, match=r"context.toml: \[police\]"):
        load_context_words(patterns)


# Names of tags, features and concept labels (identifiers the code dispatches on), not words.
IDENTIFIER_TABLES = {"IN_SCOPE_LAWS", "SENSES", "EVIDENCE"}


def _string_collections(path: Path) -> list[int]:
    """Line numbers of set, dict, list or tuple literals holding four or more strings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed = {
        id(sub)
        for stmt in tree.body
        if isinstance(stmt, (ast.Assign, ast.AnnAssign))
        and any(
            isinstance(t, ast.Name) and t.id in IDENTIFIER_TABLES
            for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
        )
        for sub in ast.walk(stmt)
    }
    lines = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
        if isinstance(node, (ast.Set, ast.Dict, ast.List, ast.Tuple)) and items:
            strings = [n for n in items if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            if len(strings) >= 4:
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("module", ["features.py", "stats.py"])
def test_no_word_lists_are_written_in_the_rules_code(module: str) -> None:
    path = REPO / "monitor" / "tagging" / module
    assert _string_collections(path) == [], f"{module}: move word lists to monitor/tagging/patterns/"


def test_every_pattern_and_model_file_is_package_data() -> None:
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    tagging = REPO / "monitor" / "tagging"
    files = [p for d in ("patterns", "model", "data") for p in (tagging / d).iterdir() if p.name != "README.md"]
    missing = [p.name for p in files if p.suffix != ".py" and not any(fnmatch.fnmatch(p.name, g) for g in globs)]
    assert files and missing == []
