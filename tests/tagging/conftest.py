"""Shared fixtures: one loaded tagger per session, our own cases, the shared dev file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "data" / "tagger_cases.jsonl"
SHARED_DEV = REPO.parent / "shared" / "data" / "relevance-dev.jsonl"


@pytest.fixture(scope="session")
def tagger() -> Any:
    from monitor.tagging import load_tagger

    return load_tagger()


def load_cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture()
def shared_dev() -> Path:
    if not SHARED_DEV.is_file():
        pytest.skip(f"shared labelled data not found: {SHARED_DEV.parent} (expected beside the repository)")
    return SHARED_DEV
