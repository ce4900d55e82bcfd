"""The daily digest: what the campaign team reads every morning.

``days`` (which hours a digest covers, which one is due), ``build`` (pure: query rows
-> the digest model), ``render`` (Jinja2 templates -> HTML and text), ``chart``
(matplotlib -> PNG), ``mail`` (the only module that sends email) and ``delivery``
(archive, record, send at most once). The SQL is in :mod:`monitor.store.digest`.
Importing this package stays cheap: Jinja2 and matplotlib load only when used.
"""

from monitor.digest.days import Window, due_digest_date, end_of_day, latest_complete_day, window

__all__ = ["Window", "due_digest_date", "end_of_day", "latest_complete_day", "window"]
