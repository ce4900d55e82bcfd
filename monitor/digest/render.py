"""The digest model -> an HTML email and its plain-text twin, through Jinja2 templates.

The HTML environment autoescapes everything (Jinja2's default is off): a title full
of ``<script>`` arrives as text. The only markup inserted unescaped is a story's
summary, which :func:`monitor.digest.build.summary_of` has already passed through
the allow-list sanitiser, and it is sanitised once more here. The HTML is built for
email clients: tables and inline styles, no scripts, no remote resources; the chart
is referenced as ``chart_src`` (``cid:...`` in the email, a file name in the archive).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from monitor.digest.build import Digest, plural
from monitor.digest.names import TOPICS
from monitor.sources.normalise import safe_html

# Okabe-Ito colours: told apart by readers with colour-blindness; the chart uses the same.
TOPIC_COLOURS = {
    "grooming": "#D55E00",
    "grooming_gangs": "#CC79A7",
    "sextortion": "#0072B2",
    "csam": "#E69F00",
    "child_online_safety": "#009E73",
    "legislation": "#56B4E9",
}
TOPIC_COLOURS_BY_NAME = {TOPICS[k]: v for k, v in TOPIC_COLOURS.items()}
OTHER_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
BAR_COLOUR = "#d9dee6"


def series_colours(chart: Any) -> list[tuple[str, str]]:
    """(name, colour) of each line of ``chart``: the chart draws them, the HTML legend names them."""
    return [(name, TOPIC_COLOURS_BY_NAME.get(name) or OTHER_COLOURS[index % len(OTHER_COLOURS)])
            for index, (name, _values) in enumerate(chart.series)]


def pct(value: float | None) -> str:
    return "–" if value is None else f"{round(100 * value)}%"


def points(value: float | None) -> str:
    """Change in percentage points, with its direction: ``+4 pts``, ``-2 pts``, ``no change``."""
    if value is None:
        return "–"
    rounded = round(value)
    if rounded == 0:
        return "no change"
    return f"{'+' if rounded > 0 else '−'}{abs(rounded)} pts"


def num(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    if digits:
        return f"{value:,.{digits}f}"
    return f"{round(value):,}"


def hhmm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def short_date(day: date | datetime) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def long_date(day: date | datetime) -> str:
    return f"{day:%A} {day.day} {day:%B} {day.year}"


ZONE_LABELS = {"Europe/London": "UK time"}


def zone_label(name: str) -> str:
    return ZONE_LABELS.get(name, name)


def _environment(autoescape: bool) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.digest", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests, not silently
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=pct, points=points, num=num, hhmm=hhmm, short_date=short_date, long_date=long_date,
                       zone=zone_label)
    env.globals.update(plural=plural, topic_colours=TOPIC_COLOURS, topic_colours_by_name=TOPIC_COLOURS_BY_NAME,
                       series_colours=series_colours, bar_colour=BAR_COLOUR)
    if autoescape:
        from markupsafe import Markup

        def sanitised(html: str) -> Markup:
            # nh3 emits bare <p> tags (no attribute is allowed on them), so adding our
            # own spacing afterwards cannot reopen anything it removed
            return Markup(safe_html(html).replace("<p>", '<p style="margin:0 0 6px 0;">'))

        env.filters["sanitised"] = sanitised
    return env


@lru_cache(maxsize=2)
def environment(autoescape: bool) -> Any:
    return _environment(autoescape)


def render_html(digest: Digest, chart_src: str | None) -> str:
    """The HTML email. ``chart_src`` is where the chart image is (None: no chart)."""
    return environment(True).get_template("digest.html.j2").render(d=digest, chart_src=chart_src)


def render_text(digest: Digest, chart_note: str | None = None) -> str:
    """The plain-text part: reads on its own, on a phone, with links on their own lines."""
    text = environment(False).get_template("digest.txt.j2").render(d=digest, chart_note=chart_note)
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:  # at most one blank line in a row
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"
