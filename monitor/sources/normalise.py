"""Pure normalisation shared by every collector: URLs, HTML -> text, safe HTML, keys.

Nothing here does I/O. Everything collected is untrusted: ``safe_html`` is the only way
collected markup is allowed anywhere near HTML output, and ``clean_text`` strips the
control characters that would otherwise end up in headers and terminals.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
import unicodedata
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that only track the reader; removing them makes the same article
# from two feeds one URL. Prefix matches end with "_".
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid",
        "yclid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "wt.mc_id",
        "ocid", "cmpid", "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3",
        "at_custom4", "ito", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
        "s_cid", "ref_src", "smid", "cmp",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "__hs", "hsa_")
DEFAULT_PORTS = {"http": 80, "https": 443}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\u200b\ufeff\ud800-\udfff]")  # lone surrogates too
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def normalise_url(url: str | None, base: str | None = None) -> str | None:
    """The canonical form of an article URL, used as its identity across sources.

    Lower-cases scheme and host, drops default ports, fragments, empty queries and
    tracking parameters, sorts nothing else (parameter order can matter to a site),
    and resolves against ``base`` when relative. Returns None for non-http(s) URLs.
    """
    if not url:
        return None
    url = url.strip()
    if base:
        from urllib.parse import urljoin

        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~%") or "/"
    query_pairs = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(key)
    ]
    query = urlencode(query_pairs, quote_via=quote, safe="/:@!$'()*,;-._~")
    return urlunsplit((scheme, netloc, path, query, ""))


def clean_text(value: str | None) -> str:
    """Collapse whitespace and drop control characters (CR/LF included) to one line."""
    if not value:
        return ""
    value = _CONTROL.sub("", value)
    return " ".join(value.split())


# Tags that start or end a block of text: they become line breaks before tags are stripped.
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:p|div|br|li|ul|ol|h[1-6]|tr|table|blockquote|pre|section|article|header|footer|figure|"
    r"figcaption|hr|dd|dt|dl)\b[^>]*>",
    re.IGNORECASE,
)
_INVISIBLE = {"script", "style", "template", "noscript", "head", "title", "iframe", "object", "textarea", "select"}


def html_to_text(markup: str | None) -> str:
    """Plain text from HTML for tagging and search: paragraphs kept, scripts dropped.

    Block tags become line breaks, then an HTML5 parser (nh3) drops every tag and the
    content of invisible ones, and entities are decoded.
    """
    if not markup:
        return ""
    if "<" not in markup and "&" not in markup:
        text = markup
    else:
        import nh3

        text = html.unescape(nh3.clean(_BLOCK_TAG.sub("\n", markup), tags=set(), clean_content_tags=_INVISIBLE,
                                       strip_comments=True))
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n\n", text).strip()


ALLOWED_TAGS = frozenset(
    "a abbr b blockquote br cite code em h3 h4 h5 h6 i li ol p pre q s small strong sub sup u ul".split()
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "q": {"cite"}, "blockquote": {"cite"}}
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})


def safe_html(markup: str | None, *, plain: bool = False) -> str:
    """HTML that is safe to place in a page or an email.

    An allow-list (nh3/ammonia): no scripts, styles, event handlers, images (tracking
    pixels), iframes or forms; links only to http(s)/mailto, marked nofollow. ``plain``
    input is escaped rather than parsed.
    """
    if not markup:
        return ""
    if plain:
        return html.escape(markup).replace("\n", "<br>")
    import nh3

    cleaned = nh3.clean(
        markup,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        clean_content_tags={"script", "style"},
    )
    return cleaned.strip()


def content_hash(*parts: str | None) -> str:
    """A short fingerprint of an item's visible content, to tell "updated" from "seen"."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part or "").encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:20]


def item_key(source_id: str, *, guid: str | None, url: str | None) -> str | None:
    """The natural key of a news item: from its GUID, else from its normalised URL.

    GUIDs are only unique within a feed, so they are scoped by source; URLs are
    global. Returns None when an entry has neither (it cannot be tracked, so it is
    skipped with a warning).
    """
    if guid and guid.strip():
        basis = f"guid\x1f{source_id}\x1f{guid.strip()}"
    elif url:
        basis = f"url\x1f{url}"
    else:
        return None
    return "n" + hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:19]


