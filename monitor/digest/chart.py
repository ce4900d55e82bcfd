"""The digest's chart as PNG bytes, drawn by matplotlib's Agg backend (no display needed).

matplotlib is imported here, inside the function, so nothing else pays its start-up
cost. Series come from :class:`monitor.digest.build.ChartData`; their colours from
:func:`monitor.digest.render.series_colours`, which the HTML legend uses too (the
legend is text next to the image: cheaper to draw, and readable by screen readers).
An empty chart is never drawn: the digest says so in words instead.
"""

from __future__ import annotations

import io

from monitor.digest.build import ChartData
from monitor.digest.render import BAR_COLOUR, series_colours

WIDTH_IN, HEIGHT_IN, DPI = 6.24, 2.6, 150  # 936 x 390 pixels, shown 624 wide: sharp on phones


def render_chart(chart: ChartData) -> bytes | None:
    """PNG bytes of ``chart``, or None when it has nothing to show."""
    if chart.empty_reason is not None or not chart.days:
        return None
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure  # a Figure, not pyplot: no global state, thread-safe
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    axes = figure.add_subplot()
    x = list(range(len(chart.days)))
    if chart.totals is not None:
        axes.bar(x, chart.totals, color=BAR_COLOUR, width=0.8, zorder=1)
    for (_name, values), (_same, colour) in zip(chart.series, series_colours(chart)):
        axes.plot(x, values, color=colour, linewidth=1.8, marker="o", markersize=2.5, zorder=2)
    ticks = [i for i in x if (len(x) - 1 - i) % 7 == 0]
    axes.set_xticks(ticks, [f"{chart.days[i].day} {chart.days[i]:%b}" for i in ticks])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.set_xlim(-0.6, len(x) - 0.4)
    axes.set_ylim(bottom=0)
    axes.grid(axis="y", color="#eceff3", linewidth=0.8, zorder=0)
    axes.set_axisbelow(True)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color("#9aa3af")
    axes.tick_params(labelsize=8.5, colors="#4b5563", length=0)
    figure.subplots_adjust(left=0.06, right=0.96, bottom=0.1, top=0.97)  # fixed: tight_layout draws twice
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
