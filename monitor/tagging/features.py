"""From raw term matches on one document to named rule features and entity tags.

Pure functions over a spaCy ``Doc`` and the matcher's hits: no matching, no scoring.
Co-occurrence is judged per sentence, where sentences are cut at ``.``, ``!``, ``?``
and at the title/text boundary (cheaper than a sentencizer and good enough for
"groom" + "sexual" in the same sentence). Context rules that the term lists cannot
express (company vs network "Facebook", the letter "X", ages) live here; the words
they look at are data (``patterns/context.toml``, :class:`ContextWords`).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from monitor.tagging.keys import RAW
from monitor.tagging.resources import ContextWords, packaged_context_words

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Doc

# One matcher hit: kind, label, id, rule, start token, end token.
Hit = tuple[str, str, str, str, int, int]


class Matches(NamedTuple):
    """The matcher's hits on one document, grouped as the rules read them."""

    concept: dict[str, list[tuple[int, int]]]  # concept label -> (start, end) spans, in match order
    entities: list[Hit]  # platform, organisation and law hits, in match order

IN_SCOPE_LAWS = ("online_safety_act_uk", "kosa_us", "coppa_us", "eu_csam_regulation", "other")
SENSES = ("pet", "personal", "ski", "succession", "wedding", "backlog", "primate")
_SENSE_KEYS = tuple(("SENSE_" + sense.upper(), "sense_" + sense) for sense in SENSES)  # (label, feature)

@dataclass
class Analysis:
    """What the rules found in one document, before scoring."""

    features: dict[str, float]
    platforms: list[str]
    legislation: list[str]
    organisations: list[str]
    labels: dict[str, int] = field(default_factory=dict)  # hits per concept label, whole doc
    concept: dict[str, list[tuple[int, int]]] = field(default_factory=dict, repr=False)
    laws_anywhere: list[str] = field(default_factory=list)  # title included
    protective_orgs: list[str] = field(default_factory=list)


# Which matched words back up each feature in ``why``: (labels, how many words).
EVIDENCE: dict[str, tuple[tuple[tuple[str, ...], int], ...]] = {
    "csam": ((("CSAM", "CSA"), 3),),
    "child_abuse": ((("CSA", "ABUSE", "PREDATOR"), 3),),
    "child_sexual": ((("SEXUAL",), 3),),
    "sextortion_minor": ((("SEXTORTION", "EXTORTION"), 2), (("CHILD",), 1)),
    "sextortion_adult": ((("SEXTORTION", "EXTORTION"), 3),),
    "groom_abuse": ((("GROOM",), 1), (("SEXUAL", "ABUSE", "PREDATOR"), 2)),
    "groom_child": ((("GROOM",), 1), (("CHILD", "FAMILY_CHILD"), 1)),
    "groom_any": ((("GROOM",), 1),),
    "grooming_gang": ((("GANG", "GANG_PLACE"), 3),),
    "law_child": ((("LAW_GENERIC",), 2), (("CHILD",), 1)),
    "child_safety": ((("SAFETY",), 2), (("CHILD",), 1)),
    "child_legal": ((("LEGAL_ACTION",), 2),),
    "predator": ((("PREDATOR",), 3),),
    "grooming_cue": ((("GROOMING_CUE",), 3),),
    "groom_crime_child": ((("GROOM",), 1), (("CHILD", "FAMILY_CHILD"), 1), (("CRIME",), 1)),
    "child_contact": ((("CONTACT",), 2), (("CHILD", "FAMILY_CHILD"), 1)),
    "crime_child": ((("CRIME",), 2),),
    "business": ((("BUSINESS",), 3),),
    "adult_scam": ((("ADULT_SCAM",), 3),),
    **{f"sense_{s}": (((f"SENSE_{s.upper()}",), 3),) for s in SENSES},
}


def evidence(doc: Doc, analysis: Analysis, feature: str) -> list[str]:
    """The words that made ``feature`` fire, for the ``why`` of an item (computed on demand)."""
    if feature == "law_in_scope":
        return [t for t in analysis.laws_anywhere if t in IN_SCOPE_LAWS]
    if feature in ("dsa_minors", "dsa_other"):
        return ["dsa_eu"]
    if feature == "child_protection_org":
        return analysis.protective_orgs[:3]
    if feature == "child_platform":
        return analysis.platforms[:3]
    out: list[str] = []
    seen: set[str] = set()
    raw: str | None = None
    for labels, limit in EVIDENCE.get(feature, ()):
        taken = 0
        for label in labels:
            for start, end in analysis.concept.get(label, ()):
                if taken >= limit:
                    break
                if end - start == 1:
                    word = doc[start].text
                else:  # the span's text, cut from the document's string (a Span would build it token by token)
                    if raw is None:
                        raw = doc.user_data.get(RAW) or doc.text
                    last = doc[end - 1]
                    word = raw[doc[start].idx : last.idx + len(last)]
                lower = word.lower()
                if lower not in seen:
                    seen.add(lower)
                    out.append(word)
                    taken += 1
    return out


