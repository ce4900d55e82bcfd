"""Configuration errors: one line per problem, naming the file and the dotted key;
exit status 2 and nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError

GOOD = """
[storage]
path = "{db}"

[http]
timeout = 20

[[feeds]]
name = "One"
url = "https://one.test/feed.xml"

[[feeds]]
name = "Two"
url = "https://two.test/feed.xml"
tags = ["uk"]

[[queries]]
name = "Sextortion"
terms = "sextortion"
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def test_the_shipped_example_config_is_valid():
    config = load_config(Path(__file__).resolve().parents[1] / "config.toml")
    assert config.storage.path == "db/monitor.db"
    assert len(config.feeds) >= 8 and len(config.queries) >= 8
    assert all(feed.url.startswith("https://") for feed in config.feeds)


def test_good_config_loads_into_typed_frozen_objects(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(GOOD.format(db=tmp_path / "x.db"), encoding="utf-8")
    config = load_config(path)
    assert config.http.timeout == 20.0 and isinstance(config.http.timeout, float)
    assert config.feeds[1].tags == ("uk",)
    assert config.queries[0].terms == "sextortion"
    with pytest.raises(Exception):
        config.http.timeout = 3  # type: ignore[misc]


def test_unknown_key_is_named_with_its_dotted_path(tmp_path):
    text = GOOD.format(db="x.db").replace('tags = ["uk"]', 'tags = ["uk"]\nurll = "https://x.test/"')
    assert problems(tmp_path, text) == [
        f"{tmp_path / 'config.toml'}: feeds[1].urll: unknown key (expected one of: interval_minutes, name, tags, url)"
    ]


def test_unknown_section_is_named(tmp_path):
    found = problems(tmp_path, GOOD.format(db="x.db") + "\n[htpp]\ntimeout = 3\n")
    assert len(found) == 1 and ": htpp: unknown key" in found[0]


def test_wrong_type_names_key_and_expected_type(tmp_path):
    text = GOOD.format(db="x.db").replace("timeout = 20", 'timeout = "20s"')
    assert problems(tmp_path, text) == [f"{tmp_path / 'config.toml'}: http.timeout: expected a number, got str '20s'"]


def test_wrong_type_inside_a_list(tmp_path):
    text = GOOD.format(db="x.db").replace('tags = ["uk"]', 'tags = ["uk", 3]')
    found = problems(tmp_path, text)
    assert len(found) == 1 and "feeds[1].tags[1]: expected a string" in found[0]


def test_missing_required_value(tmp_path):
    text = GOOD.format(db="x.db").replace('url = "https://two.test/feed.xml"\n', "")
    assert problems(tmp_path, text) == [f"{tmp_path / 'config.toml'}: feeds[1].url: missing required value (a string)"]


def test_bad_url(tmp_path):
    text = GOOD.format(db="x.db").replace("https://two.test/feed.xml", "ftp://two.test/feed.xml")
    assert problems(tmp_path, text) == [f"{tmp_path / 'config.toml'}: feeds[1].url: not an http(s) URL"]


def test_bad_value_and_every_problem_reported_at_once(tmp_path):
    text = GOOD.format(db="x.db").replace("timeout = 20", "timeout = -1\nconcurrency = 0")
    text = text.replace("https://one.test/feed.xml", "not a url")
    found = problems(tmp_path, text)
    assert [line.split(": ", 2)[1] for line in found] == ["http.timeout", "http.concurrency", "feeds[0].url"]


def test_duplicate_names(tmp_path):
    text = GOOD.format(db="x.db").replace('name = "Two"', 'name = "one!"')
    found = problems(tmp_path, text)
    assert len(found) == 1 and "feeds[1].name" in found[0] and "feeds[0].name" in found[0]


def test_invalid_toml_names_the_file_and_line(tmp_path):
    found = problems(tmp_path, "[http\ntimeout = 3\n")
    assert len(found) == 1 and found[0].startswith(f"{tmp_path / 'config.toml'}: invalid TOML") and "line 1" in found[0]


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml")
    assert "file not found" in str(caught.value)


def run_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=60)


