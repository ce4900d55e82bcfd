"""Shared fixtures: one loaded tagger per session, and the shared dev file (or a skip)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_DEV = REPO.parent / "shared" / "data" / "relevance-dev.jsonl"


@pytest.fixture(scope="session")
def tagger() -> Any:
    from monitor.tagging import load_tagger

    return load_tagger()


@pytest.fixture()
def shared_dev() -> Path:
    if not SHARED_DEV.is_file():
        pytest.skip(f"shared labelled data not found: {SHARED_DEV.parent} (expected beside the repository)")
    return SHARED_DEV
