"""Which campaign topics a relevant item is about, from its rule features.

Multi-label: every topic whose evidence is present is listed, the main one first,
chosen the way the labelling rubric does (an item about a law is ``legislation``
even if it quotes crime figures; a lawsuit against a platform is
``child_online_safety`` even if the harm was grooming).
"""

from __future__ import annotations

from monitor.tagging.features import IN_SCOPE_LAWS, SENSES, Analysis

TOPICS = ("grooming", "grooming_gangs", "sextortion", "csam", "child_online_safety", "legislation")


def topics_for(analysis: Analysis) -> tuple[str, ...]:
    """Topics of a relevant item, main topic first."""
    f = analysis.features
    labels = analysis.labels
    sensed = any(f.get("sense_" + s) for s in SENSES)
    law_named = bool(f.get("law_in_scope") or f.get("dsa_minors"))
    found: set[str] = set()
    if f.get("grooming_gang"):
        found |= {"grooming_gangs", "grooming"}
    if f.get("groom_abuse") or (f.get("groom_child") and not sensed):
        found.add("grooming")
    if f.get("grooming_cue") and (f.get("child_sexual_abuse") or f.get("predator")):
        found.add("grooming")
    if labels.get("_sextortion"):
        found.add("sextortion")
    if f.get("csam"):
        found.add("csam")
    if law_named or f.get("law_child"):
        found.add("legislation")
    platform_harm = labels.get("_platform_any") and (f.get("predator") or f.get("child_sexual_abuse"))
    if f.get("child_legal") or f.get("child_safety") or platform_harm:
        found.add("child_online_safety")
    platform_legal = bool(f.get("child_legal") and labels.get("_platform_any"))

    order: list[str] = []
    if law_named:
        order.append("legislation")
    if platform_legal:
        order.append("child_online_safety")
    for topic in ("sextortion", "csam", "grooming"):
        if topic in found:
            order.append(topic)
    if "legislation" in found:
        order.append("legislation")
    order.append("child_online_safety")  # the catch-all for relevant items
    main = order[0]
    rest = [t for t in TOPICS if t in found and t != main]
    return (main, *rest)


def in_scope_laws() -> tuple[str, ...]:
    return IN_SCOPE_LAWS
