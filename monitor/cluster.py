"""Near-duplicate detection for syndicated stories: MinHash over title + lead text.

Wire copy reprinted by several outlets, or lightly rewritten with the publisher's
name appended to the title, should reach the team once. Each item gets a MinHash
signature of the word shingles of its title (publisher suffix removed) and the first
words of its text; locality-sensitive hashing (bands of the signature) finds
candidates cheaply, and the share of equal signature values estimates their Jaccard
similarity. Pure functions; the SQL that stores signatures is in ``store/clusters.py``.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

NUM_PERM = 48
BANDS = 24
ROWS = NUM_PERM // BANDS
LEAD_WORDS = 60
SHINGLE = 3
_PRIME = np.uint64(4294967291)  # largest prime below 2**32: (a*x + b) stays within uint64

_rng = np.random.default_rng(20231026)  # fixed: signatures must be comparable across runs
_A = _rng.integers(1, int(_PRIME), size=NUM_PERM, dtype=np.uint64).reshape(-1, 1)
_B = _rng.integers(0, int(_PRIME), size=NUM_PERM, dtype=np.uint64).reshape(-1, 1)

# " - Northshire Gazette", " | The Daily Lantern", " — BBC News": a short trailing segment.
_SUFFIX = re.compile(r"\s+[-|–—:]\s+([^-|–—:]{2,60})$")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def strip_publisher(title: str) -> str:
    """Drop a trailing " - Outlet" from a headline when what remains is still a headline."""
    match = _SUFFIX.search(title)
    if match and len(match.group(1).split()) <= 6 and len(title[: match.start()].split()) >= 4:
        return title[: match.start()]
    return title


def words(text: str) -> list[str]:
    folded = text.lower()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD.findall(folded)


def shingles(title: str, text: str) -> set[str]:
    """Word 3-grams of the headline and the lead (so a reprint of the first paragraph
    only still matches the full copy)."""
    tokens = words(strip_publisher(title)) + ["\x00"] + words(text[: LEAD_WORDS * 15])[:LEAD_WORDS]
    if len(tokens) < SHINGLE:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}


def title_similarity(a: str, b: str) -> float:
    """Jaccard similarity of two headlines' word sets, publisher suffixes removed."""
    first, second = set(words(strip_publisher(a))), set(words(strip_publisher(b)))
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


HEADLINE_KEY_WORDS = 6


def headline_key(title: str) -> str | None:
    """The headline reduced to its words (publisher suffix removed), when it is long
    enough to identify a story on its own; else None.

    News-search feeds (Google News) carry only an outlet's headline and name, no lead,
    so their copy of an article shares the headline and little else."""
    tokens = words(strip_publisher(title))
    return " ".join(tokens) if len(tokens) >= HEADLINE_KEY_WORDS else None


def is_copy(similarity: float, headline_similarity: float, threshold: float) -> bool:
    """Copies share most of their headline and lead; a rewrite that changed the lead
    more still counts when it kept the headline. Stories that only share stock phrases
    (court-report boilerplate, a charity's figures) have different headlines."""
    return similarity >= threshold or (similarity >= 0.6 * threshold and headline_similarity >= 0.5)




@dataclass(frozen=True)
class Signature:
    values: tuple[int, ...]

    def to_bytes(self) -> bytes:
        return np.asarray(self.values, dtype=np.uint32).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Signature":
        return cls(tuple(int(v) for v in np.frombuffer(data, dtype=np.uint32)))

    def bands(self) -> list[int]:
        """One bucket key per band, the band number included, as a signed 64-bit integer.

        Python's hash of a tuple of ints is not randomised per process, so keys are
        stable across runs (unlike the hash of a string)."""
        values = self.values
        return [hash((band, *values[band * ROWS : (band + 1) * ROWS])) for band in range(BANDS)]

    def similarity(self, other: "Signature") -> float:
        """Estimated Jaccard similarity of the two items' shingle sets."""
        same = sum(1 for a, b in zip(self.values, other.values) if a == b)
        return same / NUM_PERM


def signature(title: str, text: str) -> Signature | None:
    """The item's MinHash signature, or None when it has too few words to compare."""
    grams = shingles(title, text)
    if len(grams) < 3:
        return None
    hashed = np.array([zlib.crc32(g.encode("utf-8")) for g in grams], dtype=np.uint64)
    permuted = (_A * hashed + _B) % _PRIME
    return Signature(tuple(permuted.min(axis=1).tolist()))


# Bounds on the work of one lookup (see ClusterIndex.match).
BUCKET_SCAN = 200
MAX_CANDIDATES = 32


class ClusterIndex:
    """Recent items' signatures, bucketed by LSH band, in memory.

    Built from the database once per collection cycle (only when a new item needs
    it) and extended as items are stored; kept out of the database because writing
    two dozen random-keyed index rows per item made every commit slow.
    """

    def __init__(self, window_days: float, threshold: float):
        self.window = timedelta(days=window_days)
        self.threshold = threshold
        self.buckets: dict[int, list[str]] = {}
        self.headlines: dict[str, list[str]] = {}
        self.entries: dict[str, tuple[Signature, datetime, str]] = {}

    def add(self, item_id: str, sig: Signature, published: datetime, title: str) -> None:
        if item_id in self.entries:
            return
        self.entries[item_id] = (sig, published, title)
        for bucket in sig.bands():
            self.buckets.setdefault(bucket, []).append(item_id)
        key = headline_key(title)
        if key is not None:
            self.headlines.setdefault(key, []).append(item_id)

    def match(self, sig: Signature, title: str, published: datetime, exclude: str = "") -> str | None:
        """The stored item this one is a copy of (the most similar within the window), if any.

        An identical headline of six words or more (publisher suffix removed) is a copy;
        otherwise only the candidates sharing the most band buckets are compared (a copy shares
        most of them), and only the newest entries of each bucket are read, so a story
        carried hundreds of times costs no more than one carried a few times.
        """
        key = headline_key(title)
        for other_id in self.headlines.get(key, ()) if key is not None else ():
            # The same headline within the window is the same story, whatever the rest says.
            if other_id != exclude and abs(self.entries[other_id][1] - published) <= self.window:
                return other_id
        hits: dict[str, int] = {}
        for bucket in sig.bands():
            for other_id in self.buckets.get(bucket, ())[-BUCKET_SCAN:]:
                if other_id != exclude:
                    hits[other_id] = hits.get(other_id, 0) + 1
        ranked = sorted(hits, key=lambda other: (-hits[other], other))[:MAX_CANDIDATES]
        best_id, best_score = None, 0.0
        for other_id in ranked:
            other_sig, other_published, other_title = self.entries[other_id]
            if abs(other_published - published) > self.window:
                continue
            score = sig.similarity(other_sig)
            if is_copy(score, title_similarity(title, other_title), self.threshold) and (
                score > best_score or (score == best_score and best_id is not None and other_id < best_id)
            ):
                best_id, best_score = other_id, score
        return best_id
