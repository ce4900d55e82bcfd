"""Normalisation is pure: property tests with hypothesis, plus the cases that matter."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from monitor.sources.normalise import (
    author_hash,
    author_value,
    clean_text,
    html_to_text,
    item_key,
    json_count,
    json_number,
    normalise_url,
    safe_html,
    slugify,
)

hosts = st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(test|org|co\.uk)", fullmatch=True)
paths = st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True), max_size=4).map(lambda p: "/" + "/".join(p))
params = st.lists(st.tuples(st.sampled_from(["id", "page", "utm_source", "fbclid", "q", "gclid", "utm_campaign"]),
                            st.from_regex(r"[a-z0-9]{0,5}", fullmatch=True)), max_size=4)


@st.composite
def urls(draw):
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(hosts)
    if draw(st.booleans()):
        host = host.upper()
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    query = "&".join(f"{k}={v}" for k, v in draw(params))
    fragment = draw(st.sampled_from(["", "#top", "#comments"]))
    return f"{scheme}://{host}{port}{draw(paths)}{'?' + query if query else ''}{fragment}"


@given(urls())
def test_normalising_is_idempotent(url):
    once = normalise_url(url)
    assert once is not None
    assert normalise_url(once) == once


@given(urls())
def test_normalised_urls_have_no_tracking_fragment_or_case_noise(url):
    result = normalise_url(url)
    assert "utm_" not in result and "fbclid" not in result and "gclid" not in result and "#" not in result
    scheme, rest = result.split("://", 1)
    netloc = rest.split("/", 1)[0]
    assert scheme in ("http", "https") and netloc == netloc.lower()
    assert not netloc.endswith({"http": ":80", "https": ":443"}[scheme])  # default port dropped


@given(urls(), urls())
def test_item_keys_are_stable_and_distinguish_urls(a, b):
    ka, kb = item_key("feed:x", guid=None, url=normalise_url(a)), item_key("feed:x", guid=None, url=normalise_url(b))
    assert ka == item_key("feed:x", guid=None, url=normalise_url(a))
    assert (ka == kb) == (normalise_url(a) == normalise_url(b))


def test_known_cases():
    assert normalise_url("HTTPS://Example.COM:443/a/b?utm_source=x&id=3&fbclid=y#frag") == "https://example.com/a/b?id=3"
    assert normalise_url("http://example.com") == "http://example.com/"
    assert normalise_url("/relative/path", base="https://site.test/feed.xml") == "https://site.test/relative/path"
    assert normalise_url("javascript:alert(1)") is None
    assert normalise_url("mailto:x@example.org") is None


def test_guids_are_scoped_by_source_and_win_over_urls():
    assert item_key("feed:a", guid="1", url="https://x.test/") != item_key("feed:b", guid="1", url="https://x.test/")
    assert item_key("feed:a", guid=None, url=None) is None


@given(st.text())
def test_clean_text_never_returns_control_characters(value):
    cleaned = clean_text(value)
    assert "\r" not in cleaned and "\n" not in cleaned and "\x00" not in cleaned
    assert cleaned == cleaned.strip()


@given(st.text(alphabet=st.sampled_from(list("<>&\"'/ abcp=script onload javascript:img src"))))
def test_safe_html_output_never_contains_active_content(value):
    out = safe_html(value).lower()
    assert "<script" not in out and "javascript:" not in out and "<img" not in out
    assert " onload=" not in out


def test_html_to_text_keeps_paragraphs_and_drops_scripts():
    text = html_to_text("<p>One &amp; two</p><script>var x = 1;</script><p>Three<br>four</p>")
    assert text == "One & two\n\nThree\nfour"


def _old_slugify(name: str) -> str:
    """slugify as it was before names in other scripts got a hash: ids already stored."""
    import re
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "source"


@given(st.text(alphabet=st.characters(max_codepoint=0x24F)))  # ASCII and the Latin blocks
def test_ids_of_latin_names_do_not_change(name):
    assert slugify(name) == _old_slugify(name)


def test_names_in_other_scripts_get_distinct_ascii_ids():
    assert slugify("BBC News – UK") == "bbc-news-uk" and slugify("Café news") == "cafe-news"
    cyrillic = [slugify("Защита"), slugify("Дети"),
                slugify("mastodon.social Защита"), slugify("子ども")]
    assert len(set(cyrillic)) == 4 and all(slug.isascii() and slug != "source" for slug in cyrillic)
    assert cyrillic[2].startswith("mastodon-social-")
    # Case, accents and punctuation do not count, as for Latin names.
    assert slugify("защита  детей!") == \
        slugify("Защита Детей")


def test_author_values_are_keyed_hashes_unless_hashing_is_off_and_gone_authors_are_nobody():
    from types import SimpleNamespace

    hashed = SimpleNamespace(hash_authors=True, hash_key=b"an invented test key")
    named = SimpleNamespace(hash_authors=False, hash_key=b"")
    assert author_value("Invented_User", hashed) == author_hash("invented_user", b"an invented test key")
    assert author_value(" Invented_User\n", named) == "Invented_User"
    for gone in (None, "", "  ", "[deleted]", "[removed]", 42):
        assert author_value(gone, hashed) is None and author_value(gone, named) is None


def test_numbers_from_untrusted_json():
    assert [json_number(v) for v in (3, -2.5, True, "7", float("nan"), float("inf"), None)] == [
        3.0, -2.5, None, None, None, None, None]
    assert [json_count(v) for v in (0, 12, 12.0, 2**70, -1, 1.5, False, "3", None)] == [
        0, 12, 12, 2**70, None, None, None, None, None]
