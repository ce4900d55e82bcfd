"""RSS feeds for the alert tests, written for this project: every outlet, person,
charity and event in them is invented."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape

from monitor.demo.server import LocalServer, static

SEXTORTION = ("Sextortion gang targeted teenage boys on Snapchat, police say",
              "Police in Northshire said a sextortion gang contacted boys aged 14 to 16 on Snapchat, coerced them"
              " into sending intimate images and then demanded money. Officers urged parents to talk to their"
              " children about what to do if it happens.")
DOG_GROOMING = ("Local salon offers dog grooming discounts",
                "A dog grooming salon on the high street offers discounts for poodles and spaniels this month.")


@dataclass(frozen=True)
class Entry:
    title: str
    text: str
    link: str
    published: datetime


def rss(outlet: str, entries: list[Entry]) -> bytes:
    items = "".join(
        f"<item><title>{escape(e.title)}</title><link>{escape(e.link)}</link><guid>{escape(e.link)}</guid>"
        f"<pubDate>{format_datetime(e.published)}</pubDate><description>{escape(e.text)}</description></item>"
        for e in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(outlet)}</title>'
            f"<link>https://{outlet.lower().replace(' ', '')}.example/</link><description>Invented test feed"
            f"</description>{items}</channel></rss>").encode("utf-8")


def serve(server: LocalServer, path: str, outlet: str, entries: list[Entry]) -> str:
    """(Re)serve ``entries`` as ``outlet``'s feed at ``path``; returns its URL."""
    return server.route(path, static(rss(outlet, entries)))
