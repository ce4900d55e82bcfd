"""Which campaign topics a relevant item is about, from its rule features.

Multi-label: every topic whose evidence is present is listed, the main one first,
chosen the way the labelling rubric does (an item about a law is ``legislation``
even if it quotes crime figures; a lawsuit against a platform is
``child_online_safety`` even if the harm was grooming).
"""

from __future__ import annotations

from monitor.tagging.features import SENSES, Analysis

TOPICS = ("grooming", "grooming_gangs", "sextortion", "csam", "child_online_safety", "legislation")


def topics_for(analysis: Analysis) -> tuple[str, ...]:
    """Topics of a relevant item, main topic first."""
    f = analysis.features
    labels = analysis.labels
    sensed = any(f.get("sense_" + s) for s in SENSES)
    law_named = bool(f.get("law_in_scope") or f.get("dsa_minors"))
    abuse = bool(f.get("child_abuse") or f.get("child_sexual"))
    platform = bool(labels.get("_platform_any"))
    found: set[str] = set()
    if f.get("grooming_gang"):
        found |= {"grooming_gangs", "grooming"}
    if f.get("groom_abuse") or f.get("groom_crime_child") or (f.get("groom_child") and not sensed):
        found.add("grooming")
    if abuse and (f.get("grooming_cue") or f.get("crime_child") or labels.get("_crime")):
        found.add("grooming")  # an individual case: an offender, a child, the police or a court
    if labels.get("_sextortion"):
        found.add("sextortion")
    if f.get("csam"):
        found.add("csam")
    if law_named or f.get("law_child"):
        found.add("legislation")
    if (
        f.get("child_legal")
        or f.get("child_safety")
        or f.get("child_contact")
        or (platform and (f.get("predator") or abuse))
    ):
        found.add("child_online_safety")
    platform_legal = bool(f.get("child_legal") and platform)

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
    if abuse and not platform:
        order.append("grooming")
    order.append("child_online_safety")  # the catch-all for relevant items
    main = order[0]
    found.add(main)
    rest = [t for t in TOPICS if t in found and t != main]
    return (main, *rest)
