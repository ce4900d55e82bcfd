"""The digest's chart as PNG bytes, drawn by matplotlib's Agg backend (no display needed).

matplotlib is imported here, inside the function, so nothing else pays its start-up
cost. Series come from :class:`monitor.digest.build.ChartData`; an empty chart is never
drawn (the digest says so in words instead).
"""

from __future__ import annotations

import io

from monitor.digest.build import ChartData
from monitor.digest.render import TOPIC_COLOURS_BY_NAME

WIDTH_IN, HEIGHT_IN, DPI = 6.24, 3.1, 150  # 936 x 435 pixels, shown at 624 wide: sharp on phones
OTHER_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]


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
        axes.bar(x, chart.totals, color="#d9dee6", width=0.8, label="All relevant items", zorder=1)
    for index, (name, values) in enumerate(chart.series):
        colour = TOPIC_COLOURS_BY_NAME.get(name) or OTHER_COLOURS[index % len(OTHER_COLOURS)]
        axes.plot(x, values, color=colour, linewidth=1.8, marker="o", markersize=2.5, label=name, zorder=2)
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
    axes.legend(fontsize=8.5, frameon=False, ncols=4, loc="lower left", bbox_to_anchor=(0, 1.0),
                handlelength=1.4, columnspacing=1.0, borderaxespad=0.2)
    figure.tight_layout(pad=0.6)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