def _number(text: str, words: ContextWords) -> int | None:
    text = text.lower().replace(",", "")
    if text.isdigit():
        return int(text)
    return words.word_numbers.get(text)


def _ages(
    doc: Doc, anchors: list[tuple[int, int]], phrases: list[tuple[int, int]], words: ContextWords
) -> tuple[list[int], list[int]]:
    """Token positions of ages under 18 and of adult ages ("26-year-old")."""
    child: list[int] = []
    adult: list[int] = []
    n = len(doc)
    for start, end in anchors:
        first = doc[start].lower_
        value: int | None = None
        if first in words.age_before_number:
            if end < n:
                value = _number(doc[end].text, words)
        else:  # "year-old", "years old": the number comes before
            j = start - 1
            if j >= 0 and doc[j].text in ("-", "–"):
                j -= 1
            if j >= 0:
                value = _number(doc[j].text, words)
        if value is None:
            continue
        (child if value < 18 else adult).append(start)
    for start, end in phrases:
        if end < n and (doc[end].text.lower() in words.not_age_next or doc[end].like_num):
            continue
        child.append(start)
    return child, adult


def _resolve_overlaps(hits: list[Hit]) -> list[Hit]:
    """Longest entity match wins ("Kik Messenger" over "Messenger", "Snap Inc" over nothing)."""
    ordered = sorted(hits, key=lambda h: (h[4], -(h[5] - h[4])))
    kept: list[Hit] = []
    last_end = -1
    for hit in ordered:
        if hit[4] >= last_end:
            kept.append(hit)
            last_end = hit[5]
    return kept


