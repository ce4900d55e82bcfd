"""Source health alerts: one alert when a source goes wrong, one line when it recovers. Pure.

What counts as wrong is the digest's own judgement (:func:`monitor.digest.build.source_problems`:
gone, failing, or silent for longer than ``[digest] silent_multiple`` times its usual gap
and at least ``silent_min_hours``), with one more condition for alerts: a failing source
must have been failing for ``[alerts] failing_hours`` (one failed poll is not news). An
*episode* runs from the alert to the recovery; while it is open nothing more is sent
for that source, whatever its problem turns into (failing, then gone, is one episode).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from monitor.digest.build import SourceProblem, duration_words

PROBLEM_STATES = ("failing", "gone", "silent")
WORDS = {"failing": "failing", "gone": "being gone (HTTP 410)", "silent": "being silent"}


@dataclass(frozen=True)
class Episode:
    """A source's health alert that has not been followed by a recovery."""

    source_id: str
    name: str
    state: str
    since: datetime | None
    opened_at: datetime


@dataclass(frozen=True)
class HealthChange:
    """A health alert to record: a problem (``state`` failing/gone/silent) or a recovery."""

    source_id: str
    name: str
    state: str  # failing | gone | silent | recovered
    since: datetime | None  # when the problem began
    title: str  # one line, our own words
    lines: tuple[str, ...]  # what the team should know, in full sentences

    @property
    def key(self) -> str:
        """Unique per episode: the source and when its problem began (or was alerted)."""
        stamp = self.since.strftime("%Y-%m-%dT%H:%M:%SZ") if self.since else "unknown"
        return f"{self.source_id}@{stamp}" + ("/recovered" if self.state == "recovered" else "")


def alertable(problems: Iterable[SourceProblem], now: datetime, failing_hours: float) -> dict[str, SourceProblem]:
    """The digest's source problems that warrant an alert, by source id."""
    found = {}
    for problem in problems:
        if problem.state == "failing":
            if problem.since is None or now - problem.since < timedelta(hours=failing_hours):
                continue
        found[problem.source_id] = problem
    return found


def changes(problems: Mapping[str, SourceProblem], episodes: Mapping[str, Episode], active: Iterable[str],
            now: datetime) -> list[HealthChange]:
    """New problems (no open episode) and recoveries (an open episode, no problem now)."""
    active_ids = set(active)
    result = []
    for source_id, problem in sorted(problems.items()):
        if source_id in episodes:
            continue
        result.append(_problem(problem, now))
    for source_id, episode in sorted(episodes.items()):
        if source_id in problems:
            continue
        result.append(_recovery(episode, now, removed=source_id not in active_ids))
    return result


def _problem(problem: SourceProblem, now: datetime) -> HealthChange:
    name = problem.name
    if problem.state == "failing":
        length = f" for {duration_words(now - problem.since)}" if problem.since else ""
        title = f"Source failing{length}: {name}"
    elif problem.state == "gone":
        title = f"Source gone: {name} no longer exists (HTTP 410)"
    else:
        title = f"Source silent: {name}"
    lines = [problem.summary] + ([f"Last error: {problem.detail}"] if problem.detail else [])
    return HealthChange(problem.source_id, name, problem.state, problem.since, title, tuple(lines))


def _recovery(episode: Episode, now: datetime, *, removed: bool) -> HealthChange:
    began = episode.since or episode.opened_at
    length = duration_words(max(now - began, timedelta(0)))
    if removed:
        title = f"Source no longer monitored: {episode.name}"
        line = f"It was removed from the configuration after {WORDS.get(episode.state, episode.state)} for {length}."
    else:
        title = f"Source back to normal: {episode.name}"
        line = f"Recovered after {WORDS.get(episode.state, episode.state)} for {length}."
    return HealthChange(episode.source_id, episode.name, "recovered", episode.since or episode.opened_at, title,
                        (line,))
