"""Priority rules over the newer sources: a Hansard contribution, a Mastodon status and a
Bluesky post, served by the fake APIs on 127.0.0.1 (monitor.demo), each raise a rule
alert through a real SMTP server that names who said it. The speeches, posts, people,
places and accounts below are invented for this test."""

from __future__ import annotations

from datetime import datetime, timezone

from monitor.app import open_monitor
from tests.alerts.conftest import Clock
from tests.helpers import rows

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=timezone.utc)
RULE = {"name": "Sextortion", "topics": ["sextortion"]}

SPEECH = {
    "MemberName": "Rowena Ashdown", "MemberId": 80911,
    "AttributedTo": "Rowena Ashdown (Kettleby North) (LD)",
    "ItemId": 70009911, "ContributionExtId": "5EC0DE00-AAAA-4BBB-8CCC-000000000911",
    "ContributionText": "Sextortion gangs are blackmailing teenage boys in my constituency.",
    "ContributionTextFull": "Sextortion gangs are blackmailing teenage boys in my constituency. A 15-year-old was"
                            " coerced into sending intimate images and then told to pay or see them shared with his"
                            " school. Will the Minister require every platform to warn children about sextortion?",
    "HRSTag": "hs_Para", "HansardSection": None, "Timecode": None,
    "DebateSection": "Sextortion: Support for Young Victims", "DebateSectionId": 7009911,
    "DebateSectionExtId": "0AE5C0DE-9911-4A2B-9C3D-5E6F7A8B9C91",
    "SittingDate": "2026-03-11T00:00:00", "Section": "Westminster Hall", "House": "Commons",
    "OrderInDebateSection": 3, "DebateSectionOrder": 1, "Rank": 90,
}

STATUS = {
    "id": "0", "created_at": "2026-03-12T08:20:00.000Z", "in_reply_to_id": None, "in_reply_to_account_id": None,
    "sensitive": False, "spoiler_text": "", "visibility": "public", "language": "en",
    "uri": "https://kettleby.example/users/kettlebyyouth/statuses/109000000000009911",
    "url": "https://kettleby.example/@kettlebyyouth/109000000000009911",
    "replies_count": 0, "reblogs_count": 3, "favourites_count": 7, "edited_at": None,
    "content": "<p>Our youth workers are seeing a wave of sextortion: strangers posing as girls on Instagram trick"
               " boys into sharing nude photos, then demand money within minutes. Tell your teenager it is not"
               " their fault and they should not pay. <a href=\"https://kettleby.example/tags/OnlineSafety\""
               " class=\"mention hashtag\" rel=\"tag\">#<span>OnlineSafety</span></a></p>",
    "reblog": None,
    "account": {"id": "11", "username": "kettlebyyouth", "acct": "kettlebyyouth@kettleby.example",
                "display_name": "Kettleby Youth Service", "locked": False, "bot": False, "discoverable": True,
                "indexable": True, "group": False, "created_at": "2024-02-01T00:00:00.000Z",
                "note": "<p>Invented account for tests.</p>", "url": "https://kettleby.example/@kettlebyyouth",
                "uri": "https://kettleby.example/users/kettlebyyouth", "avatar": "", "followers_count": 10,
                "following_count": 5, "statuses_count": 40, "emojis": [], "fields": []},
    "media_attachments": [], "mentions": [],
    "tags": [{"name": "onlinesafety", "url": "https://kettleby.example/tags/onlinesafety"}],
    "emojis": [], "card": None, "poll": None,
}

POST = {
    "uri": "at://did:plc:oursinventedsext0000001/app.bsky.feed.post/3ourssext0001",
    "cid": "bafyoursinvented3ourssext0001",
    "author": {"did": "did:plc:oursinventedsext0000001", "handle": "ashvale-helpline.ours.test",
               "displayName": "Ashvale Helpline", "labels": [], "createdAt": "2024-05-01T00:00:00.000Z"},
    "record": {"$type": "app.bsky.feed.post", "createdAt": "2026-03-12T08:40:00.000Z", "langs": ["en"],
               "text": "Calls to our helpline about sextortion on Snapchat have doubled: a child is threatened"
                       " with the release of intimate images unless they pay. Report it and keep the messages."},
    "replyCount": 0, "repostCount": 4, "likeCount": 9, "quoteCount": 0, "indexedAt": "2026-03-12T08:40:01.000Z",
    "labels": [],
}


def test_a_speech_a_status_and_a_post_each_raise_a_rule_alert_naming_who_said_it(
        hansard_api, mastodon_instances, bluesky_api, smtp_server, make_config, tmp_path):
    hansard_api.add(SPEECH)
    instance, _other = mastodon_instances
    instance.add_status(STATUS)
    bluesky_api.add_post(POST)
    config = make_config(
        hansard={"api_url": hansard_api.base_url, "searches": [{"query": "sextortion"}]},
        mastodon={"hashtags": [{"instance": instance.base_url, "tag": "OnlineSafety"}]},
        bluesky={"api_url": bluesky_api.base_url, "searches": [{"query": "sextortion"}]},
        email=smtp_server.email_config(), digest={"timezone": "Europe/London", "archive_dir": str(tmp_path / "a")},
        alerts={"rules": [RULE], "spikes": False, "source_health": False})
    clock = Clock(NOW)
    with open_monitor(config, clock=clock) as monitor:
        report = monitor.collect()
        assert report.new == 3 and report.count("ok") == 3, report.notes
        assert report.notes[-1] == "Alerts: 3 new (3 from priority rules); 3 sent in 1 message by email"
        alerts = rows(monitor, "SELECT a.title, a.status, i.media FROM alerts AS a"
                               " JOIN items AS i ON i.id = json_extract(a.items, '$[0]') ORDER BY i.media")
        clock.advance(minutes=30)
        assert monitor.collect(force=True).notes[-1] == "Alerts: none new"  # each alerted once
    assert alerts == [{"title": 'Priority rule "Sextortion": new story', "status": "sent", "media": media}
                      for media in ("parliament", "social", "social")]
    (message,) = smtp_server.received
    text = message.message.get_body(("plain",)).get_content()
    # Hansard: the debate as the headline, the member and party as who said it, once
    assert "Sextortion: Support for Young Victims" in text
    assert "   Rowena Ashdown (LD), " in text and text.count("Rowena Ashdown") == 1
    assert ("https://hansard.parliament.uk/Commons/2026-03-11/debates/0AE5C0DE-9911-4A2B-9C3D-5E6F7A8B9C91/"
            "SextortionSupportforYoungVictims#contribution-5EC0DE00-AAAA-4BBB-8CCC-000000000911") in text
    # Mastodon: the instance the status came from, and the status's own link
    assert "   Mastodon (kettleby.example), " in text
    assert "https://kettleby.example/@kettlebyyouth/109000000000009911" in text
    # Bluesky: the network and the post's link on bsky.app
    assert "   Bluesky, " in text
    assert "https://bsky.app/profile/did:plc:oursinventedsext0000001/post/3ourssext0001" in text
    assert text.count('Matched rule "Sextortion": topic Sextortion.') == 3
