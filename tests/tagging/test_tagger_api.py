"""The public API: load_tagger caching, version, tag vs tag_many, JSON round trip, lazy spaCy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from monitor.tagging import load_tagger, tags_from_dict, tags_to_dict
from monitor.types import Statistic, Tags

ITEMS = [
    ("", "A man groomed a 14-year-old on Discord and was jailed."),
    ("How to groom a poodle", "Brush the coat, trim the nails and bath the dog."),
    ("Ofcom codes", "The Online Safety Act requires age checks to protect children."),
]


def test_load_tagger_is_cached_per_arguments(tagger: Any) -> None:
    assert load_tagger() is tagger
    assert load_tagger(threshold=0.9) is not tagger


def test_version_is_stable_and_tracks_the_decision_settings(tagger: Any) -> None:
    assert tagger.version and tagger.version == load_tagger().version
    assert load_tagger(threshold=0.9).version != tagger.version
    assert load_tagger("prior").version != tagger.version
    assert all(t.version == tagger.version for t in tagger.tag_many(ITEMS))


def test_tag_many_equals_tag_in_order(tagger: Any) -> None:
    singles = [tagger.tag(title, text) for title, text in ITEMS]
    assert list(tagger.tag_many(ITEMS, batch_size=2)) == singles
    assert [t.relevant for t in singles] == [True, False, True]


def test_tag_many_is_lazy(tagger: Any) -> None:
    def endless() -> Any:
        while True:
            yield ITEMS[0]

    results = tagger.tag_many(endless(), batch_size=4)
    assert next(results).relevant


def test_threshold_changes_the_decision_not_the_score(tagger: Any) -> None:
    strict = load_tagger(threshold=0.9999)
    title, text = ("", "Parents were warned that strangers message children on Roblox.")
    loose_tags, strict_tags = tagger.tag(title, text), strict.tag(title, text)
    assert loose_tags.score == strict_tags.score
    assert loose_tags.relevant and not strict_tags.relevant
    assert strict_tags.topics == ()


def test_tags_round_trip_through_json(tagger: Any) -> None:
    tags = tagger.tag("", "The NSPCC said 7,263 online grooming offences were recorded, 40% on Snapchat.")
    data = json.loads(json.dumps(tags_to_dict(tags)))
    assert tags_from_dict(data) == tags
    assert set(data) == {
        "relevant",
        "score",
        "topics",
        "platforms",
        "legislation",
        "organisations",
        "statistics",
        "why",
        "version",
    }


text = st.text(max_size=30)


@given(
    relevant=st.booleans(),
    score=st.floats(0, 1),
    words=st.lists(text, max_size=4).map(tuple),
    stats=st.lists(st.builds(Statistic, text, st.none() | st.floats(allow_nan=False), text, text), max_size=3).map(
        tuple
    ),
)
def test_tags_to_dict_inverse(
    relevant: bool, score: float, words: tuple[str, ...], stats: tuple[Statistic, ...]
) -> None:
    tags = Tags(relevant, score, words, words, words, words, stats, words, "v")
    assert tags_from_dict(json.loads(json.dumps(tags_to_dict(tags)))) == tags


def test_importing_the_package_and_cli_does_not_import_spacy() -> None:
    code = "import sys, monitor.tagging, monitor.cli; assert 'spacy' not in sys.modules, 'spacy imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_bad_model_path_is_a_tagger_error(tmp_path: Path) -> None:
    import pytest

    from monitor.errors import TaggerError

    bad = tmp_path / "relevance.json"
    bad.write_text("{}")
    with pytest.raises(TaggerError):
        load_tagger(bad)


def test_packaged_model_was_trained_with_the_current_patterns() -> None:
    from monitor.tagging.relevance import load_model
    from monitor.tagging.resources import MODEL_DIR, load_resources

    model = load_model(MODEL_DIR)
    assert model.meta.get("patterns_sha256") == load_resources().digest, (
        "pattern files changed since the model was trained: run `monitor train --data "
        "../shared/data/relevance-dev.jsonl` and commit monitor/tagging/model/"
    )


def test_very_long_items_are_tagged_on_their_opening(tagger: Any) -> None:
    text = "A man groomed a 13-year-old girl on Snapchat and sent her sexual messages. " + "Filler words here. " * 80_000
    tags = tagger.tag("", text)
    assert tags.relevant and tags.platforms == ("snapchat",)
