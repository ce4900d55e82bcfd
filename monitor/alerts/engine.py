"""One alert check: rules over newly stored items, spikes, source health; then delivery.

``run_alerts`` is what ``Monitor.run_alerts`` (and so every collection cycle) calls.
Each kind of alert is decided and recorded inside one write transaction
(``BEGIN IMMEDIATE``), so two processes checking at once (the service and a
``monitor collect`` typed by hand) never record the same alert twice; unique keys
make a repeated check a no-op:

- a rule alert is unique per story (cluster id, else item id) and channel, and every
  item it covers is remembered, so no item or copy is ever alerted again;
- a spike is not recorded while its series is within the cooldown of its last alert;
- a source's health alert opens an episode that only a recovery closes.

Rules look at items collected since the last check, with an hour's overlap for
batches committed late (re-checking an item is harmless: its story is already
recorded or did not match); the first check ever (or the first after more than a
day without one: rules switched off and on again) looks back one hour, so switching
alerts on never alerts the history (``monitor alerts test`` shows that instead).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Mapping

from monitor.alerts import health as _health
from monitor.alerts import rules as _rules
from monitor.alerts import spikes as _spikes
from monitor.alerts.deliver import DeliveryReport, deliver
from monitor.config import AlertRuleConfig, AlertsConfig, Config
from monitor.errors import AlertError
from monitor.store import Store
from monitor.store import alerts as _sql
from monitor.store.db import write
from monitor.store.tags import get_setting, set_setting
from monitor.types import from_iso, to_iso

log = logging.getLogger(__name__)

CHECKED_KEY = "alerts_rules_checked_at"
OVERLAP = timedelta(hours=1)
FORGOTTEN = timedelta(days=1)  # a last check older than this is from before rules were switched off
HEALTH_HISTORY = timedelta(days=28)  # the span a source's usual rhythm is read from, as in the digest


@dataclass(frozen=True)
class NewAlert:
    id: int
    kind: str
    channel: str
    title: str


@dataclass
class AlertReport:
    """What one check did: alerts recorded, and what delivery made of everything due."""

    checked_at: datetime
    created: list[NewAlert] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    notes: list[str] = field(default_factory=list)  # e.g. too little history for spikes

    def count(self, kind: str) -> int:
        return sum(1 for a in self.created if a.kind == kind)

    def summary(self) -> str:
        """One line for ``monitor collect``, e.g. ``Alerts: 2 new (1 from priority rules, 1 spike); 2 sent in 1
        message by email``."""
        names = (("rule", "from priority rules"), ("spike", "spike"), ("health", "on source health"))
        kinds = [f"{self.count(k)} {name}{'s' if name == 'spike' and self.count(k) != 1 else ''}"
                 for k, name in names if self.count(k)]
        line = f"Alerts: {len(self.created)} new ({', '.join(kinds)})" if self.created else "Alerts: none new"
        d = self.delivery
        if d.sent:
            by = sorted({channel for channel, _n in d.messages})
            line += (f"; {len(d.sent)} sent in {len(d.messages)} message{'s' if len(d.messages) != 1 else ''}"
                     f" by {' and '.join(by)}")
        if d.held:
            line += f"; {d.held} held for quiet hours until {d.held_until:%Y-%m-%d %H:%M} UTC"
        if d.busy:
            line += f"; {d.busy} being sent by another process"
        for failure in d.failures:
            line += f"; NOT SENT ({failure}), retried next cycle"
        for note in self.notes:
            line += f"; {note}"
        return line


def configured(config: Config) -> AlertsConfig:
    """``[alerts]``, or an AlertError saying how to switch alerts on."""
    if config.alerts is None:
        raise AlertError("alerts are not configured: add an [alerts] table to the configuration")
    return config.alerts


def run_alerts(store: Store, config: Config, now: datetime, *, secret: Callable[[str], str | None],
               clock: Callable[[], datetime] | None = None, send: bool = True,
               unavailable: Mapping[str, str] | None = None) -> AlertReport:
    """Check rules, spikes and source health, record new alerts, and (with ``send``)
    deliver everything due. ``unavailable``: why sources of a kind cannot be collected
    now (missing credentials), said in a never-collected source's alert. Raises
    AlertError when ``[alerts]`` is not configured."""
    alerts = configured(config)
    report = AlertReport(now)
    check_rules(store, alerts, now, report)
    if alerts.spikes:
        check_spikes(store, alerts, now, report)
    if alerts.source_health:
        check_health(store, config, now, report, unavailable)
    if send:
        report.delivery = deliver(store, config, now, secret=secret, clock=clock)
    return report


# --- priority rules -------------------------------------------------------------------------


def _query_hits(store: Store, rules: tuple[AlertRuleConfig, ...], item_ids: list[str], report: AlertReport
                ) -> dict[str, frozenset[str]]:
    hits: dict[str, frozenset[str]] = {}
    with_query = [rule for rule in rules if rule.query.strip()]
    if not with_query or not item_ids:
        return hits
    if not _sql.has_search_index(store.db):
        names = ", ".join(repr(rule.name) for rule in with_query)
        note = f"rule(s) {names} need the full-text index (items_fts), which this database lacks; not matched"
        log.error("alerts: %s", note)
        report.notes.append(note)
        return hits
    for rule in with_query:
        hits[rule.name] = _sql.query_hits(store.db, rule.query, item_ids)
    return hits


def rule_title(match: _rules.StoryMatch, outlets: int) -> str:
    names = ", ".join(f'"{name}"' for name in match.rules)
    label = "Priority rule" if len(match.rules) == 1 else "Priority rules"
    return f"{label} {names}: new story" + (f" carried by {outlets} outlets" if outlets > 1 else "")


def check_rules(store: Store, alerts: AlertsConfig, now: datetime, report: AlertReport) -> None:
    """Alert every story that a rule matches among the items stored since the last check."""
    if not alerts.rules:
        return
    db = store.db
    by_name = {rule.name: rule for rule in alerts.rules}
    with write(db):
        last = from_iso(get_setting(db, CHECKED_KEY))
        if last is None or now - last > FORGOTTEN:  # first check, or rules switched back on: no history
            since = now - OVERLAP
        else:
            since = min(last, now) - OVERLAP
        items = _sql.candidates(db, collected_since=to_iso(since))
        hits = _query_hits(store, alerts.rules, [item.id for item in items], report)
        for match in _rules.match_stories(alerts.rules, items, hits):
            if match.story in _sql.alerted_stories(db, match.channel, [match.story]):
                continue
            done = _sql.alerted_items(db, match.channel, match.items)
            fresh = [item_id for item_id in match.items if item_id not in done]
            if not fresh:
                continue
            copies = _sql.story_copies(db, [match.story]).get(match.story) or list(match.items)
            outlets = _outlets(store, copies)
            why = [f'Matched rule "{name}": {_rules.describe(by_name[name])}.' for name in match.rules]
            title = rule_title(match, outlets)
            alert_id = _sql.insert_alert(
                db, kind="rule", key=match.story, channel=match.channel, title=title, created_at=now,
                rule=", ".join(match.rules), detail={"why": why, "rules": list(match.rules), "story": match.story},
                items=[fresh[0]], covers=[*match.items, *copies])
            if alert_id is not None:
                report.created.append(NewAlert(alert_id, "rule", match.channel, title))
        set_setting(db, CHECKED_KEY, to_iso(now), now)


def _outlets(store: Store, item_ids: list[str]) -> int:
    """How many outlets carry the story of these items, counted as the alert will show them."""
    from monitor.alerts.compose import story_lines

    rows, _titles = _sql.item_rows(store.db, item_ids[:1])
    return max([line.outlets for line in story_lines(rows, "UTC")], default=1)


# --- spikes ---------------------------------------------------------------------------------


def check_spikes(store: Store, alerts: AlertsConfig, now: datetime, report: AlertReport) -> None:
    """Record a spike alert for every series above its baseline and out of its cooldown."""
    db = store.db
    spans = _spikes.windows(now, alerts.spike_window_hours, alerts.baseline_days)
    started = _sql.monitoring_started(db)
    samples = _spikes.usable_samples(spans, started)
    if not _spikes.enough_history(samples, spans):  # a new installation: empty windows would make spikes
        need = math.ceil(_spikes.needed_samples(spans) * alerts.spike_window_hours / 24)
        have = max(0, int((now - started).total_seconds() // 86400)) if started else 0
        report.notes.append(f"spikes wait for {need} days of history ({have} so far)")
        return
    width = round(alerts.spike_window_hours * 3600)
    counts = _sql.series_counts(db, now, width, len(spans))
    found = _spikes.detect({_spikes.Series(t, p): c for (t, p), c in counts.items()}, samples, alerts)
    current = (to_iso(spans[0][0]), to_iso(spans[0][1]))
    for spike in found:
        key = spike.series.key
        with write(db):
            if _spikes.in_cooldown(_sql.last_spike_at(db, key), now, alerts.cooldown_hours):
                continue
            rows = _sql.series_items(db, current, spike.series.topic, spike.series.platform)  # type: ignore[arg-type]
            leads: dict[str, str] = {}
            for item_id, story in rows:
                leads.setdefault(story, item_id)
            stories = len(leads)
            title = "Spike: " + spike.sentence
            if stories != spike.count:  # copies of one story: say how many stories there are
                title += f" ({stories} stor{'ies' if stories != 1 else 'y'})"
            alert_id = _sql.insert_alert(
                db, kind="spike", key=f"{key}@{to_iso(now)}", channel=alerts.channel, title=title, created_at=now,
                series=key, detail={**spike.detail(), "why": [spike.baseline_words()]},
                items=list(leads.values()), covers=[item_id for item_id, _story in rows])
            if alert_id is not None:
                report.created.append(NewAlert(alert_id, "spike", alerts.channel, title))


# --- source health --------------------------------------------------------------------------


def check_health(store: Store, config: Config, now: datetime, report: AlertReport,
                 unavailable: Mapping[str, str] | None = None) -> None:
    """One alert when a source fails for ``failing_hours``, goes (410), is never
    collected or falls silent; one when it recovers."""
    from monitor.digest.build import source_problems
    from monitor.store.digest import source_rows

    alerts = config.alerts
    assert alerts is not None
    db = store.db
    rows = source_rows(db, (to_iso(now - HEALTH_HISTORY), to_iso(now)))  # type: ignore[arg-type]
    problems = _health.alertable(source_problems(rows, now, config.digest, unavailable), now,
                                  alerts.failing_hours)
    with write(db):
        episodes = _sql.open_episodes(db)
        for change in _health.changes(problems, episodes, [row.id for row in rows], now):
            alert_id = _sql.insert_alert(
                db, kind="health", key=change.key, channel=alerts.channel, title=change.title, created_at=now,
                source_id=change.source_id, state=change.state,
                detail={"why": list(change.lines), "name": change.name, "since": to_iso(change.since)})
            if alert_id is not None:
                report.created.append(NewAlert(alert_id, "health", alerts.channel, change.title))


# --- dry run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DryRunAlert:
    """What a rule would have sent for one story."""

    story: str
    subject: str
    text: str
    already_alerted: bool  # an alert was in fact sent (or is pending) for this story


@dataclass(frozen=True)
class DryRun:
    rule: AlertRuleConfig
    description: str
    since: datetime
    until: datetime
    items_checked: int
    alerts: tuple[DryRunAlert, ...]
    note: str | None = None


def dry_run(store: Store, config: Config, name: str, days: float, now: datetime) -> DryRun:
    """What rule ``name`` would have alerted over the last ``days`` days, story by story,
    with the text of each alert. Reads only; nothing is recorded or sent."""
    from monitor.alerts.compose import STORIES_SHOWN, AlertView, compose, story_lines
    from monitor.digest.days import zone

    alerts = config.alerts
    rules = alerts.rules if alerts is not None else ()
    rule = _rules.find_rule(rules, name)
    if rule is None:
        known = ", ".join(repr(r.name) for r in rules) or "none configured ([[alerts.rules]] in the configuration)"
        raise AlertError(f"no alert rule named {name!r} (rules: {known})")
    since = now - timedelta(days=days)
    db = store.db
    items = _sql.candidates(db, published=(to_iso(since), to_iso(now)))  # type: ignore[arg-type]
    probe = AlertReport(now)
    hits = _query_hits(store, (rule,), [item.id for item in items], probe)
    matches = _rules.match_stories((rule,), items, hits)
    tz = config.digest.timezone
    results = []
    for match in matches:
        copies = _sql.story_copies(db, [match.story]).get(match.story) or list(match.items)
        title = rule_title(match, _outlets(store, copies))
        rows, titles = _sql.item_rows(db, [match.items[0]])
        stories = story_lines(rows, tz, titles)
        first = min((row.published_at for row in rows if row.id in match.items), default=now)
        view = AlertView(0, "rule", title, (f'Matched rule "{rule.name}": {_rules.describe(rule)}.',),
                         tuple(stories[:STORIES_SHOWN]), 0, first.astimezone(zone(tz)))
        message = compose([view], tz, first)
        done = bool(_sql.alerted_stories(db, rule.channel, [match.story]))
        results.append(DryRunAlert(match.story, message.subject, message.text, done))
    return DryRun(rule, _rules.describe(rule), since, now, len(items), tuple(results),
                  probe.notes[0] if probe.notes else None)
