"""Generate a realistic-ish monitor database of N items for the search and view benchmarks.

Usage: python bench/generate_items.py [--items N] [--out FILE] [--seed S]

Titles and texts are drawn from a vocabulary (invented filler words with a Zipf
distribution, plus the campaign's own terms and phrases); items are spread over two
years ending today, in collection order, from ~60 news and Reddit sources; about a
third are relevant, with topic / platform / legislation / organisation tags in
``item_tags``, quoted figures in ``item_statistics`` and syndication clusters.
Everything is invented; nothing here is real text.

The schema comes from the real migrations. Rows are bulk-inserted with executemany in
one transaction with the FTS triggers set aside, then the full-text index is built in
one pass and the triggers are put back: building it after the load is several times
faster than maintaining it row by row (see NOTES).

``cached_database(n)`` returns ``bench/results/items-N.db``, generating it on first use.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "bench" / "results"
GENERATOR_VERSION = "3"

TOPICS = ["grooming", "grooming_gangs", "sextortion", "csam", "child_online_safety", "legislation"]
PLATFORMS = ["instagram", "snapchat", "whatsapp", "tiktok", "roblox", "discord", "facebook", "youtube",
             "telegram", "x", "minecraft", "twitch"]
LAWS = ["online_safety_act_uk", "kosa_us", "coppa_us", "eu_csam_regulation", "dsa_eu", "other"]
ORGS = ["nspcc", "ofcom", "internet watch foundation", "national crime agency", "ceop", "ftc", "europol",
        "barnardo's", "childline", "home office", "meta", "snap inc", "ncmec", "thorn", "5rights"]
FIGURES = ["37%", "1,220", "82%", "one in five", "£10 million", "3,500", "12%", "400%", "9,000", "18 million"]

# Words and phrases an analyst searches for; sprinkled into relevant items more often.
CAMPAIGN_WORDS = (
    "grooming groomed groomer predator predators sextortion blackmail images indecent abuse exploitation "
    "children child teenager teenagers teen girls boys parents school police charity court sentenced jailed "
    "offender offences offence reported reports online safety act ofcom regulator codes age verification "
    "assurance encryption messaging platform platforms app apps account accounts moderation lawsuit "
    "minister government bill law legislation duty duties inquiry audit gangs rochdale rotherham "
    "telford victims survivors campaign warning figures statistics rise increase"
).split()
PHRASES = [
    "online safety act", "age verification", "end-to-end encryption", "grooming gangs", "national inquiry",
    "duty of care", "financially motivated sextortion", "child sexual abuse material", "teen accounts",
    "parental controls", "chat control", "kids online safety act", "children's code",
]
NOISE_WORDS = (
    "dog grooming salon beard skincare barber piste snow trail ski wedding groom speech successor backlog "
    "earnings revenue creators feature update launch users growth marketing shares investors quarter"
).split()


def _filler_vocabulary(rng: random.Random, size: int) -> list[str]:
    """Pronounceable invented words, so texts have a realistic spread of distinct terms."""
    onsets = ["b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w", "st", "tr", "pl",
              "br", "ch", "sh", "th", "gr", "cl"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io"]
    codas = ["", "n", "r", "s", "t", "l", "nd", "st", "ck", "m", "ng"]
    words: set[str] = {"the", "a", "of", "and", "to", "in", "on", "for", "with", "said", "was", "is", "has",
                       "by", "that", "it", "from", "as", "after", "new", "over", "more", "their", "they"}
    while len(words) < size:
        syllables = rng.choice((1, 2, 2, 3, 3, 4))
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(syllables)))
    return sorted(words, key=lambda w: (len(w), w))


class TextMaker:
    """Titles and texts from pre-built word chunks: fast enough for a million items."""

    def __init__(self, rng: random.Random, chunks: int = 60_000, chunk_words: int = 10):
        self.rng = rng
        vocab = _filler_vocabulary(rng, 20_000)
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(vocab))]
        cumulative = []
        total = 0.0
        for weight in weights:
            total += weight
            cumulative.append(total)

        def chunk(extra: list[str], share: float) -> str:
            words = rng.choices(vocab, cum_weights=cumulative, k=chunk_words)
            for position in range(chunk_words):
                if rng.random() < share:
                    words[position] = rng.choice(extra)
            return " ".join(words)

        self.plain = [chunk(NOISE_WORDS, 0.08) for _ in range(chunks)]
        self.campaign = [chunk(CAMPAIGN_WORDS, 0.3) for _ in range(chunks)]

    def text(self, relevant: bool, platforms: list[str], figure: str | None, n_chunks: int) -> str:
        pool = self.campaign if relevant else self.plain
        parts = self.rng.choices(pool, k=n_chunks)
        if relevant and self.rng.random() < 0.5:
            parts.insert(self.rng.randrange(len(parts) + 1), self.rng.choice(PHRASES))
        for platform in platforms:
            parts.insert(self.rng.randrange(len(parts) + 1), f"on {platform.capitalize()}")
        if figure:
            parts.insert(self.rng.randrange(len(parts) + 1), f"{figure} of cases were reported")
        return ". ".join(parts).capitalize() + "."

    def title(self, relevant: bool, platforms: list[str]) -> str:
        pool = self.campaign if relevant else self.plain
        words = self.rng.choice(pool).split()[: self.rng.randint(6, 10)]
        if platforms:
            words.insert(self.rng.randrange(len(words) + 1), platforms[0].capitalize())
        return " ".join(words).capitalize()


def _sources() -> list[tuple[str, str, str, str]]:
    """(id, kind, name, media): 48 news feeds, 6 news searches, 8 subreddits."""
    rows = [(f"feed:outlet-{n:02d}", "feed", f"Outlet {n:02d} News", "news") for n in range(1, 49)]
    rows += [(f"query:search-{n}", "query", f"News search {n}", "news") for n in range(1, 7)]
    rows += [(f"reddit_subreddit:sub{n}", "reddit_subreddit", f"r/sub{n}", "reddit") for n in range(1, 9)]
    return rows


def iso(moment: datetime) -> str:
    """As the store writes times (``2026-11-28T06:13:48Z``); isoformat is 10x faster than strftime."""
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def generate(path: Path, n_items: int, *, seed: int = 8, end: datetime | None = None, echo=print) -> None:
    """Write a fresh database of ``n_items`` generated items to ``path``."""
    from monitor.store.db import connect, migrate, refresh_statistics
    from monitor.store.search import rebuild_index

    rng = random.Random(seed)
    end = (end or datetime.now(timezone.utc)).replace(microsecond=0)
    start = end - timedelta(days=730)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)

    db = connect(path)
    migrate(db)
    conn: sqlite3.Connection = db.conn
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'items' AND name LIKE 'items_fts%'"
    ).fetchall()
    for name, _sql in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    # Secondary indexes are built faster in one sorted pass after the load than row by row.
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND tbl_name IN ('items', 'item_tags', 'item_sources', 'item_statistics', 'runs')"
    ).fetchall()
    for name, _sql in indexes:
        conn.execute(f"DROP INDEX {name}")

    t0 = time.perf_counter()
    maker = TextMaker(rng)
    sources = _sources()
    stamp = iso(end)
    conn.executemany(
        "INSERT INTO sources (id, kind, name, url, tags, active, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, '[]', 1, ?, ?)",
        [(sid, kind, name, f"https://{sid.split(':')[1]}.example/feed", iso(start), stamp)
         for sid, kind, name, _media in sources],
    )
    news = [s for s in sources if s[3] == "news"]
    reddit = [s for s in sources if s[3] == "reddit"]

    span = (end - start).total_seconds()
    offsets = sorted(rng.random() * span for _ in range(n_items))
    tags: list[tuple[str, str, str, str]] = []
    stats: list[tuple[str, str, float | None, str, str, str]] = []
    links: list[tuple[str, str, str, str, str]] = []
    clusters: dict[str, list[tuple[str, str, str]]] = {}
    open_cluster: tuple[str, int, float] | None = None

    def rows() -> Iterator[tuple]:
        nonlocal open_cluster
        for n, offset in enumerate(offsets):
            published = start + timedelta(seconds=offset)
            is_reddit = rng.random() < 0.2
            sid, _kind, _name, media = rng.choice(reddit if is_reddit else news)
            relevant = rng.random() < 0.3
            platforms: list[str] = []
            if rng.random() < (0.6 if relevant else 0.15):
                platforms = rng.sample(PLATFORMS[:6] if rng.random() < 0.8 else PLATFORMS, rng.choice((1, 1, 1, 2)))
            figure = rng.choice(FIGURES) if rng.random() < (0.15 if relevant else 0.03) else None
            title = maker.title(relevant, platforms)
            text = maker.text(relevant, platforms, figure, rng.randint(4, 9))
            slug = "-".join(title.lower().split()[:6])
            if is_reddit:
                item_id = f"t3_{n:07x}"
                url = f"https://www.reddit.com/r/{sid.split(':')[1]}/comments/{n:07x}/{slug}/"
            else:
                item_id = url = f"https://{sid.split(':')[1]}.example/news/{published:%Y/%m}/{slug}-{n}"
            collected = published + timedelta(minutes=rng.randint(1, 240))
            version = "bench-1"
            cluster_id = None
            if not is_reddit and rng.random() < 0.06:
                if open_cluster and open_cluster[1] < 6 and offset - open_cluster[2] < 86400:
                    cluster_id = open_cluster[0]
                    open_cluster = (cluster_id, open_cluster[1] + 1, open_cluster[2])
                else:
                    cluster_id = item_id
                    open_cluster = (cluster_id, 1, offset)
                clusters.setdefault(cluster_id, []).append((title, sid, iso(published)))
            if relevant:
                for topic in rng.sample(TOPICS, rng.choice((1, 1, 2))):
                    tags.append((item_id, "topic", topic, version))
                if rng.random() < 0.18:
                    tags.append((item_id, "legislation", rng.choice(LAWS), version))
                if rng.random() < 0.35:
                    tags.append((item_id, "organisation", rng.choice(ORGS), version))
            for platform in platforms:
                tags.append((item_id, "platform", platform, version))
            if figure:
                stats.append((item_id, figure, None, "%" if figure.endswith("%") else "",
                              f"{figure} of cases were reported", version))
            links.append((item_id, sid, None, iso(collected), iso(collected)))
            if not is_reddit and rng.random() < 0.05:
                other = rng.choice(news)[0]
                if other != sid:
                    links.append((item_id, other, None, iso(collected), iso(collected)))
            popularity = rng.randint(0, 3000) if is_reddit else None
            comments = rng.randint(0, 400) if is_reddit else None
            yield (item_id, sid, media, url, title, text, iso(published), iso(collected), iso(collected),
                   hashlib.blake2b(text.encode(), digest_size=8).hexdigest(), int(relevant),
                   round(rng.random() * 0.5 + (0.5 if relevant else 0.0), 4), version, iso(collected),
                   cluster_id, popularity, comments)
            if n and n % 100_000 == 0:
                echo(f"  {n:,} items ({time.perf_counter() - t0:.0f} s)")

    with conn:
        conn.executemany(
            "INSERT INTO items (id, source_id, media, url, title, text, published_at, collected_at, updated_at,"
            " content_hash, relevant, score, tagger_version, tagged_at, cluster_id, popularity, comments)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
        conn.executemany("INSERT OR IGNORE INTO item_tags (item_id, kind, value, tagger_version) VALUES (?, ?, ?, ?)",
                         tags)
        conn.executemany("INSERT INTO item_statistics (item_id, value, number, unit, sentence, tagger_version)"
                         " VALUES (?, ?, ?, ?, ?, ?)", stats)
        conn.executemany("INSERT OR IGNORE INTO item_sources (item_id, source_id, guid, first_seen_at, last_seen_at)"
                         " VALUES (?, ?, ?, ?, ?)", links)
        conn.executemany(
            "INSERT INTO clusters (id, title, size, outlets, first_published_at, last_published_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(cid, members[0][0], len(members), len({m[1] for m in members}), members[0][2], members[-1][2], stamp)
             for cid, members in clusters.items() if len(members) > 1],
        )
        conn.execute("UPDATE items SET cluster_id = NULL WHERE cluster_id IS NOT NULL"
                     " AND cluster_id NOT IN (SELECT id FROM clusters)")
        _fetch_state_and_runs(conn, rng, sources, end)
    t1 = time.perf_counter()
    echo(f"  {n_items:,} items, {len(tags):,} tags, {len(stats):,} figures inserted in {t1 - t0:.0f} s")
    with conn:
        for _name, sql in indexes:
            conn.execute(sql)
    t2 = time.perf_counter()
    echo(f"  indexes built in {t2 - t1:.0f} s")
    with conn:
        rebuild_index(db)
        for _name, sql in triggers:
            conn.execute(sql)
    t3 = time.perf_counter()
    echo(f"  full-text index built in {t3 - t2:.0f} s")
    refresh_statistics(db)  # what the collector does when it closes the store
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


def _fetch_state_and_runs(conn: sqlite3.Connection, rng: random.Random, sources: list, end: datetime) -> None:
    """A month of half-hourly runs per source; a few sources failing now, one gone."""
    runs = []
    for index, (sid, *_rest) in enumerate(sources):
        failing = index % 17 == 3
        for step in range(48 * 30):
            started = end - timedelta(minutes=30 * step)
            status = "failed" if failing and step < 5 else rng.choice(("ok", "ok", "not_modified"))
            runs.append((f"cycle-{step}", sid, iso(started), iso(started + timedelta(seconds=2)), status,
                         500 if status == "failed" else 200, rng.randint(0, 5) if status == "ok" else 0,
                         "HTTP 500 from server" if status == "failed" else None))
        conn.execute(
            "INSERT INTO fetch_state (source_id, url, failures, last_error, last_error_at, last_attempt_at,"
            " last_success_at, last_new_at, next_due_at, gone_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sid, None, 5 if failing else 0, "HTTP 500 from server" if failing else None,
             iso(end) if failing else None, iso(end), iso(end - timedelta(hours=3 if failing else 0)),
             iso(end - timedelta(hours=1)), iso(end + timedelta(minutes=30)),
             iso(end - timedelta(days=2)) if index == 7 else None],
        )
    conn.executemany(
        "INSERT INTO runs (cycle_id, source_id, started_at, ended_at, status, http_status, new, error)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", runs)


def cached_database(n_items: int, *, echo=print) -> Path:
    """``bench/results/items-N.db``, generated on first use (and again if the generator changed)."""
    path = RESULTS / f"items-{n_items}-v{GENERATOR_VERSION}.db"
    if not path.exists():
        echo(f"Generating {n_items:,} items into {path} (once; cached afterwards)")
        partial = path.with_suffix(".partial")
        generate(partial, n_items, echo=echo)
        partial.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    if args.out:
        generate(args.out, args.items, seed=args.seed)
    else:
        print(cached_database(args.items))


if __name__ == "__main__":
    main()
