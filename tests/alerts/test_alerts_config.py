"""[alerts] and [[alerts.rules]]: defaults, and one clear line per mistake."""

from __future__ import annotations

import pytest

from monitor.config import config_from_dict
from monitor.errors import ConfigError


def problems(alerts: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_from_dict({"alerts": alerts}, "config.toml")
    return caught.value.problems


def test_no_alerts_table_means_no_alerts_and_an_empty_one_means_the_defaults():
    assert config_from_dict({}).alerts is None
    alerts = config_from_dict({"alerts": {}}).alerts
    assert (alerts.spike_sigma, alerts.spike_min_count, alerts.spike_window_hours, alerts.baseline_days,
            alerts.cooldown_hours, alerts.quiet_hours, alerts.channel) == (3.0, 5, 6.0, 28.0, 12.0, "", "email")
    assert alerts.webhook_url_env == "MONITOR_ALERT_WEBHOOK_URL" and alerts.rules == ()
    assert alerts.check_minutes == 5.0  # the service's look for held and failed alerts


def test_a_rule_takes_tag_lists_a_query_and_a_channel():
    rule = config_from_dict({"alerts": {"rules": [{
        "name": "Minister names the charity", "organisations": ["Home Office"], "legislation": ["online_safety_act_uk"],
        "query": '"Safe Harbour Trust" OR charity', "relevant_only": False, "channel": "webhook"}]}}).alerts.rules[0]
    assert rule.conditions == {"legislation": ("online_safety_act_uk",), "organisation": ("Home Office",)}
    assert rule.channel == "webhook" and not rule.relevant_only


@pytest.mark.parametrize("alerts, expected", [
    ({"rules": [{"name": "x", "platforms": ["snap"]}]},
     "config.toml: alerts.rules[0].platforms: unknown platform 'snap' (known platforms: 4chan,"),
    ({"rules": [{"name": "x", "organisations": ["Safe Harbour Trust"]}]},
     "config.toml: alerts.rules[0].organisations: unknown organisation 'Safe Harbour Trust' (the tagger knows only"
     " the organisations in monitor/tagging/patterns/organisations.jsonl; use query for other names)"),
    ({"rules": [{"name": "x", "topics": ["bullying"]}]},
     "config.toml: alerts.rules[0].topics: unknown topic 'bullying' (topics: grooming,"),
    ({"rules": [{"name": "x", "query": 'grooming AND ("snapchat"'}]},
     "config.toml: alerts.rules[0].query: not a valid full-text query (syntax error near"),
    ({"rules": [{"name": "x", "query": "37% rise"}]},
     "config.toml: alerts.rules[0].query: not a valid full-text query (syntax error near \"%\"); put words with"
     " punctuation in double quotes, e.g. '\"37%\"'"),
    ({"rules": [{"name": "x", "query": "headline: Ofcom"}]},
     "config.toml: alerts.rules[0].query: not a valid full-text query (no such column: headline)"),
    ({"rules": [{"name": "x"}]},
     "config.toml: alerts.rules[0]: give at least one of topics, platforms, legislation, organisations or query"),
    ({"rules": [{"name": "Ofcom", "organisations": ["Ofcom"]}, {"name": "ofcom ", "query": "Ofcom"}]},
     "config.toml: alerts.rules[1].name: 'ofcom ' is already alerts.rules[0].name"),
    ({"rules": [{"name": "x", "platforms": ["snapchat"], "channel": "sms"}]},
     "config.toml: alerts.rules[0].channel: expected one of 'email', 'webhook', got str 'sms'"),
    ({"quiet_hours": "10pm-7am"}, 'config.toml: alerts.quiet_hours: must be two times of day as "HH:MM-HH:MM"'),
    ({"quiet_hours": "07:00-07:00"}, "config.toml: alerts.quiet_hours: the start and the end must differ"),
    ({"spike_sigma": 0}, "config.toml: alerts.spike_sigma: must be greater than 0"),
    ({"check_minutes": 0}, "config.toml: alerts.check_minutes: must be greater than 0"),
    ({"check_minutes": "often"}, "config.toml: alerts.check_minutes: expected a number, got str 'often'"),
    ({"webhook_url_env": "https://hooks.example/T0/secret"},
     "config.toml: alerts.webhook_url_env: must be the name of an environment variable"),
    ({"spike_window_hours": 24, "baseline_days": 1},
     "config.toml: alerts.baseline_days: must cover at least two spike windows (48 hours)"),
    ({"spikes": "yes"}, "config.toml: alerts.spikes: expected true or false, got str 'yes'"),
])
def test_mistakes_are_reported_with_their_dotted_key(alerts, expected):
    found = problems(alerts)
    assert len(found) == 1 and found[0].startswith(expected), found