def analyse(
    doc: Doc,
    matches: Matches,
    text_start: int,
    child_protection: frozenset[str],
    words: ContextWords | None = None,
) -> Analysis:
    """Turn the matcher's hits on ``doc`` into features, evidence and entity tags.

    ``matches.concept`` becomes the analysis's own ``concept`` (it is not copied).

    ``text_start`` is the first token of the item's text (tokens before it are the
    title): platforms and laws are tagged from the text only, as the labelling
    conventions require, while relevance features use title and text. ``words`` are the
    context rules' word lists (default: the packaged ``context.toml``).
    """
    if words is None:
        words = packaged_context_words()
    concept, entities = matches
    # Sentence starts (token indexes) from the sentence-end hits; sentence(i) numbers them.
    starts = sorted({0, text_start, *[e for _, e in concept.get("SENT_END", ())]})

    def sentence(i: int) -> int:
        return bisect_right(starts, i) - 1

    sentence_sets: dict[str, set[int]] = {}
    if "NOT_ABUSE" in concept and "ABUSE" in concept:
        # "abuse of power", "drug abuse": drop the ABUSE hits inside these phrases.
        covered = {i for start, end in concept["NOT_ABUSE"] for i in range(start, end)}
        kept = [(s, e) for s, e in concept["ABUSE"] if s not in covered]
        concept["ABUSE"] = kept
    empty: list[tuple[int, int]] = []
    no_sentences: set[int] = set()

    def pos(label: str) -> list[tuple[int, int]]:
        return concept.get(label, empty)

    def sents(label: str) -> set[int]:
        """Sentence numbers holding a hit of ``label`` (computed on first use)."""
        found = sentence_sets.get(label)
        if found is None:
            spans = concept.get(label)
            found = {bisect_right(starts, s) - 1 for s, _ in spans} if spans else no_sentences
            sentence_sets[label] = found
        return found

    n = len(doc)

    # --- entities -----------------------------------------------------------------
    platform_positions = [h[4] for h in entities if h[0] == "PLATFORM" and not h[3]]
    xctx = [s for s, _ in pos("X_CONTEXT")]
    corp = [s for s, _ in pos("CORP_VERB")]
    australia = sents("AUSTRALIA")
    australia_any = bool(australia)
    eu_context = bool(pos("EU_CONTEXT"))
    platforms: list[str] = []
    laws: list[str] = []
    laws_title: list[str] = []
    orgs: list[str] = []
    platform_any = False
    for kind, _label, ident, rule, start, end in _resolve_overlaps(entities) if entities else ():
        if rule:
            prev = doc[start - 1] if start > 0 else None
            nxt = doc[end] if end < n else None
        if not rule:
            pass
        elif rule == "needs_context":
            if nxt is not None and nxt.text in words.x_reject_next:
                continue
            if prev is not None and (prev.text in words.x_reject_prev):
                continue
            ok = (
                prev is not None
                and prev.lower_ in words.x_ok_prev
                and not (prev.lower_ in ("and", "or") and not any(0 < start - p <= 4 for p in platform_positions))
            )
            ok = ok or (nxt is not None and nxt.text in ("'s", "’s"))
            ok = ok or any(p != start and abs(p - start) <= 4 for p in platform_positions)
            ok = ok or any(abs(p - start) <= 4 for p in xctx)
            if not ok:
                continue
        elif rule == "company_sense" and end - start == 1:
            network = prev is not None and prev.lower_ in words.network_prev
            if not network and any(
                end <= p <= end + 3
                and sentence(p) == sentence(start)
                and not any(end <= q < p for q in platform_positions)
                and not any(doc[i].lower_ in ("and", "or", ",") for i in range(end, p))
                for p in corp
            ):
                continue  # "Facebook said ...": the company, not the network
        elif rule == "proper_noun":
            if prev is not None and prev.lower_ in words.common_noun_prev:
                continue
            at_sentence_start = start == 0 or sentence(start - 1) != sentence(start)
            if prev is not None and not at_sentence_start and prev.is_title and start - 1 not in platform_positions:
                continue
            if nxt is not None and nxt.is_title and end not in platform_positions and nxt.lower_ != "messenger":
                continue
        elif rule == "not_prefix":  # "Meta-analysis" is not Meta; "Meta-owned" is
            if (
                nxt is not None
                and nxt.text in ("-", "–")
                and (end + 1 >= n or doc[end + 1].lower_ not in words.meta_hyphen_ok_next)
            ):
                continue
        elif rule == "not_australian":
            if sentence(start) in australia:
                continue
        elif rule == "not_australian_doc":  # "Online Safety Act 2021" is Australia's only in an Australian item
            if australia_any:
                continue
        elif rule == "eu_context":
            if not eu_context:
                continue
        if not ident:
            continue  # a suppressor entry (e.g. Australia's Online Safety Act 2021)
        in_text = start >= text_start
        if kind == "PLATFORM":
            platform_any = True
            if in_text and ident not in platforms:
                platforms.append(ident)
        elif kind == "LAW":
            if ident not in laws_title:
                laws_title.append(ident)
            if in_text and ident not in laws:
                laws.append(ident)
        elif kind == "ORG" and ident not in orgs:
            orgs.append(ident)

    # Police forces: "Greater Manchester Police", "Nottinghamshire Police".
    for start, end in pos("POLICE"):
        if start < text_start:
            continue
        left = start
        while (
            left > text_start and start - left < 3 and doc[left - 1].is_title and sentence(left - 1) == sentence(start)
        ):
            if doc[left - 1].text in words.police_not_name:
                break
            left -= 1
        if left < start:
            name = doc[left:end].text
            if name not in orgs:
                orgs.append(name)

    # Australia's under-16 social media minimum age, when named by description.
    ban_rule = sents("AGE_BAN") & sents("UNDER16") & sents("SOCIAL_MEDIA") if "AGE_BAN" in concept else no_sentences
    if ban_rule:
        if "other" not in laws_title:
            laws_title.append("other")
        first = min(start for start, _ in pos("AGE_BAN") if sentence(start) in ban_rule)
        if first >= text_start and "other" not in laws:
            laws.append("other")

    # --- concepts -----------------------------------------------------------------
    if "AGE_ANCHOR" in concept or "AGE_PHRASE" in concept:
        child_ages, _adult_ages = _ages(doc, pos("AGE_ANCHOR"), pos("AGE_PHRASE"), words)
    else:
        child_ages, _adult_ages = [], []
    child_positions = [s for s, _ in pos("CHILD")] + child_ages
    child_s = {bisect_right(starts, p) - 1 for p in child_positions}
    has_child = bool(child_positions)
    adult_s = {sentence(p) for p in _adult_ages}
    family_s = sents("FAMILY_CHILD") - (adult_s - child_s)  # "a 19-year-old girl" is an adult
    childish_s = child_s | family_s
    sexual_s, abuse_s, predator_s = sents("SEXUAL"), sents("ABUSE"), sents("PREDATOR")
    csa_s, csam_s = sents("CSA"), sents("CSAM")
    groom_s = sents("GROOM")
    harm_s = sexual_s | abuse_s | predator_s | csa_s | csam_s
    online_any = bool(pos("ONLINE")) or platform_any
    law_tags = set(laws_title)

    # Only features that fire are stored (a sparse dict): most items light up a handful.
    f: dict[str, float] = {}
    image_s = sents("IMAGE")
    if csam_s or csa_s & image_s:
        f["csam"] = 1.0
    child_abuse = bool(csa_s) or bool(childish_s & (abuse_s | predator_s))
    if child_abuse:
        f["child_abuse"] = 1.0
    elif child_s & sexual_s:
        f["child_sexual"] = 1.0
    sextortion = bool(pos("SEXTORTION")) or bool(sents("EXTORTION") & (sexual_s | sents("PHOTO")))
    youth = bool(pos("YOUTH"))
    protective = bool(orgs) and any(o in child_protection for o in orgs)
    if sextortion:
        # Bulk "I recorded you" emails target adults; advice that names a child, school or
        # parents, or sends the reader to a child-protection body, is about minors.
        minor = has_child or bool(family_s) or youth or protective
        f["sextortion_minor" if minor else "sextortion_adult"] = 1.0
    groom_abuse = bool(groom_s & harm_s)
    crime_s = sents("CRIME")
    # "jailed for grooming three boys": a child and a crime or court in the sentence of
    # "groom" is the abuse sense, whatever else the item says about coaches or managers.
    groom_crime = bool(groom_s & childish_s & crime_s)
    if groom_s:
        f["groom_any"] = 1.0
        if groom_abuse:
            f["groom_abuse"] = 1.0
        if groom_crime:
            f["groom_crime_child"] = 1.0
        sensed = False
        # Sexual words, child sexual abuse or a child and a court next to "groom" settle the
        # sense; plain abuse words ("abusing his position") do not.
        settled = bool(groom_s & (sexual_s | csa_s | csam_s | predator_s)) or groom_crime
        for label, feature in _SENSE_KEYS if not settled else ():
            spans = concept.get(label)
            if spans and (sents(label) & groom_s or len(spans) >= 3):
                f[feature] = 1.0
                sensed = True
        # "groom" with a child in the same sentence, or anywhere in an item about the
        # internet, and no other sense of the word in sight.
        youth_s = sents("YOUTH")
        if not groom_abuse and not sensed and (groom_s & (childish_s | youth_s) or (has_child and online_any)):
            f["groom_child"] = 1.0
    if pos("GANG") or (pos("GANG_PLACE") and (csa_s or child_abuse or groom_abuse)):
        f["grooming_gang"] = 1.0
    if laws_title:
        if any(t in law_tags for t in IN_SCOPE_LAWS):
            f["law_in_scope"] = 1.0
        if "dsa_eu" in law_tags:
            f["dsa_minors" if has_child else "dsa_other"] = 1.0
    if has_child:
        if online_any:
            if sents("LAW_GENERIC") & child_s:
                f["law_child"] = 1.0
            if sents("SAFETY") & child_s:
                f["child_safety"] = 1.0
            if pos("LEGAL_ACTION"):
                f["child_legal"] = 1.0
        if pos("GROOMING_CUE") and (harm_s or pos("CRIME") or pos("ADULT")):
            f["grooming_cue"] = 1.0  # "asked her to send pictures" needs an adult, a crime or sex in view
    elif youth and pos("GROOMING_CUE") and online_any and (harm_s or groom_s or pos("ADULT")):
        f["grooming_cue"] = 1.0  # a young person writing: "told me not to tell my parents"
        if platform_any:
            f["child_platform"] = 1.0
    contact_s = sents("CONTACT")
    if contact_s and online_any and (contact_s & childish_s or (has_child and platform_any)):
        f["child_contact"] = 1.0  # who children talk to online: strangers, unknown adults
    if protective:
        f["child_protection_org"] = 1.0
    if predator_s:
        f["predator"] = 1.0
    if childish_s and crime_s & childish_s:
        f["crime_child"] = 1.0
    if len(pos("BUSINESS")) >= 3:
        f["business"] = 1.0
    if pos("ADULT_SCAM"):
        f["adult_scam"] = 1.0

    labels = {label: len(spans) for label, spans in concept.items()}
    labels["_platform_any"] = int(platform_any)
    labels["_sextortion"] = int(sextortion)
    labels["_crime"] = int(bool(pos("CRIME")))
    return Analysis(f, platforms, laws, orgs, labels, concept, laws_title, [o for o in orgs if o in child_protection])
