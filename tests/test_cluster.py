"""Syndication clusters: near-duplicate copies of one story across outlets become one cluster."""

from __future__ import annotations

from monitor.cluster import is_copy, signature, strip_publisher, title_similarity
from tests.helpers import open_app, rows, serve_files

WIRE = ("Councils in the invented county of Testshire have been told to review old case files after an audit "
        "found records incomplete in 41% of the files it sampled. Ministers said the review would report by "
        "the spring, and campaigners welcomed the decision but asked for a firm deadline.")
REWRITE = ("Councils in the invented county of Testshire have been told to review old case files after an audit "
           "found that records were incomplete in 41% of files sampled. Ministers said the review would report "
           "by spring.")
OTHER = ("A dog grooming salon in the invented town of Testbury has won a regional award for its work with "
         "rescue animals, its owner said on Tuesday, thanking her staff and customers.")


def test_publisher_suffixes_are_stripped_only_when_a_headline_remains():
    assert strip_publisher("Councils told to review old files - Testshire Gazette") == "Councils told to review old files"
    assert strip_publisher("Councils told to review old files | The Daily Test") == "Councils told to review old files"
    assert strip_publisher("Brexit - what next") == "Brexit - what next"


def test_copies_are_similar_and_different_stories_are_not():
    wire = signature("Councils told to review old case files", WIRE)
    copy = signature("Councils told to review old case files - Testshire Gazette", REWRITE)
    other = signature("Salon wins award", OTHER)
    assert is_copy(wire.similarity(copy), title_similarity("Councils told to review old case files",
                   "Councils told to review old case files - Testshire Gazette"), 0.5)
    assert wire.similarity(copy) > 0.3
    assert wire.similarity(other) < 0.2
    # Shared stock phrases under a different headline are not a copy.
    assert not is_copy(0.35, title_similarity("Man jailed for grooming girl", "Offences up sharply, figures show"), 0.5)
    assert signature("Hi", "") is None  # too short to compare


def feed(title: str, link: str, text: str) -> bytes:
    return (f'<rss version="2.0"><channel><title>t</title><item><title>{title}</title><link>{link}</link>'
            f"<description>{text}</description><pubDate>Wed, 04 Nov 2026 12:00:00 GMT</pubDate></item>"
            f"</channel></rss>").encode()


def test_syndicated_copies_from_three_outlets_form_one_cluster(server, make_config):
    files = {
        "Wire": feed("Councils told to review old case files", "https://wire.test/a", WIRE),
        "Gazette": feed("Councils told to review old case files - Testshire Gazette", "https://gazette.test/b", REWRITE),
        "Lantern": feed("Councils told to review old case files | The Lantern", "https://lantern.test/c", WIRE),
        "Pets": feed("Salon wins award", "https://pets.test/d", OTHER),
    }
    with open_app(make_config, feeds=serve_files(server, files)) as monitor:
        monitor.collect()
        clusters = rows(monitor, "SELECT id, title, size, outlets FROM clusters")
        assert len(clusters) == 1
        assert clusters[0]["size"] == 3 and clusters[0]["outlets"] == 3
        assert clusters[0]["title"] == "Councils told to review old case files"
        members = rows(monitor, "SELECT url FROM items WHERE cluster_id = ? ORDER BY url", [clusters[0]["id"]])
        assert [m["url"] for m in members] == ["https://gazette.test/b", "https://lantern.test/c", "https://wire.test/a"]
        assert rows(monitor, "SELECT cluster_id FROM items WHERE url = 'https://pets.test/d'")[0]["cluster_id"] is None


def test_copies_outside_the_window_are_separate_stories(server, make_config):
    old = feed("Councils told to review old case files", "https://wire.test/a", WIRE).replace(
        b"Wed, 04 Nov 2026", b"Wed, 01 Jan 2025")
    new = feed("Councils told to review old case files - Gazette", "https://gazette.test/b", REWRITE)
    with open_app(make_config, feeds=serve_files(server, {"Old": old, "New": new}),
                  clusters={"window_days": 3}) as monitor:
        monitor.collect()
        assert rows(monitor, "SELECT COUNT(*) AS n FROM clusters")[0]["n"] == 0


def test_a_news_search_copy_with_only_the_headline_joins_the_outlets_story(server, make_config):
    """News-search feeds (Google News) give an outlet's headline and name but no lead."""
    outlet = feed("Man jailed for grooming girl he met on a gaming app", "https://gazette.test/jailed", WIRE)
    search = ('<rss version="2.0"><channel><title>search</title><item>'
              "<title>Man jailed for grooming girl he met on a gaming app - Testshire Gazette</title>"
              "<link>https://news.search.test/rss/articles/CBMiXYZ?oc=5</link>"
              "<description>&lt;a href=\"https://news.search.test/rss/articles/CBMiXYZ\"&gt;Man jailed for grooming"
              " girl he met on a gaming app&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font color=\"#6f6f6f\"&gt;Testshire"
              " Gazette&lt;/font&gt;</description><source url=\"https://gazette.test\">Testshire Gazette</source>"
              "<pubDate>Wed, 04 Nov 2026 13:00:00 GMT</pubDate></item></channel></rss>").encode()
    short = feed("Police warn parents", "https://other.test/warn", OTHER)  # short headlines never match on their own
    short_copy = feed("Police warn parents - Other Paper", "https://third.test/warn", "Unrelated text about a fete.")
    files = {"Gazette": outlet, "Search": search, "Short": short, "ShortCopy": short_copy}
    with open_app(make_config, feeds=serve_files(server, files)) as monitor:
        monitor.collect()
        clusters = rows(monitor, "SELECT id, size FROM clusters")
        assert [c["size"] for c in clusters] == [2]
        members = {r["url"] for r in rows(monitor, "SELECT url FROM items WHERE cluster_id = ?", [clusters[0]["id"]])}
        assert members == {"https://gazette.test/jailed", "https://news.search.test/rss/articles/CBMiXYZ?oc=5"}