def test_cli_config_error_exits_2_with_one_line_and_writes_nothing(tmp_path):
    db = tmp_path / "db" / "monitor.db"
    text = GOOD.format(db=db).replace("https://two.test/feed.xml", "two.test/feed.xml")
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    result = run_cli(["--config", "bad.toml", "collect"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: bad.toml: feeds[1].url: not an http(s) URL"]
    assert not db.exists() and not db.parent.exists()


def test_config_is_found_by_option_then_environment_then_working_directory(tmp_path):
    for name, db in (("config.toml", "cwd.db"), ("env.toml", "env.db"), ("opt.toml", "opt.db")):
        (tmp_path / name).write_text(f'[storage]\npath = "{tmp_path / db}"\n', encoding="utf-8")
    run_cli(["stats"], tmp_path)
    assert (tmp_path / "cwd.db").exists()
    run_cli(["stats"], tmp_path, {"MONITOR_CONFIG": "env.toml"})
    assert (tmp_path / "env.db").exists()
    run_cli(["--config", "opt.toml", "stats"], tmp_path, {"MONITOR_CONFIG": "env.toml"})
    assert (tmp_path / "opt.db").exists()


# --- [reddit] ---------------------------------------------------------------------------

REDDIT = """
[storage]
path = "{db}"

[reddit]
user_agent = "python:org.example.monitor:0.1 (by /u/campaign_bot)"
{extra}
[[reddit.subreddits]]
name = "Parenting"

[[reddit.subreddits]]
name = "teenagers"
tags = ["young people"]

[[reddit.searches]]
query = "grooming instagram"

[[reddit.searches]]
query = "Online Safety Act"
subreddit = "ukpolitics"
"""


def test_reddit_section_loads_with_its_defaults_and_becomes_sources(tmp_path):
    from monitor.sources import sources_from_config

    path = tmp_path / "config.toml"
    path.write_text(REDDIT.format(db=tmp_path / "x.db", extra=""), encoding="utf-8")
    config = load_config(path)
    reddit = config.reddit
    assert (reddit.client_id_env, reddit.client_secret_env) == ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET")
    assert (reddit.oauth_url, reddit.reddit_url) == ("https://oauth.reddit.com", "https://www.reddit.com")
    assert (reddit.include_nsfw, reddit.hash_authors, reddit.recheck_days) == (False, True, 7.0)
    assert reddit.searches[0].subreddit == "all"
    sources = {s.id: s for s in sources_from_config(config)}
    assert set(sources) == {"reddit_subreddit:parenting", "reddit_subreddit:teenagers",
                            "reddit_search:grooming-instagram-all", "reddit_search:online-safety-act-ukpolitics"}
    assert sources["reddit_subreddit:teenagers"].name == "r/teenagers"
    assert sources["reddit_subreddit:teenagers"].tags == ("young people",)
    assert sources["reddit_subreddit:parenting"].media == "reddit"
    search = sources["reddit_search:online-safety-act-ukpolitics"]
    assert search.url == "https://www.reddit.com/r/ukpolitics/search/?q=Online+Safety+Act&sort=new&restrict_sr=1"
    assert search.options == {"query": "Online Safety Act", "subreddit": "ukpolitics"}


@pytest.mark.parametrize("extra, expected", [
    ('include_nsfw = "no"', "reddit.include_nsfw: expected true or false, got str 'no'"),
    ("recheck_days = 0", "reddit.recheck_days: must be greater than 0"),
    ('client_id_env = "my id"', "reddit.client_id_env: must be the name of an environment variable (letters, digits, _)"),
    ('oauth_url = "oauth.reddit.com"', "reddit.oauth_url: not an http(s) URL"),
    ("client_secret = \"hunter2\"", "reddit.client_secret: unknown key (expected one of: client_id_env, "
                                    "client_secret_env, comments, comments_per_post, hash_authors, include_nsfw, "
                                    "oauth_url, recheck_days, reddit_url, searches, subreddits, user_agent)"),
])
def test_reddit_settings_are_checked_with_dotted_keys(tmp_path, extra, expected):
    assert problems(tmp_path, REDDIT.format(db=tmp_path / "x.db", extra=extra)) == [
        f"{tmp_path / 'config.toml'}: {expected}"]


def test_reddit_user_agent_must_be_in_reddits_form_and_is_required_with_sources(tmp_path):
    text = REDDIT.format(db=tmp_path / "x.db", extra="").replace(
        'user_agent = "python:org.example.monitor:0.1 (by /u/campaign_bot)"', 'user_agent = "monitor bot"')
    (problem,) = problems(tmp_path, text)
    assert problem.endswith("reddit.user_agent: must have Reddit's form '<platform>:<app id>:<version> (by /u/<name>)',"
                            " e.g. 'python:org.example.monitor:0.1 (by /u/your_account)'")
    text = REDDIT.format(db=tmp_path / "x.db", extra="").replace(
        'user_agent = "python:org.example.monitor:0.1 (by /u/campaign_bot)"', "")
    (problem,) = problems(tmp_path, text)
    assert ": reddit.user_agent: missing required value (Reddit requires a descriptive user agent" in problem


def test_subreddit_names_and_duplicates_are_checked(tmp_path):
    text = REDDIT.format(db=tmp_path / "x.db", extra="") + """
[[reddit.subreddits]]
name = "r/ukpolitics"

[[reddit.subreddits]]
name = "PARENTING"

[[reddit.subreddits]]
name = "no spaces please"

[[reddit.searches]]
query = "grooming, instagram!"
"""
    where = tmp_path / "config.toml"
    assert problems(tmp_path, text) == [
        f"{where}: reddit.subreddits[2].name: write the name without r/ (e.g. 'ukpolitics')",
        f"{where}: reddit.subreddits[4].name: not a subreddit name (2-21 letters, digits or _)",
    ]
    text = text.replace('name = "r/ukpolitics"', 'name = "ukpolitics"').replace(
        'name = "no spaces please"', 'name = "privacy"')
    assert problems(tmp_path, text) == [
        f"{where}: reddit.subreddits[3].name: the same source as reddit.subreddits[0].name (both would be"
        " 'reddit_subreddit:parenting': subreddit names are not case-sensitive)",
        f"{where}: reddit.searches[2]: the same source as reddit.searches[0] (both would be"
        " 'reddit_search:grooming-instagram-all': query and subreddit must differ in letters or digits)",
    ]


SOCIAL = """
[storage]
path = "{db}"

[hansard]
{hansard}

[[hansard.searches]]
query = "grooming"

[[hansard.searches]]
query = '"Online Safety Act"'

[mastodon]
{mastodon}

[[mastodon.hashtags]]
instance = "mastodon.social"
tag = "OnlineSafetyAct"

[[mastodon.hashtags]]
instance = "https://fosstodon.org/"
tag = "OnlineSafety"
tags = ["uk"]

[bluesky]
{bluesky}

[[bluesky.searches]]
query = "online grooming"
"""


def test_parliament_and_social_sections_load_with_their_defaults_and_become_sources(tmp_path):
    from monitor.sources import sources_from_config

    path = tmp_path / "config.toml"
    path.write_text(SOCIAL.format(db=tmp_path / "x.db", hansard="", mastodon="", bluesky=""), encoding="utf-8")
    config = load_config(path)
    assert config.hansard.api_url == "https://hansard-api.parliament.uk"
    assert (config.hansard.lookback_days, config.hansard.overlap_days) == (14, 3)
    assert (config.mastodon.include_sensitive, config.mastodon.hash_authors, config.mastodon.respect_opt_outs) == (
        False, True, True)
    assert config.bluesky.api_url == "https://bsky.social"
    assert (config.bluesky.handle_env, config.bluesky.app_password_env) == ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
    sources = {s.id: s for s in sources_from_config(config)}
    assert set(sources) == {"hansard:grooming", "hansard:online-safety-act", "mastodon:mastodon-social-onlinesafetyact",
                            "mastodon:fosstodon-org-onlinesafety", "bluesky:online-grooming"}
    assert [sources[i].media for i in sorted(sources)] == ["social", "parliament", "parliament", "social", "social"]
    toot = sources["mastodon:mastodon-social-onlinesafetyact"]
    assert toot.options == {"instance": "https://mastodon.social", "tag": "OnlineSafetyAct"}  # a bare host: https
    assert toot.name == "Mastodon #OnlineSafetyAct on mastodon.social"
    assert toot.url == "https://mastodon.social/tags/OnlineSafetyAct"
    assert sources["mastodon:fosstodon-org-onlinesafety"].tags == ("uk",)
    assert sources["hansard:online-safety-act"].url == (
        "https://hansard.parliament.uk/search/Contributions?searchTerm=%22Online+Safety+Act%22")
    assert sources["bluesky:online-grooming"].url == "https://bsky.app/search?q=online+grooming"


@pytest.mark.parametrize("section, line, expected", [
    ("hansard", "overlap_days = -1", "hansard.overlap_days: must be 0 or more"),
    ("hansard", 'api_url = "hansard-api.parliament.uk"', "hansard.api_url: not an http(s) URL"),
    ("mastodon", 'include_sensitive = "yes"', "mastodon.include_sensitive: expected true or false, got str 'yes'"),
    ("bluesky", 'app_password = "hunter2"', "bluesky.app_password: unknown key (expected one of: api_url, "
                                            "app_password_env, handle_env, hash_authors, include_sensitive, "
                                            "respect_opt_outs, searches, web_url)"),
    ("bluesky", 'handle_env = "my handle"',
     "bluesky.handle_env: must be the name of an environment variable (letters, digits, _)"),
])
def test_parliament_and_social_settings_are_checked_with_dotted_keys(tmp_path, section, line, expected):
    sections = {"hansard": "", "mastodon": "", "bluesky": ""}
    sections[section] = line
    text = SOCIAL.format(db=tmp_path / "x.db", **sections)
    assert problems(tmp_path, text) == [f"{tmp_path / 'config.toml'}: {expected}"]


def test_hashtags_instances_and_duplicate_searches_are_checked(tmp_path):
    text = SOCIAL.format(db=tmp_path / "x.db", hansard="", mastodon="", bluesky="") + """
[[mastodon.hashtags]]
instance = "ftp://mastodon.social"
tag = "#OnlineSafety"

[[mastodon.hashtags]]
instance = "mastodon.social"
tag = "online safety"
"""
    where = tmp_path / "config.toml"
    assert problems(tmp_path, text) == [
        f"{where}: mastodon.hashtags[2].instance: not an instance (a host name such as mastodon.social, or a base"
        " URL such as https://mastodon.social)",
        f"{where}: mastodon.hashtags[2].tag: write the tag without # (e.g. 'OnlineSafety')",
        f"{where}: mastodon.hashtags[3].tag: not a hashtag (letters, digits and _ only)",
    ]
    text = SOCIAL.format(db=tmp_path / "x.db", hansard="", mastodon="", bluesky="") + """
[[mastodon.hashtags]]
instance = "https://mastodon.social"
tag = "onlinesafetyact"

[[bluesky.searches]]
query = "Online grooming!"

[[hansard.searches]]
query = "GROOMING"
"""
    assert problems(tmp_path, text) == [
        f"{where}: hansard.searches[2]: the same source as hansard.searches[0] (both would be 'hansard:grooming':"
        " queries must differ in letters or digits)",
        f"{where}: mastodon.hashtags[2]: the same source as mastodon.hashtags[0] (both would be"
        " 'mastodon:mastodon-social-onlinesafetyact': the same hashtag on the same instance: tags must differ in"
        " letters or digits)",
        f"{where}: bluesky.searches[1]: the same source as bluesky.searches[0] (both would be"
        " 'bluesky:online-grooming': queries must differ in letters or digits)",
    ]


def test_every_source_gets_its_own_id_whatever_its_script(tmp_path):
    """Ids are checked once, over every kind of source: two entries that would share an id
    are an error at the second; names in other scripts get ids of their own."""
    from monitor.sources import sources_from_config

    text = SOCIAL.format(db=tmp_path / "x.db", hansard="", mastodon="", bluesky="") + """
[[mastodon.hashtags]]
instance = "mastodon.social"
tag = "Jugendschutz"

[[mastodon.hashtags]]
instance = "mastodon.social"
tag = "Jügendschutz"
"""
    where = tmp_path / "config.toml"
    assert problems(tmp_path, text) == [
        f"{where}: mastodon.hashtags[3]: the same source as mastodon.hashtags[2] (both would be"
        " 'mastodon:mastodon-social-jugendschutz': the same hashtag on the same instance: tags must differ in"
        " letters or digits)"]

    text = SOCIAL.format(db=tmp_path / "x.db", hansard="", mastodon="", bluesky="") + """
[[mastodon.hashtags]]
instance = "mastodon.social"
tag = "ЗащитаДетей"

[[mastodon.hashtags]]
instance = "mastodon.social"
tag = "ДетиВСети"

[[mastodon.hashtags]]
instance = "mastodon.social"
tag = "子どもの安全"

[[bluesky.searches]]
query = "защита детей"

[[feeds]]
name = "Новости"
url = "https://news.invented.test/rss"

[[feeds]]
name = "Ειδήσεις"
url = "https://news.invented.test/el/rss"
"""
    (where).write_text(text, encoding="utf-8")
    config = load_config(where)
    ids = [s.id for s in sources_from_config(config)]
    assert len(ids) == len(set(ids)) == 11
    social = [i for i in ids if i.startswith("mastodon:mastodon-social-")]
    assert len(social) == 4 and all(i.isascii() for i in ids)

    text += """
[[bluesky.searches]]
query = "Защита  ДЕТЕЙ!"
"""
    assert problems(tmp_path, text) == [
        f"{where}: bluesky.searches[2]: the same source as bluesky.searches[1] (both would be"
        f" {sources_from_config(config)[-1].id!r}: queries must differ in letters or digits)"]


HTTPS_ONLY = ("must be an https:// URL: credentials are sent to it (plain http only to 127.0.0.1, ::1 or"
              " localhost)")


@pytest.mark.parametrize("section, line, key", [
    ("reddit", 'oauth_url = "http://oauth.reddit.com"', "reddit.oauth_url"),
    ("reddit", 'reddit_url = "http://reddit.example.org:8080"', "reddit.reddit_url"),
    ("bluesky", 'api_url = "http://pds.example.org"', "bluesky.api_url"),
    ("bluesky", 'api_url = "http://10.0.0.5:2583"', "bluesky.api_url"),
])
def test_endpoints_sent_credentials_must_be_https(tmp_path, section, line, key):
    if section == "reddit":
        text = REDDIT.format(db=tmp_path / "x.db", extra=line + "\n")
    else:
        text = SOCIAL.format(db=tmp_path / "x.db", hansard="", mastodon="", bluesky=line)
    assert problems(tmp_path, text) == [f"{tmp_path / 'config.toml'}: {key}: {HTTPS_ONLY}"]


@pytest.mark.parametrize("host", ["127.0.0.1:8080", "[::1]:8080", "localhost:8080", "LOCALHOST"])
def test_plain_http_to_this_machine_is_allowed_for_tests_and_the_demo(tmp_path, host):
    text = REDDIT.format(db=tmp_path / "x.db", extra=f'oauth_url = "http://{host}"\nreddit_url = "http://{host}"\n')
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    assert load_config(tmp_path / "config.toml").reddit.oauth_url == f"http://{host}"
    text = SOCIAL.format(db=tmp_path / "x.db", hansard="", mastodon="", bluesky=f'api_url = "http://{host}"')
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    assert load_config(tmp_path / "config.toml").bluesky.api_url == f"http://{host}"
