"""The [digest] and [email] sections: defaults, and one clear line per mistake."""

from __future__ import annotations

import pytest

from monitor.config import config_from_dict
from monitor.errors import ConfigError


def problems(data):
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data, "config.toml")
    return caught.value.problems


def test_defaults_need_no_section():
    config = config_from_dict({}, "config.toml")
    assert (config.digest.time, config.digest.timezone, config.digest.archive_dir) == ("07:30", "Europe/London",
                                                                                        "db/archive")
    assert config.email.security == "starttls" and config.email.password_env == "MONITOR_SMTP_PASSWORD"


def test_each_mistake_is_one_line_naming_the_key():
    found = problems({
        "digest": {"time": "7.30am", "timezone": "Europe/Londres", "platform_topics": ["groming"], "chart": "pie",
                   "platform_media": ["tv"]},
        "email": {"port": "587", "recipients": ["campaigns at example.org"], "password_env": "my password",
                  "password": "hunter2"},
    })
    assert sorted(found) == sorted([
        "config.toml: digest.time: must be a time of day as HH:MM",
        "config.toml: digest.timezone: unknown time zone 'Europe/Londres'",
        "config.toml: digest.platform_topics: unknown topic 'groming' (topics: grooming, grooming_gangs, sextortion,"
        " csam, child_online_safety, legislation)",
        "config.toml: digest.chart: expected one of 'topics', 'platforms', got str 'pie'",
        "config.toml: digest.platform_media: unknown source type 'tv' (types: news, reddit, parliament, social)",
        "config.toml: email.port: expected an integer, got str '587'",
        "config.toml: email.recipients: not an email address: 'campaigns at example.org'",
        "config.toml: email.password_env: must be the name of an environment variable (letters, digits, _)",
        "config.toml: email.password: unknown key (expected one of: host, password_env, port, recipients, security,"
        " sender, timeout, username)",
    ])


def test_unencrypted_smtp_only_to_this_machine():
    assert problems({"email": {"host": "smtp.example.org", "security": "none"}}) == [
        'config.toml: email.security: "none" (no encryption) is only allowed with host = "127.0.0.1",'
        " not 'smtp.example.org'; use \"starttls\" or \"tls\""]
    assert config_from_dict({"email": {"host": "127.0.0.1", "security": "none"}}).email.security == "none"


def test_header_injection_in_an_address_is_refused():
    found = problems({"email": {"sender": "monitor@example.org\r\nBcc: all@example.org"}})
    assert found == ["config.toml: email.sender: not an email address: 'monitor@example.org\\r\\nBcc: all@example.org'"]