def excerpt(text: str | None, limit: int = 100) -> str:
    """The start of ``text`` on one line, cut at a word and marked with an ellipsis when
    longer than ``limit``: the title of an item that has none (a comment, a post)."""
    line = clean_text(text)
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "\u2026"


SLUG_HASH_LENGTH = 8  # hex characters added for names in other scripts


def slugify(name: str) -> str:
    """``"BBC News – UK"`` -> ``"bbc-news-uk"``: the stable part of a source id.

    Case, accents and punctuation do not count (``"Café news"`` is ``"cafe-news"``). A
    name with letters or digits of a script other than Latin (``"Защита детей"``,
    ``"子ども"``) also gets a short hash of those letters (``"3f1c2a9b"``,
    ``"mastodon-social-5d41402a"``): ASCII alone would make all such names one id.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if _other_scripts(name):
        digest = hashlib.sha256(_letters_key(name).encode("utf-8", "surrogatepass")).hexdigest()[:SLUG_HASH_LENGTH]
        slug = f"{slug}-{digest}" if slug else digest
    return slug or "source"


def _other_scripts(name: str) -> bool:
    """Whether ``name`` has letters or digits outside the Latin script that
    :func:`slugify`'s ASCII folding drops (Cyrillic, Greek, CJK ...). Latin ones, and
    any that fold to ASCII (fullwidth letters, ligatures), do not count: their ids
    stay as they always were."""
    for ch in unicodedata.normalize("NFC", name):
        if not ch.isalnum() or ord(ch) < 0x250 or unicodedata.category(ch) == "Lm":
            continue
        if unicodedata.name(ch, "").startswith("LATIN"):
            continue
        if any(part.isascii() and part.isalnum() for part in unicodedata.normalize("NFKD", ch)):
            continue
        return True
    return False


def _letters_key(name: str) -> str:
    """A name as its letters and digits, whatever the script: accents, case and
    punctuation removed, as :func:`slugify` treats ASCII names."""
    decomposed = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    return "-".join(re.findall(r"[^\W_]+", unicodedata.normalize("NFC", decomposed).casefold()))


def plain_text(value: str | None) -> str:
    """Plain text kept as written (Markdown, a post's body): control characters dropped,
    line ends normalised, runs of blank lines collapsed. Nothing is unescaped or parsed."""
    if not value:
        return ""
    text = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


GONE_AUTHORS = ("[deleted]", "[removed]")  # how Reddit shows an author who is gone
AUTHOR_HASH_LENGTH = 16  # hex characters: 64 bits, no collisions among millions of authors


def author_hash(name: str | None, key: bytes) -> str | None:
    """A keyed, one-way pseudonym for a username (HMAC-SHA256, truncated).

    The same author always gets the same hash under one key, so an analyst can count
    posts per author without the database ever holding a name; without the key a
    hash cannot be reversed by hashing a list of known usernames. Usernames are
    compared case-insensitively, as Reddit does. Deleted or missing authors
    (``None``, ``""``, ``[deleted]``, ``[removed]``) have no hash.
    """
    import hmac

    if not name or not name.strip() or name.strip() in GONE_AUTHORS:
        return None
    if not key:
        raise ValueError("author_hash needs a non-empty key")
    digest = hmac.new(key, name.strip().casefold().encode("utf-8", "surrogatepass"), hashlib.sha256)
    return digest.hexdigest()[:AUTHOR_HASH_LENGTH]


class AuthorOptions(Protocol):
    """A collector's options as :func:`author_value` reads them."""

    @property
    def hash_authors(self) -> bool: ...

    @property
    def hash_key(self) -> bytes: ...


def author_value(name: Any, options: AuthorOptions) -> str | None:
    """What an item stores as its author: the keyed hash of ``name`` (:func:`author_hash`)
    when ``options.hash_authors`` is on (the default everywhere), else the name itself,
    cleaned; None for a missing, deleted or removed author."""
    if not isinstance(name, str):
        return None
    if options.hash_authors:
        return author_hash(name, options.hash_key)
    cleaned = clean_text(name)
    return cleaned if cleaned and cleaned not in GONE_AUTHORS else None


def json_number(value: Any) -> float | None:
    """A finite number from untrusted JSON (not a bool, a string, NaN or infinity), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def json_count(value: Any) -> int | None:
    """A count from untrusted JSON (likes, replies): a whole number, 0 or more, else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    number = json_number(value)
    return int(number) if number is not None and number >= 0 and number.is_integer() else None
