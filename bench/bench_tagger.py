"""Words per second of the full tagger vs bare ``spacy.blank("en")`` tokenising, and RSS.

Run: ``python bench/bench_tagger.py [--words N] [--repeats R]``

Both systems process the same texts in the same process, timed in CPU seconds of this
process (less disturbed by other work on a shared machine), interleaved; the ratio
tagger/tokeniser is the figure to watch (target >= 0.3). Texts come from the shared
development set when ``../shared`` is beside the repository (or with ``--own``, always),
otherwise from our invented demo corpus (``monitor/demo/corpus.json``: 119 news items with
headline and full summary, 40 Reddit posts), which has the length and mix of real items.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "relevance-dev.jsonl"
DEMO = REPO / "monitor" / "demo" / "corpus.json"


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc), or peak RSS elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_items(own: bool = False) -> tuple[str, list[tuple[str, str]]]:
    """The shared excerpts, or the items of our invented demo corpus: news items as the
    feed collector stores them (headline, summary converted to plain text) and Reddit
    posts (title, self text). The tagger's cost has a per-item part, so the ratio is only
    meaningful for items of realistic length and vocabulary."""
    if SHARED.is_file() and not own:
        rows = []
        for line in SHARED.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append((row.get("title") or "", row["text"]))
        return "shared dev set", rows
    from monitor.sources.normalise import html_to_text

    corpus = json.loads(DEMO.read_text(encoding="utf-8"))
    items = [(i["title"], html_to_text(i["summary_html"])) for feed in corpus["feeds"] for i in feed["items"]]
    items += [(post["title"], post["selftext"]) for post in corpus["reddit"]]
    why = "--own" if own else f"no {SHARED.parent}"
    return f"our invented demo corpus ({why})", items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=300_000, help="approximate words per timed pass")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per system, interleaved (best is kept)")
    parser.add_argument("--own", action="store_true", help="use our invented demo corpus even when ../shared exists")
    args = parser.parse_args()

    base_rss = rss_mb()
    import spacy

    from monitor.tagging import load_tagger

    source, items = load_items(args.own)
    t0 = time.perf_counter()
    tagger = load_tagger()
    load_seconds = time.perf_counter() - t0
    tagger_rss = rss_mb()
    blank = spacy.blank("en")

    texts = [f"{title}\n\n{text}" if title else text for title, text in items]
    words_per_copy = sum(len(doc) for doc in blank.pipe(texts))
    copies = max(1, args.words // max(words_per_copy, 1))
    pairs = items * copies
    all_texts = texts * copies
    total_words = words_per_copy * copies

    def time_blank() -> float:
        start = time.process_time()
        for _ in blank.pipe(all_texts, batch_size=64):
            pass
        return time.process_time() - start

    def time_tagger() -> float:
        start = time.process_time()
        for _ in tagger.tag_many(pairs, batch_size=64):
            pass
        return time.process_time() - start

    time_blank(), time_tagger()  # warm up both (vocab, caches)
    blank_runs: list[float] = []
    tagger_runs: list[float] = []
    for _ in range(args.repeats):  # interleaved, so a busy moment hurts both alike
        blank_runs.append(time_blank())
        tagger_runs.append(time_tagger())
    blank_s, tagger_s = min(blank_runs), min(tagger_runs)
    blank_wps, tagger_wps = total_words / blank_s, total_words / tagger_s
    relevant = sum(t.relevant for t in tagger.tag_many(items))

    print(f"texts: {source}, {len(items)} items x {copies} = {total_words:,} words per pass")
    print(f"spacy.blank('en') tokenising : {blank_wps:>12,.0f} words/s")
    print(f"monitor tagger (full)        : {tagger_wps:>12,.0f} words/s")
    print(f"ratio tagger / tokeniser     : {tagger_wps / blank_wps:>12.2f}   (target >= 0.30)")
    print(
        f"items per second (tagger)    : {len(pairs) / tagger_s:>12,.0f}   ({total_words / len(pairs):.0f} words per item)"
    )
    print(f"tagger load time             : {load_seconds:>12.2f} s")
    print(f"RSS before spaCy             : {base_rss:>12.0f} MB")
    print(f"RSS with the tagger loaded   : {tagger_rss:>12.0f} MB   (target < 300 MB)")
    print(f"RSS after the benchmark      : {rss_mb():>12.0f} MB")
    print(f"items judged relevant        : {relevant}/{len(items)}")


if __name__ == "__main__":
    main()
