"""The daily digest: what the campaign team reads every morning.

``days`` (which hours a digest covers, which one is due), ``build`` (pure: query rows
-> the digest model), ``render`` (Jinja2 templates -> HTML and text), ``chart``
(matplotlib -> PNG), ``mail`` (the only module that sends email) and ``delivery``
(archive, record, send at most once). The SQL is in :mod:`monitor.store.digest`.
Importing this package stays cheap: nothing is loaded until it is used, so the CLI can
read ``names`` (display names) without the configuration, Jinja2 or matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.digest.days import Window, due_digest_date, end_of_day, latest_complete_day, window

__all__ = ["Window", "due_digest_date", "end_of_day", "latest_complete_day", "window"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from monitor.digest import days

        return getattr(days, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
