"""Quoted figures: "37%", "7,263 online grooming offences", "€20 million" fines.

One compiled regular expression over the plain text finds candidate numbers (much
cheaper than a token Matcher with REGEX predicates); the words after a number decide
its unit. Years, dates, ages, durations, article and category numbers are not
statistics and are skipped.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from monitor.types import Statistic

_CURRENCY_SYMBOLS = {
    "£": "GBP",
    "€": "EUR",
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "gbp": "GBP",
    "eur": "EUR",
    "a$": "AUD",
    "au$": "AUD",
    "c$": "CAD",
}
_CURRENCY_WORDS = {"pounds": "GBP", "euros": "EUR", "dollars": "USD"}
_SCALE = {"million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9, "thousand": 1e3, "k": 1e3}

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# Starts with the digits so the engine skips non-digit positions quickly; the currency
# before the number is read by hand in ``_currency``.
_PATTERN = re.compile(
    r"(?P<num>" + _NUMBER + r")(?!-year|–year|-\d|/\d|\.\d)"
    r"(?:\s?(?P<scale>million|billion|thousand|bn|mn|m|k)\b)?(?![\w/])"
    r"(?:\s?(?P<pct>%|per\s?cent\b|percent\b))?",
    re.IGNORECASE,
)
_GLUED_BEFORE = re.compile(r"[\w.,/-]")  # "a1", "1.5" read from the middle, "14-18", "2022/23"
_CURRENCY_BEFORE = re.compile(r"(US\$|A\$|AU\$|C\$|[£€$]|\b(?:USD|GBP|EUR)\s?)$", re.IGNORECASE)


def _currency(text: str, start: int) -> tuple[str, int]:
    """The currency written just before ``start`` and where it begins ("", start if none)."""
    if start == 0 or text[start - 1] not in "$£€ Dd":
        return "", start
    match = _CURRENCY_BEFORE.search(text, max(0, start - 4), start)
    if not match:
        return "", start
    return match.group(1).strip().lower(), match.start(1)


_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")

# Words that can sit between a number and its unit: "7,263 online grooming offences".
_SKIP = {
    "online",
    "recorded",
    "reported",
    "more",
    "new",
    "such",
    "actionable",
    "registered",
    "active",
    "daily",
    "average",
    "child",
    "children's",
    "sexual",
    "abuse",
    "image",
    "grooming",
    "unique",
    "individual",
    "separate",
    "suspected",
    "confirmed",
    "other",
    "different",
    "global",
    "uk",
    "us",
    "of",
    "the",
    "these",
    "those",
    "known",
    "criminal",
    "total",
    "young",
    "teenage",
    "monthly",
    "million",
    "billion",
    "thousand",
    "sextortion",
    "related",
    "abuse-related",
    "internet",
    "police",
    "indecent",
    "fake",
    "coordinated",
    "co-ordinated",
}
_NOT_UNITS = {
    "years",
    "year",
    "months",
    "month",
    "weeks",
    "week",
    "days",
    "day",
    "hours",
    "hour",
    "minutes",
    "minute",
    "seconds",
    "am",
    "pm",
    "and",
    "or",
    "to",
    "in",
    "on",
    "at",
    "by",
    "for",
    "from",
    "with",
    "was",
    "were",
    "is",
    "are",
    "has",
    "have",
    "had",
    "a",
    "an",
    "it",
    "that",
    "which",
    "who",
    "when",
    "per",
    "times",
    "out",
    "members",
    "recommendations",
    "counts",
    "volumes",
    "pages",
    "page",
    "decades",
    "inches",
    "miles",
}
# Things the campaign counts; found up to eight words after a number.
_COUNTED = {
    "offences", "offenses", "crimes", "cases", "reports", "referrals", "images", "videos", "webpages", "urls",
    "victims", "children", "arrests", "convictions", "accounts", "incidents", "charges", "prosecutions",
}
_CLAUSE_END = re.compile(r"[.;:!?,()]")
_FUNCTION_WORDS = {
    "this",
    "thus",
    "his",
    "hers",
    "its",
    "ours",
    "yours",
    "theirs",
    "was",
    "has",
    "does",
    "goes",
    "as",
    "us",
    "across",
    "less",
    "unless",
    "plus",
    "always",
    "perhaps",
    "besides",
    "towards",
    "afterwards",
    "whereas",
    "news",
    "various",
    "previous",
    "serious",
    "famous",
    "nervous",
    "obvious",
    "numerous",
    "miles",
    "times",
}
_MONTHS = {
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
}
_BEFORE_NOT_STAT = {
    "article",
    "articles",
    "category",
    "section",
    "clause",
    "chapter",
    "schedule",
    "phase",
    "tier",
    "level",
    "page",
    "part",
    "rule",
    "no",
    "number",
    "version",
    "volume",
    "ages",
    "aged",
    "age",
    "under",
    "covid-",
    "top",
}


def _sentence(text: str, ends: list[int], start: int, end: int) -> str:
    """The sentence around ``text[start:end]``; ``ends`` are the sentence-end offsets."""
    i = bisect_right(ends, start)
    left = ends[i - 1] if i else 0
    j = bisect_left(ends, end + 1)
    right = ends[j] if j < len(ends) else len(text)
    return " ".join(text[left:right].split())


def _previous_word(text: str, start: int) -> str:
    words = _WORD.findall(text[max(0, start - 20) : start])
    return words[-1].lower() if words else ""


def extract_statistics(text: str, limit: int = 20) -> tuple[Statistic, ...]:
    """Every quoted figure in ``text`` with its unit and the sentence it stands in."""
    found: list[Statistic] = []
    seen: set[tuple[str, str]] = set()
    ends: list[int] | None = None
    for match in _PATTERN.finditer(text):
        if match.start() and _GLUED_BEFORE.match(text, match.start() - 1):
            continue
        raw = match.group("num")
        cur, begin = _currency(text, match.start())
        scale = (match.group("scale") or "").lower()
        pct = match.group("pct")
        try:
            number = float(raw.replace(",", ""))
        except ValueError:
            continue
        if scale:
            if scale in ("m", "k", "b") and not cur:
                scale = ""  # "5m" could be metres; only trust single letters after a currency
            else:
                number *= _SCALE[scale]
        end = match.end()
        if not scale and match.group("scale"):
            end = match.start("scale")
        before = _previous_word(text, match.start())
        unit = ""
        if pct:
            unit = "%"
        elif cur:
            unit = _CURRENCY_SYMBOLS.get(cur, cur.upper())
        else:
            if before in _MONTHS or before in _BEFORE_NOT_STAT:
                continue
            after = _WORD.findall(text[end : end + 60])
            # "4 May", "1 January 2014": a date, not a figure.
            if after and after[0].lower() in _MONTHS:
                continue
            for word in after[:4]:
                if word.endswith(("'s", "’s")):
                    break  # "Instagram's 1,363": the word belongs to what follows, not to this number
                lower = word.lower().strip("'’")
                if word.isupper() and len(word) > 1:
                    lower = word  # keep acronyms: "URLs" stays readable below
                if lower in _FUNCTION_WORDS:
                    break
                if lower in _CURRENCY_WORDS:
                    unit = _CURRENCY_WORDS[lower]
                    break
                if lower in _SKIP:
                    continue
                if lower in _NOT_UNITS or lower in _MONTHS:
                    break
                if len(lower) > 2 and (lower.endswith("s") or lower in ("people", "children", "men", "women")):
                    unit = word if word[:-1].isupper() else lower
                break
            if not unit:
                # Named offence categories sit between number and unit:
                # "1,220 Sexual Communication with a Child offences".
                clause = _CLAUSE_END.split(text[end : end + 90], 1)[0]
                for word in _WORD.findall(clause)[:8]:
                    if word.lower() in _COUNTED:
                        unit = word.lower()
                        break
            if not unit:
                continue
            # A bare year ("in 2019") is a date unless a plural noun follows it directly.
            if (
                "," not in raw
                and "." not in raw
                and 1900 <= number <= 2100
                and not scale
                and before
                in (
                    "in",
                    "since",
                    "of",
                    "from",
                    "by",
                    "until",
                    "to",
                    "between",
                    "and",
                    "year",
                    "the",
                    "early",
                    "late",
                    "mid",
                )
            ):
                continue
        value = text[begin:end].strip()
        key = (value, unit)
        if key in seen:
            continue
        seen.add(key)
        if ends is None:
            ends = [m.end() for m in _SENTENCE_END.finditer(text)]
        found.append(Statistic(value=value, number=number, unit=unit, sentence=_sentence(text, ends, begin, end)))
        if len(found) >= limit:
            break
    return tuple(found)
