"""The alert message: our own words in the subject, everything collected escaped or cleaned."""

from __future__ import annotations

from datetime import datetime, timezone

from monitor.alerts.compose import AlertView, compose, story_lines
from monitor.store.digest import ItemRow

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


def row(item_id: str, title: str, url: str | None, cluster: str | None = None, source: str = "Northshire Gazette",
        minutes: int = 30) -> ItemRow:
    return ItemRow(id=item_id, media="news", url=url, title=title, text="Invented text.", summary_html="",
                   published_at=NOW.replace(minute=minutes), relevant=True, cluster_id=cluster, popularity=None,
                   comments=None, extra={}, source_name=source, source_kind="feed", feed_name=source)


def test_hostile_titles_and_links_cannot_reach_markup_headers_or_chat_mentions():
    hostile = row("a", 'Grooming case <script>alert(1)</script>\r\nBcc: victim@example.org <!here>',
                  "javascript:alert(1)", cluster="c1")
    copy = row("b", "Grooming case copy", "https://echo.example/story", cluster="c1", source="Harbourton Echo",
               minutes=40)
    stories = story_lines([hostile, copy], "Europe/London")
    view = AlertView(7, "rule", 'Priority rule "Grooming": new story carried by 2 outlets',
                     ('Matched rule "Grooming": topic Grooming.',), tuple(stories), 0, NOW)
    message = compose([view], "Europe/London", NOW)
    assert message.subject == 'Alert: Priority rule "Grooming": new story carried by 2 outlets'
    assert "<script" not in message.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert 'href="javascript' not in message.html and 'href="https://echo.example/story"' in message.html
    assert "\r" not in message.text and "Bcc: victim@example.org" in message.text  # one line, as text
    assert "javascript:" not in message.text
    assert "<!here>" not in message.chat and "&lt;!here&gt;" in message.chat
    assert "Harbourton Echo: https://echo.example/story" in message.text


def test_a_long_batch_has_a_short_ascii_subject():
    views = [AlertView(n, "spike", f"Spike: Series number {n} with a long name: 14 items in 6 h; usual 2.0 +/- 0.7",
                       (), (), 0, NOW) for n in range(6)]
    subject = compose(views, "Europe/London", NOW).subject
    assert subject.startswith("6 alerts: Spike: Series number 0") and len(subject) <= 160 and subject.isascii()


def test_a_speech_names_its_member_once():
    speech = ItemRow(id="h1", media="parliament", url="https://hansard.example/debate#c1",
                     title="Helen Marlowe (Lab) — Online Safety Act: Children's Codes", text="Invented speech.",
                     summary_html="", published_at=NOW, relevant=True, cluster_id=None, popularity=None,
                     comments=None, extra={"member": "Helen Marlowe", "party": "Lab",
                                           "attributed_to": "Helen Marlowe (Lab)"},
                     source_name="Hansard: grooming", source_kind="hansard", feed_name=None)
    [story] = story_lines([speech], "Europe/London")
    assert story.outlet == "Helen Marlowe (Lab)"
    assert story.title == "Online Safety Act: Children's Codes"
