"""Spikes: relevant items in the last window against the same window over the baseline.

Pure. For every topic, and every (topic, platform) pair, the count of relevant items
published in the last ``spike_window_hours`` is compared with the counts in each of the
previous windows of the same length across ``baseline_days`` (28 days of 6-hour
windows: 112 samples; the current window is not one of them). A spike is a count of
at least ``spike_min_count`` above mean + ``spike_sigma`` x standard deviation, and is
stated with its baseline in words: "Snapchat + sextortion: 14 items in 6 h; usual
2.1 +/- 1.3". Windows before monitoring began are not samples (they would read as
zeros and make every series look like a spike on a new installation); with fewer than
:data:`MIN_BASELINE_FRACTION` of the baseline available, no spike is called.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean, pstdev
from typing import Mapping, Sequence

from monitor.config import AlertsConfig
from monitor.digest.names import platform_name, topic_name

MIN_BASELINE_FRACTION = 0.25  # a quarter of the baseline (7 of 28 days) before spikes are called
MIN_BASELINE_WINDOWS = 4

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Series:
    """A topic, or a (topic, platform) pair."""

    topic: str
    platform: str | None = None

    @property
    def key(self) -> str:
        """As stored in ``alerts.series``: ``sextortion`` or ``sextortion+snapchat``."""
        return self.topic if self.platform is None else f"{self.topic}+{self.platform}"

    @classmethod
    def from_key(cls, key: str) -> "Series":
        topic, _, platform = key.partition("+")
        return cls(topic, platform or None)

    @property
    def name(self) -> str:
        """``Snapchat + sextortion`` or ``Sextortion``."""
        if self.platform is None:
            return topic_name(self.topic)
        return f"{platform_name(self.platform)} + {topic_name(self.topic).lower()}"


@dataclass(frozen=True)
class Spike:
    """One series above its threshold, with the figures that say so."""

    series: Series
    count: int
    mean: float
    sd: float
    samples: int  # baseline windows
    threshold: float
    window_hours: float
    sigma: float
    min_count: int

    @property
    def sentence(self) -> str:
        """``Snapchat + sextortion: 14 items in 6 h; usual 2.1 +/- 1.3``."""
        return (f"{self.series.name}: {self.count} item{'s' if self.count != 1 else ''} in {self.window_hours:g} h;"
                f" usual {self.mean:.1f} +/- {self.sd:.1f}")

    def baseline_words(self) -> str:
        """How the baseline was measured, for the alert's reader."""
        days = self.samples * self.window_hours / 24
        return (f"Usual = the mean and standard deviation of the same {self.window_hours:g}-hour window over the"
                f" previous {days:g} days ({self.samples} windows); an alert needs at least mean +"
                f" {self.sigma:g} x SD = {self.threshold:.1f}, and at least {self.min_count} items.")

    def detail(self) -> dict[str, object]:
        return {"count": self.count, "mean": round(self.mean, 3), "sd": round(self.sd, 3), "samples": self.samples,
                "threshold": round(self.threshold, 3), "window_hours": self.window_hours}


def windows(now: datetime, window_hours: float, baseline_days: float) -> list[Span]:
    """``[current, previous, ...]``: half-open spans ending at ``now``, newest first; the
    first is the current window, the rest the baseline."""
    width = timedelta(hours=window_hours)
    count = int(baseline_days * 24 // window_hours)
    return [(now - (k + 1) * width, now - k * width) for k in range(count + 1)]


def usable_samples(spans: Sequence[Span], history_start: datetime | None) -> int:
    """How many baseline windows (after the current one) began after monitoring began."""
    if history_start is None:
        return 0
    return sum(1 for start, _end in spans[1:] if start >= history_start)


def needed_samples(spans: Sequence[Span]) -> int:
    """Baseline windows needed before spikes are called."""
    return max(MIN_BASELINE_WINDOWS, math.ceil(MIN_BASELINE_FRACTION * (len(spans) - 1)))


def enough_history(samples: int, spans: Sequence[Span]) -> bool:
    return samples >= needed_samples(spans)


def detect(counts: Mapping[Series, Mapping[int, int]], samples: int, config: AlertsConfig) -> list[Spike]:
    """Spikes among ``counts[series][window index]`` (0 = current; missing = 0), using the
    first ``samples`` baseline windows (1..samples). Strongest first."""
    spikes = []
    for series, by_window in counts.items():
        current = by_window.get(0, 0)
        if current < config.spike_min_count or samples < 1:
            continue
        baseline = [by_window.get(k, 0) for k in range(1, samples + 1)]
        mean = fmean(baseline)
        sd = pstdev(baseline, mean)
        threshold = mean + config.spike_sigma * sd
        if current > threshold:
            spikes.append(Spike(series, current, mean, sd, samples, threshold, config.spike_window_hours,
                                config.spike_sigma, config.spike_min_count))
    # strongest first; of equal ones, the more specific (platform + topic) first
    spikes.sort(key=lambda s: (-(s.count - s.mean) / (s.sd or 1.0), s.series.platform is None, s.series.key))
    return spikes


def in_cooldown(last_alert_at: datetime | None, now: datetime, cooldown_hours: float) -> bool:
    """True while the series' last spike alert is younger than the cooldown."""
    return last_alert_at is not None and now - last_alert_at < timedelta(hours=cooldown_hours)
